// Values typed by the @azure/core-* packages flow into the "@azure/web-pubsub" API, and what the API hands back
// flows into the core types. Compiled against the official typings and against ours (same configs as usage.ts).
import { AzureKeyCredential as CoreAzureKeyCredential } from "@azure/core-auth";
import type { AccessToken, GetTokenOptions, KeyCredential, TokenCredential } from "@azure/core-auth";
import type {
  CommonClientOptions,
  FullOperationResponse,
  OperationOptions,
  RawResponseCallback,
} from "@azure/core-client";
import type { PagedAsyncIterableIterator, PageSettings } from "@azure/core-paging";
import {
  createDefaultHttpClient,
  createHttpHeaders,
  exponentialRetryPolicy,
  type HttpClient,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import {
  AzureKeyCredential,
  WebPubSubServiceClient,
  type GenerateClientTokenOptions,
  type HubSendToAllOptions,
  type WebPubSubGroupMember,
  type WebPubSubServiceClientOptions,
} from "@azure/web-pubsub";

const endpoint = "https://example.webpubsub.azure.com";

/** Shaped like an @azure/identity credential: a class with private state implementing core-auth's TokenCredential. */
class IdentityLikeCredential implements TokenCredential {
  private cached: AccessToken | undefined;
  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    void [scopes, options?.abortSignal, options?.tenantId, options?.claims, options?.enableCae];
    this.cached ??= { token: "t", expiresOnTimestamp: Date.now() + 3_600_000, tokenType: "Bearer" };
    return this.cached;
  }
}

function credentialsFromCore(): WebPubSubServiceClient[] {
  const coreKey = new CoreAzureKeyCredential("key");
  const tokenCredential: TokenCredential = new IdentityLikeCredential();
  const either: CoreAzureKeyCredential | TokenCredential = Math.random() > 0.5 ? coreKey : tokenCredential;
  return [
    new WebPubSubServiceClient(endpoint, coreKey, "hub"),
    new WebPubSubServiceClient(endpoint, new IdentityLikeCredential(), "hub"),
    new WebPubSubServiceClient(endpoint, tokenCredential, "hub"),
    new WebPubSubServiceClient(endpoint, either, "hub"),
  ];
}

/** The package's AzureKeyCredential is a core-auth KeyCredential; its token credential type is core-auth's. */
function credentialsToCore(): [KeyCredential, TokenCredential] {
  type CredentialParameter = ConstructorParameters<typeof WebPubSubServiceClient>[1];
  type TokenCredentialParameter = Exclude<CredentialParameter, AzureKeyCredential | string>;
  const fromPackage: TokenCredentialParameter = new IdentityLikeCredential();
  return [new AzureKeyCredential("key"), fromPackage];
}

function clientOptionsFromCore(): WebPubSubServiceClient {
  const stampPolicy: PipelinePolicy = {
    name: "stamp",
    sendRequest: (request: PipelineRequest, next) => {
      request.headers.set("x-stamp", "1");
      return next(request);
    },
  };
  const httpClient: HttpClient = createDefaultHttpClient();
  const common: CommonClientOptions = {
    httpClient,
    allowInsecureConnection: true,
    additionalPolicies: [
      { policy: stampPolicy, position: "perCall" },
      { policy: exponentialRetryPolicy({ maxRetries: 1 }), position: "perRetry" },
    ],
    retryOptions: { maxRetries: 1 },
    proxyOptions: { host: "http://proxy", port: 3128 },
    userAgentOptions: { userAgentPrefix: "app" },
    tlsOptions: { ca: Buffer.from("ca"), pfx: [{ buf: Buffer.from("pfx"), passphrase: "p" }] },
  };
  const options: WebPubSubServiceClientOptions = { ...common, reverseProxyEndpoint: "https://apim.example.com" };
  new WebPubSubServiceClient("Endpoint=https://example.webpubsub.azure.com;AccessKey=k;Version=1.0;", "hub", common);
  return new WebPubSubServiceClient(endpoint, new CoreAzureKeyCredential("k"), "hub", options);
}

async function operationOptionsFromCore(client: WebPubSubServiceClient): Promise<void> {
  const seen: FullOperationResponse[] = [];
  const callback: RawResponseCallback = (raw, flat, error) => {
    seen.push(raw);
    void [flat, error];
  };
  const core: OperationOptions = {
    abortSignal: AbortSignal.timeout(1_000),
    requestOptions: {
      customHeaders: { a: "b" },
      timeout: 10,
      shouldDeserialize: (r: PipelineResponse) => r.status < 300,
    },
    tracingOptions: {},
    onResponse: callback,
  };
  await client.sendToAll({ a: 1 }, core);
  await client.sendToUser("user", "hi", { ...core, contentType: "text/plain" });
  await client.group("g").addUser("user", core);
  await client.getClientAccessToken(core);

  // A callback annotated with core-client's response type is accepted, and the response we get is one.
  await client.closeAllConnections({ onResponse: (raw: FullOperationResponse) => void raw.request.url });
  await client.userExists("user", {
    onResponse: (raw) => {
      const full: FullOperationResponse = raw;
      const plain: PipelineResponse = raw;
      const request: PipelineRequest = raw.request;
      seen.push(full);
      void [plain, request];
    },
  });

  // Our option objects are core-client OperationOptions.
  const ours: HubSendToAllOptions = { filter: "x", onResponse: (raw) => void raw.status };
  const asCore: OperationOptions = ours;
  const tokenOptions: GenerateClientTokenOptions = { userId: "u" };
  const tokenAsCore: OperationOptions = tokenOptions;
  void [asCore, tokenAsCore, createHttpHeaders({ a: "b" })];
}

async function pagingWithCore(client: WebPubSubServiceClient): Promise<WebPubSubGroupMember[]> {
  const iterator: PagedAsyncIterableIterator<WebPubSubGroupMember> = await client.group("g").listConnections();
  const settings: PageSettings = { maxPageSize: 10 };
  const members: WebPubSubGroupMember[] = [];
  for await (const page of iterator.byPage(settings)) members.push(...page);
  return members;
}

export { credentialsFromCore, credentialsToCore, clientOptionsFromCore, operationOptionsFromCore, pagingWithCore };
