// Public types of web-pubsub-native: the @azure/web-pubsub 1.2.0 surface, written for this package.
//
// The official typings import from @azure/core-auth, core-client, core-rest-pipeline and core-paging.
// This file declares the structural shapes it needs itself, so a TypeScript user installs nothing else,
// and values typed by those packages (a DefaultAzureCredential, an AzureKeyCredential, an OperationOptions,
// an HttpClient, an onResponse callback annotated with FullOperationResponse) are accepted unchanged.
// Nothing here names a Node or DOM global (Buffer, Blob, streams), so it compiles with `types: []` and no DOM lib.
// Those shapes are exported too, as are RestError, isRestError and AbortError, which index.js also exports.

// ---------------------------------------------------------------------------------------------------------
// Cancellation and tracing
// ---------------------------------------------------------------------------------------------------------

/** What an operation needs from an abort signal; the global `AbortSignal` fits. */
export interface AbortSignalLike {
  /** True once the operation should stop. */
  readonly aborted: boolean;
  /** Subscribe to the abort event. */
  addEventListener(
    type: "abort",
    listener: (this: AbortSignalLike, ev: any) => any,
    options?: any,
  ): void;
  /** Unsubscribe from the abort event. */
  removeEventListener(
    type: "abort",
    listener: (this: AbortSignalLike, ev: any) => any,
    options?: any,
  ): void;
}

/** An immutable key/value bag carried across calls by a tracer. */
export interface TracingContext {
  /** A copy of this context with `key` set. */
  setValue(key: symbol, value: unknown): TracingContext;
  /** The value stored under `key`, if any. */
  getValue(key: symbol): unknown;
  /** A copy of this context without `key`. */
  deleteValue(key: symbol): TracingContext;
}

/** Tracing settings of one operation. */
export interface OperationTracingOptions {
  /** The parent context of the spans this operation creates. */
  tracingContext?: TracingContext;
}

// ---------------------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------------------

/** HTTP request methods. */
export type HttpMethods = "GET" | "PUT" | "POST" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" | "TRACE";

/** Options a token credential receives with each `getToken` call. */
export interface GetTokenOptions {
  /** Cancels the token request. */
  abortSignal?: AbortSignalLike;
  /** Per-request HTTP settings. */
  requestOptions?: {
    /** Milliseconds before the token request gives up. */
    timeout?: number;
  };
  /** Tracing settings of the token request. */
  tracingOptions?: {
    /** The parent tracing context. */
    tracingContext?: TracingContext;
  };
  /** Extra claims asked for by a claims challenge. */
  claims?: string;
  /** Ask for a token that supports continuous access evaluation. */
  enableCae?: boolean;
  /** The tenant to get the token from. */
  tenantId?: string;
  /** Settings for a proof-of-possession token. */
  proofOfPossessionOptions?: {
    /** The server nonce. */
    nonce: string;
    /** The method of the request the token will sign. */
    resourceRequestMethod: HttpMethods;
    /** The URL of the request the token will sign. */
    resourceRequestUrl: string;
  };
}

/** A bearer (or proof-of-possession) token and when it expires. */
export interface AccessToken {
  /** The token itself. */
  token: string;
  /** Expiry, in milliseconds since the Unix epoch. */
  expiresOnTimestamp: number;
  /** When to fetch a fresh token, in milliseconds since the Unix epoch. */
  refreshAfterTimestamp?: number;
  /** The kind of token; bearer when absent. */
  tokenType?: "Bearer" | "pop";
}

/** Anything that can produce Microsoft Entra ID tokens, such as the credentials of @azure/identity. */
export interface TokenCredential {
  /** Get a token for `scopes`, or null when none is available. */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null>;
}

/** A credential holding a static key. */
export interface KeyCredential {
  /** The key. */
  readonly key: string;
}

/**
 * An access key of the Web PubSub resource; `update` swaps the key used by later requests.
 * At run time this is @azure/core-auth's class when that package is installed.
 */
export declare class AzureKeyCredential implements KeyCredential {
  /** Wraps `key`; throws when it is empty. */
  constructor(key: string);
  /** The key in use. */
  get key(): string;
  /** Replace the key, for example after rotating it. */
  update(newKey: string): void;
}

