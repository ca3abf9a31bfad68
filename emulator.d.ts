/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** Port to bind; 0 picks a free port. Default 8080. */
  port?: number;
  /** Address to bind: an IP address or `localhost` (also binds [::1] when available). Default `127.0.0.1`. */
  host?: string;
  /** Key that signs tokens: at least 32 bytes, no `;`, no control characters, no surrounding spaces.
   * Default: the official emulator's public key. */
  accessKey?: string;
  /** Event handlers per hub: client events are delivered to them as CloudEvents over HTTP, like the service does. */
  hubs?: Record<string, EmulatorHubSettings>;
  /** A JSON settings file with the event handlers: `{"hubs": {...}}` as in `hubs`, or the official emulator's
   * `{"WebPubSub": {"Hubs": ...}}`. Not together with `hubs`. */
  settingsFile?: string;
  /** Event handlers in the command line's form: `hub=NAME;url=TEMPLATE[;events=connect,connected][;user=PATTERN]`. */
  eventHandlers?: string[];
  /** Serve HTTPS and WSS: `true` generates a self-signed certificate for localhost, 127.0.0.1 and ::1
   * (read it from {@link Emulator.certificate}); or give a certificate chain and its private key (PEM). */
  tls?: boolean | { cert: string | Uint8Array; key: string | Uint8Array };
  /** Accept any unexpired bearer token whose audience is `https://webpubsub.azure.com` without checking its
   * signature, so server SDKs using a TokenCredential (which needs `tls`) can talk to the emulator. */
  allowUnvalidatedEntraTokens?: boolean;
  /** Live-trace records kept for followers that attach later (the page, {@link Emulator.trace}). Default 2000. */
  traceCapacity?: number;
  /** Bytes of messages that may wait for one client; a client past it is closed (1008, `SlowClient`) and its
   * queue freed. Default 16 MiB. */
  maxQueuedBytes?: number;
  /** How long one write may wait for a client to read; a client past it is closed (1008, `SlowClient`).
   * Default 30,000 ms. */
  writeTimeoutMs?: number;
  /** TCP connections served at once (WebSocket clients and HTTP requests alike). Past it, and whenever the process
   * runs out of file descriptors, the oldest connection that has not sent a byte yet is closed to make room; with
   * none such, a new connection is refused with 503. Default 100,000. */
  maxConnections?: number;
}

/** The settings of one hub. */
export interface EmulatorHubSettings {
  /** Handlers in order; the first one matching an event receives it. */
  eventHandlers?: EmulatorEventHandler[];
}

/** One event handler. */
export interface EmulatorEventHandler {
  /** Handler URL; may contain `{hub}` and `{event}` (not in the host), e.g.
   * `http://localhost:3000/api/webpubsub/hubs/{hub}/` for `@azure/web-pubsub-express`. */
  urlTemplate: string;
  /** User events to receive: `*`, one name, or a comma list (case-insensitive). Default: none. */
  userEventPattern?: string;
  /** System events to receive. */
  systemEvents?: Array<"connect" | "connected" | "disconnected">;
  /** Group presence events to receive (`azure.webpubsub.gp.joined` / `left`, body `{ "group": ... }`), as the
   * service configures them; `@azure/web-pubsub-express` 1.1 calls `onGroupJoined` / `onGroupLeft` for them. */
  groupPresenceEvents?: {
    eventNames: Array<"joined" | "left">;
    /** Only these groups: patterns in the wildcard syntax of group roles (`room-*`, `team.**`). Default: all. */
    groupFilters?: string[];
  };
}

/** A running emulator. */
export interface Emulator {
  /** `Endpoint=http(s)://<host>:<port>;AccessKey=<key>;Version=1.0;` for `WebPubSubServiceClient`
   * (pass `{ allowInsecureConnection: true }` when the endpoint is plain http). */
  readonly connectionString: string;
  /** `http://<host>:<port>`, or `https://` when serving TLS. */
  readonly endpoint: string;
  /** The served certificate (PEM) when started with `tls`; clients must trust it
   * (e.g. write it to a file named by `NODE_EXTRA_CA_CERTS`). */
  readonly certificate?: string;
  /** The bound port (the chosen one when started with port 0). */
  readonly port: number;
  readonly host: string;
  /** The live-trace page, with a token (valid for a day) that lets it read the trace: open it in a browser. */
  readonly liveTraceUrl: string;
  /** Follows the live trace from the records kept now on, optionally only some categories or one hub. */
  trace(options?: TraceOptions): TraceFollower;
  /** A snapshot of every hub. */
  inspect(): Promise<HubSnapshot[]>;
  /** A snapshot of one hub (case-insensitive); `undefined` when no client ever connected to it. */
  inspect(hub: string): Promise<HubSnapshot | undefined>;
  /** Stops the emulator: closes WebSocket clients with 1001 and frees the port. */
  close(): Promise<void>;
}

/** The live trace's categories, as the service's live trace has them. */
export type TraceCategory = "connectivity" | "messaging" | "http";

export interface TraceOptions {
  categories?: TraceCategory[];
  hub?: string;
}

/** The headers and body preview (first 2 KiB) of one side of an HTTP call; tokens and signatures redacted. */
export interface TraceHttpSide {
  headers: Array<[string, string]>;
  body: string;
  bodyBytes: number;
}

/** One thing that happened in the emulator. */
export interface TraceRecord {
  /** Increases by one per record, from 1. */
  sequence: number;
  /** Milliseconds since the Unix epoch. */
  time: number;
  category: TraceCategory;
  level: "Information" | "Warning" | "Error";
  /** `ConnectionStarted`, `ConnectionEnded`, `ConnectionAborted`, `ConnectionRejected`, `ConnectionRecovered`,
   * `GroupJoined`, `GroupLeft`, `GroupMessageSent`, `BroadcastMessageSent`, `UserMessageSent`,
   * `ConnectionMessageSent`, `MessageExpired`, `PermissionDenied`, `StreamStarted`, `StreamEnded`, `RestApiCall`,
   * `EventHandlerCall`. */
  event: string;
  message: string;
  exception?: string;
  hub?: string;
  connectionId?: string;
  userId?: string;
  ip?: string;
  subprotocol?: string;
  group?: string;
  /** The group stream a `StreamStarted` / `StreamEnded` record is about. */
  streamId?: string;
  /** How many connections a message reached (one record per send, however many). */
  recipients?: number;
  contentType?: string;
  size?: number;
  route?: string;
  method?: string;
  url?: string;
  traceId?: string;
  statusCode?: number;
  durationMs?: number;
  detail?: { request: TraceHttpSide; response?: TraceHttpSide };
}

/** Records skipped because the follower did not keep up. */
export interface TraceGap {
  missed: number;
}

/** An async iterator of the live trace; `close()` ends it. */
export interface TraceFollower extends AsyncIterableIterator<TraceRecord | TraceGap> {
  close(): Promise<IteratorResult<TraceRecord | TraceGap>>;
}

export interface ConnectionSnapshot {
  connectionId: string;
  userId: string | null;
  /** `null` for raw WebSocket clients. */
  subprotocol: string | null;
  roles: string[];
  groups: string[];
}

export interface HubSnapshot {
  /** Lower-cased. */
  name: string;
  connections: ConnectionSnapshot[];
  /** Group name to member connection ids. */
  groups: Record<string, string[]>;
  /** User id to connection ids. */
  users: Record<string, string[]>;
}

/** Starts a local Web PubSub emulator (REST API and WebSocket client endpoint) in this process. */
export declare function startEmulator(options?: EmulatorOptions): Promise<Emulator>;
