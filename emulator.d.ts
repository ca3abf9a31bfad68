/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** Port to bind; 0 picks a free port. Default 8080. */
  port?: number;
  /** Address to bind: an IP address or `localhost` (also binds [::1] when available). Default `127.0.0.1`. */
  host?: string;
  /** Key that signs tokens: at least 32 bytes, no `;`, no control characters, no surrounding spaces.
   * Default: the official emulator's public key. */
  accessKey?: string;
}

/** A running emulator. */
export interface Emulator {
  /** `Endpoint=http://<host>:<port>;AccessKey=<key>;Version=1.0;` for `WebPubSubServiceClient`
   * (pass `{ allowInsecureConnection: true }`, the endpoint is plain http). */
  readonly connectionString: string;
  /** `http://<host>:<port>`. */
  readonly endpoint: string;
  /** The bound port (the chosen one when started with port 0). */
  readonly port: number;
  readonly host: string;
  /** Stops the emulator: closes WebSocket clients with 1001 and frees the port. */
  close(): Promise<void>;
}

/** Starts a local Web PubSub emulator (REST API and WebSocket client endpoint) in this process. */
export declare function startEmulator(options?: EmulatorOptions): Promise<Emulator>;