// ---------------------------------------------------------------------------------------------------------
// HTTP shapes seen by options and callbacks
// ---------------------------------------------------------------------------------------------------------

/** Header names mapped to values. */
export type RawHttpHeaders = { [headerName: string]: string };

/** Header names mapped to values that are turned into strings. */
export type RawHttpHeadersInput = Record<string, string | number | boolean>;

/** A case-insensitive header collection. */
export interface HttpHeaders extends Iterable<[string, string]> {
  /** The value of `name`, if present. */
  get(name: string): string | undefined;
  /** Whether `name` is present. */
  has(name: string): boolean;
  /** Set `name`, replacing any earlier value. */
  set(name: string, value: string | number | boolean): void;
  /** Remove `name`. */
  delete(name: string): void;
  /** A plain object of the headers; names are lower-cased unless `preserveCase` is set. */
  toJSON(options?: { preserveCase?: boolean }): RawHttpHeaders;
}

/** Progress of an upload or download. */
export type TransferProgressEvent = {
  /** Bytes moved so far. */
  loadedBytes: number;
};

/** An HTTP(S) proxy. */
export interface ProxySettings {
  /** Proxy URL or host name. */
  host: string;
  /** Proxy port. */
  port: number;
  /** User name for proxy authentication. */
  username?: string;
  /** Password for proxy authentication. */
  password?: string;
}

/** A private key with an optional passphrase. */
export interface KeyObject {
  /** PEM-encoded key. */
  pem: string | Uint8Array;
  /** Passphrase of the key. */
  passphrase?: string | undefined;
}

/** A PFX/PKCS12 bundle with an optional passphrase. */
export interface PxfObject {
  /** The bundle. */
  buf: string | Uint8Array;
  /** Passphrase of the bundle. */
  passphrase?: string | undefined;
}

/** TLS settings; a Node `Buffer` is accepted wherever `Uint8Array` is. */
export interface TlsSettings {
  /** Trusted CA certificates. */
  ca?: string | Uint8Array | Array<string | Uint8Array> | undefined;
  /** Client certificate chains. */
  cert?: string | Uint8Array | Array<string | Uint8Array> | undefined;
  /** Client private keys. */
  key?: string | Uint8Array | Array<Uint8Array | KeyObject> | undefined;
  /** Shared passphrase of the keys or PFX. */
  passphrase?: string | undefined;
  /** PFX/PKCS12 encoded key and certificate chain. */
  pfx?: string | Uint8Array | Array<string | Uint8Array | PxfObject> | undefined;
}

/** Same shape as {@link TlsSettings}. */
export interface CertificateCredential extends TlsSettings {}

/** The parts of a Node http.Agent the pipeline uses. */
export interface Agent {
  /** Close all sockets. */
  destroy(): void;
  /** Idle sockets kept per host. */
  maxFreeSockets: number;
  /** Concurrent sockets per host. */
  maxSockets: number;
  /** Queued requests. */
  requests: unknown;
  /** Sockets in use. */
  sockets: unknown;
}

/**
 * An outgoing HTTP request as shown to callbacks, HTTP clients and policies.
 * Body and TLS members of the core-rest-pipeline type are left out: their types name Node and DOM globals.
 */
export interface PipelineRequest {
  /** Full request URL. */
  url: string;
  /** HTTP method. */
  method: HttpMethods;
  /** Request headers. */
  headers: HttpHeaders;
  /** Milliseconds before the request is abandoned; 0 for none. */
  timeout: number;
  /** Whether browsers send cookies/credentials. */
  withCredentials: boolean;
  /** Unique id of this request. */
  requestId: string;
  /** Statuses whose body is returned as a stream. */
  streamResponseStatusCodes?: Set<number>;
  /** Proxy for this request. */
  proxySettings?: ProxySettings;
  /** Open a new connection instead of reusing one. */
  disableKeepAlive?: boolean;
  /** Cancels the request. */
  abortSignal?: AbortSignalLike;
  /** Tracing settings. */
  tracingOptions?: OperationTracingOptions;
  /** Upload progress callback. */
  onUploadProgress?: (progress: TransferProgressEvent) => void;
  /** Download progress callback. */
  onDownloadProgress?: (progress: TransferProgressEvent) => void;
  /** Allow plain http:// URLs. */
  allowInsecureConnection?: boolean;
  /** Custom Node agent. */
  agent?: Agent;
  /** Browsers: return bodies as streams. */
  enableBrowserStreams?: boolean;
  /** Extra settings passed to the underlying HTTP implementation. */
  requestOverrides?: Record<string, unknown>;
}

/** An HTTP response as shown to callbacks, HTTP clients and policies; stream bodies left out as in PipelineRequest. */
export interface PipelineResponse {
  /** The request that produced this response. */
  request: PipelineRequest;
  /** HTTP status code. */
  status: number;
  /** Response headers. */
  headers: HttpHeaders;
  /** Response body as text, when it was read. */
  bodyAsText?: string | null;
}

/** Sends one request and resolves with its response. */
export type SendRequest = (request: PipelineRequest) => Promise<PipelineResponse>;

/** A pluggable HTTP transport. */
export interface HttpClient {
  /** Send a request. */
  sendRequest: SendRequest;
}

/** A step of an HTTP pipeline. */
export interface PipelinePolicy {
  /** Unique policy name. */
  name: string;
  /** Handle `request`, calling `next` to continue down the pipeline. */
  sendRequest(request: PipelineRequest, next: SendRequest): Promise<PipelineResponse>;
}

/** A policy added to the client's pipeline. */
export interface AdditionalPolicyConfig {
  /** The policy. */
  policy: PipelinePolicy;
  /** Run once per call, or once per attempt (retry). */
  position: "perCall" | "perRetry";
}

/** Retry settings (exponential back-off). */
export interface PipelineRetryOptions {
  /** Retries after the first attempt. */
  maxRetries?: number;
  /** Base delay in milliseconds. */
  retryDelayInMs?: number;
  /** Delay cap in milliseconds. */
  maxRetryDelayInMs?: number;
}

/** Redirect settings. */
export interface RedirectPolicyOptions {
  /** Redirects to follow. */
  maxRetries?: number;
  /** Follow redirects to other origins. */
  allowCrossOriginRedirects?: boolean;
}

/** User-Agent settings. */
export interface UserAgentPolicyOptions {
  /** Text put in front of the SDK's User-Agent. */
  userAgentPrefix?: string;
}

/** Telemetry settings. */
export interface TelemetryOptions {
  /** Header carrying the client request id. */
  clientRequestIdHeaderName?: string;
}

/** HTTP pipeline settings shared by Azure clients. */
export interface PipelineOptions {
  /** Retry settings. */
  retryOptions?: PipelineRetryOptions;
  /** Proxy settings. */
  proxyOptions?: ProxySettings;
  /** Custom Node agent. */
  agent?: Agent;
  /** TLS settings. */
  tlsOptions?: TlsSettings;
  /** Redirect settings. */
  redirectOptions?: RedirectPolicyOptions;
  /** User-Agent settings. */
  userAgentOptions?: UserAgentPolicyOptions;
  /** Telemetry settings. */
  telemetryOptions?: TelemetryOptions;
}

/** Client construction options shared by Azure clients. */
export interface CommonClientOptions extends PipelineOptions {
  /** Custom HTTP transport. */
  httpClient?: HttpClient;
  /** Allow plain http:// endpoints. */
  allowInsecureConnection?: boolean;
  /** Extra pipeline policies. */
  additionalPolicies?: AdditionalPolicyConfig[];
}

// ---------------------------------------------------------------------------------------------------------
// Operation options, responses and errors
// ---------------------------------------------------------------------------------------------------------

/** A response with parsed parts, handed to `onResponse`. */
export interface FullOperationResponse extends PipelineResponse {
  /** Headers parsed by the operation's mapper. */
  parsedHeaders?: { [key: string]: unknown };
  /** Body parsed as JSON, when it is JSON. */
  parsedBody?: any;
  /** The request that produced this response. */
  request: PipelineRequest;
}

/** Called with every response of an operation, including failed ones (then `error` is set). */
export type RawResponseCallback = (
  rawResponse: FullOperationResponse,
  flatResponse: unknown,
  error?: unknown,
) => void;

/** XML serializer settings. */
export interface XmlOptions {
  /** Name of the root element. */
  rootName?: string;
  /** Whether the root element is included. */
  includeRoot?: boolean;
  /** Key under which element text is stored. */
  xmlCharKey?: string;
}

/** Serializer settings. */
export interface SerializerOptions {
  /** XML settings. */
  xml: XmlOptions;
  /** Drop properties the mapper does not know. */
  ignoreUnknownProperties?: boolean;
}

/** HTTP settings of one operation. */
export interface OperationRequestOptions {
  /** Extra request headers. */
  customHeaders?: { [key: string]: string };
  /** Milliseconds before the request is abandoned. */
  timeout?: number;
  /** Upload progress callback. */
  onUploadProgress?: (progress: TransferProgressEvent) => void;
  /** Download progress callback. */
  onDownloadProgress?: (progress: TransferProgressEvent) => void;
  /** Whether the response body is deserialized. */
  shouldDeserialize?: boolean | ((response: PipelineResponse) => boolean);
  /** Allow a plain http:// URL for this request. */
  allowInsecureConnection?: boolean;
}

/** Options every operation accepts. */
export interface OperationOptions {
  /** Cancels the operation. */
  abortSignal?: AbortSignalLike;
  /** HTTP settings. */
  requestOptions?: OperationRequestOptions;
  /** Tracing settings. */
  tracingOptions?: OperationTracingOptions;
  /** Serializer settings. */
  serializerOptions?: SerializerOptions;
  /** Called with each raw response. */
  onResponse?: RawResponseCallback;
}

/** Fields of a new {@link RestError}. */
export interface RestErrorOptions {
  /** Error code. */
  code?: string;
  /** HTTP status. */
  statusCode?: number;
  /** The request that failed. */
  request?: PipelineRequest;
  /** The response, when one arrived. */
  response?: PipelineResponse;
}

/**
 * The error operations reject with when the service answers with an unexpected status or cannot be reached.
 * At run time this is @azure/core-rest-pipeline's class when that package is installed, so `instanceof` works
 * with either import. Not exported by @azure/web-pubsub itself.
 */
export interface RestError extends Error {
  /** Error code, e.g. `REQUEST_SEND_ERROR` or the service's code. */
  code?: string;
  /** HTTP status, when a response arrived. */
  statusCode?: number;
  /** The request that failed. */
  request?: PipelineRequest;
  /** The response, when one arrived. */
  response?: PipelineResponse;
  /** Parsed error body, when the service sent one. */
  details?: unknown;
}

/** The {@link RestError} class. */
export interface RestErrorConstructor {
  /** `code` of errors raised because the request could not be sent. */
  readonly REQUEST_SEND_ERROR: string;
  /** `code` of errors raised because the response could not be parsed. */
  readonly PARSE_ERROR: string;
  /** Instances' prototype. */
  readonly prototype: RestError;
  /** A new error with `message` and the given fields. */
  new (message: string, options?: RestErrorOptions): RestError;
}

/** See the {@link RestError} interface. */
export declare const RestError: RestErrorConstructor;

/** Whether `e` is a {@link RestError} (also one made by another copy of the class). */
export declare function isRestError(e: unknown): e is RestError;

/**
 * The error operations reject with when their `abortSignal` fires. At run time this is @azure/abort-controller's
 * class when that package is installed. Not exported by @azure/web-pubsub itself.
 */
export declare class AbortError extends Error {
  constructor(message?: string);
}

// ---------------------------------------------------------------------------------------------------------
// Paging
// ---------------------------------------------------------------------------------------------------------

/** Where a page-by-page iteration starts and how big pages are. */
export interface PageSettings {
  /** Token from a previous page; omit to start at the beginning. */
  continuationToken?: string;
  /** Upper bound on items per page. */
  maxPageSize?: number;
}

/** Iterates items one by one (`for await`), or page by page through `byPage`. */
export interface PagedAsyncIterableIterator<TElement, TPage = TElement[], TPageSettings = PageSettings> {
  /** The next item. */
  next(): Promise<IteratorResult<TElement>>;
  /** This iterator. */
  [Symbol.asyncIterator](): PagedAsyncIterableIterator<TElement, TPage, TPageSettings>;
  /** Iterate whole pages instead. */
  byPage: (settings?: TPageSettings) => AsyncIterableIterator<TPage>;
}

// ---------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------

/** Values sent as JSON (`application/json`) when no text content type is given. */
export type JSONTypes = string | number | boolean | object;

/** A readable Node stream, e.g. `fs.createReadStream(...)`. */
export interface NodeReadableStreamLike {
  /** Whether data can still be read. */
  readable: boolean;
  /** Read buffered data. */
  read(size?: number): unknown;
  /** Subscribe to a stream event. */
  on(event: string | symbol, listener: (...args: any[]) => void): unknown;
}

/** A WHATWG `ReadableStream`. */
export interface WebReadableStreamLike<R = any> {
  /** Whether a reader holds the stream. */
  readonly locked: boolean;
  /** Acquire a reader. */
  getReader(): { read(): Promise<{ done: boolean; value?: R | undefined }>; releaseLock(): void };
  /** Cancel the stream. */
  cancel(reason?: any): Promise<void>;
}

/** A `Blob` or `File`. */
export interface BlobLike {
  /** Size in bytes. */
  readonly size: number;
  /** MIME type. */
  readonly type: string;
  /** The contents. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A `FormData`. */
export interface FormDataLike {
  /** Add a field. */
  append(name: string, value: any, fileName?: string): void;
  /** Whether a field is present. */
  has(name: string): boolean;
}

/**
 * Binary request bodies, sent as `application/octet-stream` when they are an `ArrayBuffer`, a typed array or
 * `DataView`, a `Blob`, or a function returning a stream. Other objects are sent as JSON.
 */
export type RequestBodyType =
  | NodeReadableStreamLike
  | (() => NodeReadableStreamLike)
  | WebReadableStreamLike<Uint8Array>
  | (() => WebReadableStreamLike<Uint8Array>)
  | BlobLike
  | ArrayBuffer
  | ArrayBufferView
  | FormDataLike
  | string
  | null;

// ---------------------------------------------------------------------------------------------------------
// Hub options
// ---------------------------------------------------------------------------------------------------------

/** Options for {@link WebPubSubServiceClient.closeConnection}. */
export interface HubCloseConnectionOptions extends OperationOptions {
  /** Reason delivered to the client. */
  reason?: string;
}

/** Options for {@link WebPubSubServiceClient.closeAllConnections}. */
export interface HubCloseAllConnectionsOptions extends OperationOptions {
  /** Reason delivered to the clients. */
  reason?: string;
}

/** Options for {@link WebPubSubServiceClient.closeUserConnections}. */
export interface HubCloseUserConnectionsOptions extends OperationOptions {
  /** Reason delivered to the clients. */
  reason?: string;
}

/** Options for broadcasting to a hub. */
export interface HubSendToAllOptions extends OperationOptions {
  /** Connections that do not get the message. */
  excludedConnections?: string[];
  /** OData filter selecting the receiving connections, e.g. `userId ne 'bob'`; see {@link odata}. */
  filter?: string;
  /** Seconds (0–300) the service keeps trying to deliver; 0 means no expiry. */
  messageTtlSeconds?: number;
}

/** Options for broadcasting plain text to a hub. */
export interface HubSendTextToAllOptions extends HubSendToAllOptions {
  /** Send the string as text instead of JSON. */
  contentType: "text/plain";
}

/** Logging settings of the client. */
export interface WebPubSubServiceClientLogOptions {
  /** Header names whose values are logged instead of redacted. */
  additionalAllowedHeaderNames?: string[];
  /** Query parameter names whose values are logged instead of redacted. */
  additionalAllowedQueryParameters?: string[];
}

/** Options for constructing a {@link WebPubSubServiceClient}. */
export interface WebPubSubServiceClientOptions extends CommonClientOptions {
  /** Send requests to this endpoint (e.g. Azure API Management) instead of the service's. */
  reverseProxyEndpoint?: string;
  /** Logging settings. */
  loggingOptions?: WebPubSubServiceClientLogOptions;
}

/** Options for {@link WebPubSubServiceClient.connectionExists}. */
export interface HasConnectionOptions extends OperationOptions {}

/** Options for {@link WebPubSubServiceClient.groupExists}. */
export interface HubHasGroupOptions extends OperationOptions {}

/** Options for {@link WebPubSubServiceClient.userExists}. */
export interface HubHasUserOptions extends OperationOptions {}

/** Options for {@link WebPubSubServiceClient.removeUserFromAllGroups}. */
export interface HubRemoveUserFromAllGroupsOptions extends HubCloseConnectionOptions {}

/** Options for sending to one connection. */
export interface HubSendToConnectionOptions extends OperationOptions {
  /** Seconds (0–300) the service keeps trying to deliver; 0 means no expiry. */
  messageTtlSeconds?: number;
}

/** Options for sending plain text to one connection. */
export interface HubSendTextToConnectionOptions extends HubSendToConnectionOptions {
  /** Send the string as text instead of JSON. */
  contentType: "text/plain";
}

/** Options for sending to every connection of a user. */
export interface HubSendToUserOptions extends OperationOptions {
  /** OData filter narrowing the user's connections, e.g. `'vip' in groups`; see {@link odata}. */
  filter?: string;
  /** Seconds (0–300) the service keeps trying to deliver; 0 means no expiry. */
  messageTtlSeconds?: number;
}

/** Options for sending plain text to a user. */
export interface HubSendTextToUserOptions extends HubSendToUserOptions {
  /** Send the string as text instead of JSON. */
  contentType: "text/plain";
}

/** A permission that can be granted to a connection. */
export type Permission = "joinLeaveGroup" | "sendToGroup";

/** Options for {@link WebPubSubServiceClient.grantPermission}. */
export interface HubGrantPermissionOptions extends OperationOptions {
  /** The group the permission applies to; all groups when absent. */
  targetName?: string;
}

/** Options for {@link WebPubSubServiceClient.revokePermission}. */
export interface HubRevokePermissionOptions extends OperationOptions {
  /** The group the permission applies to; all groups when absent. */
  targetName?: string;
}

/** Options for {@link WebPubSubServiceClient.hasPermission}. */
export interface HubHasPermissionOptions extends OperationOptions {
  /** The group the permission applies to; any group when absent. */
  targetName?: string;
}

/** The kind of client a token is made for; it selects the client URL path. */
export type WebPubSubClientProtocol = "default" | "mqtt" | "socketio";

/** Options for {@link WebPubSubServiceClient.getClientAccessToken}. */
export interface GenerateClientTokenOptions extends OperationOptions {
  /** User id the connection is bound to. */
  userId?: string;
  /** Initial roles, e.g. `webpubsub.joinLeaveGroup` or `webpubsub.sendToGroup.<group>`. */
  roles?: string[];
  /** Token lifetime in minutes (60 when absent). */
  expirationTimeInMinutes?: number;
  /** Groups the connection joins on connect. */
  groups?: string[];
  /** Client kind; `default` when absent. */
  clientProtocol?: WebPubSubClientProtocol;
}

/** A client access token with the URLs to connect with. */
export interface ClientTokenResponse {
  /** The JWT. */
  token: string;
  /** The WebSocket URL without the token. */
  baseUrl: string;
  /** The WebSocket URL with `access_token` in its query. */
  url: string;
}

// ---------------------------------------------------------------------------------------------------------
// Group options
// ---------------------------------------------------------------------------------------------------------

/** Options for constructing a group client. */
export interface GroupAdminClientOptions extends CommonClientOptions {}

/** Options for {@link WebPubSubGroup.addConnection} and {@link WebPubSubServiceClient.addConnectionsToGroups}. */
export interface GroupAddConnectionOptions extends OperationOptions {}

/** Options for {@link WebPubSubGroup.addUser}. */
export interface GroupAddUserOptions extends OperationOptions {}

/** Options of a user-in-group check; exported for parity, no method of 1.2.0 takes them. */
export interface GroupHasUserOptions extends OperationOptions {}

/** Options for {@link WebPubSubGroup.removeUser}. */
export interface GroupRemoveUserOptions extends OperationOptions {}

/**
 * Options for {@link WebPubSubGroup.removeConnection} and {@link WebPubSubServiceClient.removeConnectionsFromGroups}.
 */
export interface GroupRemoveConnectionOptions extends OperationOptions {}

/** Options for broadcasting to a group. */
export interface GroupSendToAllOptions extends OperationOptions {
  /** Connections that do not get the message. */
  excludedConnections?: string[];
  /** OData filter selecting the receiving connections; see {@link odata}. */
  filter?: string;
  /** Seconds (0–300) the service keeps trying to deliver; 0 means no expiry. */
  messageTtlSeconds?: number;
}

/** Options for broadcasting plain text to a group. */
export interface GroupSendTextToAllOptions extends GroupSendToAllOptions {
  /** Send the string as text instead of JSON. */
  contentType: "text/plain";
}

/** Options for {@link WebPubSubGroup.closeAllConnections}. */
export interface GroupCloseAllConnectionsOptions extends OperationOptions {
  /** Reason delivered to the clients. */
  reason?: string;
}

/** A connection that is in a group. */
export interface WebPubSubGroupMember {
  /** The connection id. */
  connectionId: string;
  /** The user the connection belongs to, if any. */
  userId?: string;
}

/** Options for {@link WebPubSubGroup.listConnections}. */
export interface GroupListConnectionsOptions extends OperationOptions {
  /** Connections per page (1–200). */
  maxPageSize?: number;
  /** Stop after this many connections; all when absent. */
  top?: number;
  /** Resume from a page token returned earlier. */
  continuationToken?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------------------

/** Manages one group of a hub. Get one from {@link WebPubSubServiceClient.group}. */
export interface WebPubSubGroup {
  /** The group name. */
  readonly groupName: string;
  /** The hub the group is in. */
  readonly hubName: string;
  /** REST API version sent with requests. */
  readonly apiVersion: string;
  /** The service endpoint. */
  readonly endpoint: string;

  /** Add a connection to the group. */
  addConnection(connectionId: string, options?: GroupAddConnectionOptions): Promise<void>;
  /** Remove a connection from the group. */
  removeConnection(connectionId: string, options?: GroupRemoveConnectionOptions): Promise<void>;
  /** Close every connection in the group. */
  closeAllConnections(options?: GroupCloseAllConnectionsOptions): Promise<void>;
  /** Add a user (its connections) to the group. */
  addUser(username: string, options?: GroupAddUserOptions): Promise<void>;
  /** Remove a user from the group. */
  removeUser(username: string, options?: GroupRemoveUserOptions): Promise<void>;

  /** Send a string as plain text to the group. */
  sendToAll(message: string, options: GroupSendTextToAllOptions): Promise<void>;
  /** Send a value as JSON to the group. */
  sendToAll(message: JSONTypes, options?: GroupSendToAllOptions): Promise<void>;
  /** Send binary data to the group. */
  sendToAll(message: RequestBodyType, options?: GroupSendToAllOptions): Promise<void>;

  /** The connections in the group; resolves to an iterator of members that can also go page by page. */
  listConnections(options?: GroupListConnectionsOptions): Promise<PagedAsyncIterableIterator<WebPubSubGroupMember>>;
}

/** Client of one hub of a Web PubSub service. */
export declare class WebPubSubServiceClient {
  /** The hub name. */
  readonly hubName: string;
  /** REST API version sent with requests. */
  readonly apiVersion: string;
  /** The service endpoint. */
  endpoint: string;

  /** Connect with a connection string (`Endpoint=...;AccessKey=...;Version=1.0;`). */
  constructor(connectionString: string, hubName: string, options?: WebPubSubServiceClientOptions);
  /** Connect to `endpoint` with an access key or a Microsoft Entra ID token credential. */
  constructor(
    endpoint: string,
    credential: AzureKeyCredential | TokenCredential,
    hubName: string,
    options?: WebPubSubServiceClientOptions,
  );

  /** A client for one group of this hub (no request is made). */
  group(groupName: string): WebPubSubGroup;

  /** Broadcast a string as plain text. */
  sendToAll(message: string, options: HubSendTextToAllOptions): Promise<void>;
  /** Broadcast a value as JSON. */
  sendToAll(message: JSONTypes, options?: HubSendToAllOptions): Promise<void>;
  /** Broadcast binary data. */
  sendToAll(message: RequestBodyType, options?: HubSendToAllOptions): Promise<void>;

  /** Send a string as plain text to every connection of a user. */
  sendToUser(username: string, message: string, options: HubSendTextToUserOptions): Promise<void>;
  /** Send a value as JSON to every connection of a user. */
  sendToUser(username: string, message: JSONTypes, options?: HubSendToUserOptions): Promise<void>;
  /** Send binary data to every connection of a user. */
  sendToUser(
    username: string,
    message: RequestBodyType,
    options?: HubSendToUserOptions | HubSendTextToUserOptions,
  ): Promise<void>;

  /** Send a string as plain text to one connection. */
  sendToConnection(connectionId: string, message: string, options: HubSendTextToConnectionOptions): Promise<void>;
  /** Send a value as JSON to one connection. */
  sendToConnection(connectionId: string, message: JSONTypes, options?: HubSendToConnectionOptions): Promise<void>;
  /** Send binary data to one connection. */
  sendToConnection(
    connectionId: string,
    message: RequestBodyType,
    options?: HubSendToConnectionOptions | HubSendTextToConnectionOptions,
  ): Promise<void>;

  /** Whether the connection is currently open on this hub. */
  connectionExists(connectionId: string, options?: HasConnectionOptions): Promise<boolean>;
  /** Close one connection. */
  closeConnection(connectionId: string, options?: HubCloseConnectionOptions): Promise<void>;
  /** Close every connection of the hub. */
  closeAllConnections(options?: HubCloseAllConnectionsOptions): Promise<void>;
  /** Close every connection of a user. */
  closeUserConnections(userId: string, options?: HubCloseUserConnectionsOptions): Promise<void>;
  /** Remove a user from every group. */
  removeUserFromAllGroups(userId: string, options?: HubCloseConnectionOptions): Promise<void>;
  /** Remove a connection from every group. */
  removeConnectionFromAllGroups(connectionId: string, options?: HubCloseConnectionOptions): Promise<void>;
  /** Add the connections matching an OData `filter` to each of `groups`. */
  addConnectionsToGroups(groups: string[], filter: string, options?: GroupAddConnectionOptions): Promise<void>;
  /** Remove the connections matching an OData `filter` from each of `groups`. */
  removeConnectionsFromGroups(groups: string[], filter: string, options?: GroupRemoveConnectionOptions): Promise<void>;
  /** Whether the group has any connection. */
  groupExists(groupName: string, options?: HubHasGroupOptions): Promise<boolean>;
  /** Whether the user has any connection. */
  userExists(username: string, options?: HubHasUserOptions): Promise<boolean>;
  /** Grant a permission to a connection. */
  grantPermission(connectionId: string, permission: Permission, options?: HubGrantPermissionOptions): Promise<void>;
  /** Revoke a permission from a connection. */
  revokePermission(connectionId: string, permission: Permission, options?: HubRevokePermissionOptions): Promise<void>;
  /** Whether a connection has a permission. */
  hasPermission(connectionId: string, permission: Permission, options?: HubHasPermissionOptions): Promise<boolean>;
  /** Make a client access token and the URL a WebSocket client connects to. */
  getClientAccessToken(options?: GenerateClientTokenOptions): Promise<ClientTokenResponse>;
}

/**
 * Template tag that builds an OData filter: string values become quoted literals with `'` doubled,
 * `null`/`undefined` become `null`, other values are inserted as they are.
 *
 * @example odata`userId eq ${name} or length(userId) gt ${n}`
 */
export declare function odata(strings: TemplateStringsArray, ...values: unknown[]): string;
