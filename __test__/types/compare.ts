// Our declarations next to the official ones: the same exported names, the same members in every interface,
// and types that are assignable to each other (only official -> ours where the official type is nominal).
import type * as Official from "@azure/web-pubsub";
import type * as Ours from "web-pubsub-native";
import type { AbortError as CoreAbortError, AbortSignalLike } from "@azure/abort-controller";
import type * as CoreAuth from "@azure/core-auth";
import type * as CoreClient from "@azure/core-client";
import type * as CorePaging from "@azure/core-paging";
import type * as CorePipeline from "@azure/core-rest-pipeline";
import type {
  RequestBodyType as CoreRequestBodyType,
  RestError as CoreRestError,
  isRestError as coreIsRestError,
} from "@azure/core-rest-pipeline";

type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type Assignable<From, To> = [From] extends [To] ? true : false;
type Mutual<A, B> = Assignable<A, B> extends true ? Assignable<B, A> : false;
/** Same members, and each member's type assignable both ways. */
type Same<A, B> = SameKeys<A, B> extends true ? Mutual<A, B> : false;
type Check<T extends true> = T;

// Value exports: all of the official ones, plus the error classes of the core packages.
export type Values = [
  Check<Assignable<keyof typeof Official, keyof typeof Ours>>,
  Check<Mutual<Exclude<keyof typeof Ours, keyof typeof Official>, "RestError" | "AbortError" | "isRestError">>,
  Check<SameKeys<CoreRestError, Ours.RestError>>,
  Check<Mutual<CoreRestError, Ours.RestError>>,
  Check<Mutual<typeof CoreRestError, typeof Ours.RestError>>,
  Check<Mutual<typeof coreIsRestError, typeof Ours.isRestError>>,
  Check<SameKeys<CoreAbortError, Ours.AbortError>>,
  Check<Mutual<CoreAbortError, Ours.AbortError>>,
  Check<Mutual<typeof CoreAbortError, typeof Ours.AbortError>>,
];

// Interfaces and aliases that must match in both directions.
export type Interfaces = [
  Check<Same<Official.ClientTokenResponse, Ours.ClientTokenResponse>>,
  Check<Same<Official.GenerateClientTokenOptions, Ours.GenerateClientTokenOptions>>,
  Check<Same<Official.GroupAddConnectionOptions, Ours.GroupAddConnectionOptions>>,
  Check<Same<Official.GroupAddUserOptions, Ours.GroupAddUserOptions>>,
  Check<Same<Official.GroupCloseAllConnectionsOptions, Ours.GroupCloseAllConnectionsOptions>>,
  Check<Same<Official.GroupHasUserOptions, Ours.GroupHasUserOptions>>,
  Check<Same<Official.GroupListConnectionsOptions, Ours.GroupListConnectionsOptions>>,
  Check<Same<Official.GroupRemoveConnectionOptions, Ours.GroupRemoveConnectionOptions>>,
  Check<Same<Official.GroupRemoveUserOptions, Ours.GroupRemoveUserOptions>>,
  Check<Same<Official.GroupSendTextToAllOptions, Ours.GroupSendTextToAllOptions>>,
  Check<Same<Official.GroupSendToAllOptions, Ours.GroupSendToAllOptions>>,
  Check<Same<Official.HasConnectionOptions, Ours.HasConnectionOptions>>,
  Check<Same<Official.HubCloseAllConnectionsOptions, Ours.HubCloseAllConnectionsOptions>>,
  Check<Same<Official.HubCloseConnectionOptions, Ours.HubCloseConnectionOptions>>,
  Check<Same<Official.HubCloseUserConnectionsOptions, Ours.HubCloseUserConnectionsOptions>>,
  Check<Same<Official.HubGrantPermissionOptions, Ours.HubGrantPermissionOptions>>,
  Check<Same<Official.HubHasGroupOptions, Ours.HubHasGroupOptions>>,
  Check<Same<Official.HubHasPermissionOptions, Ours.HubHasPermissionOptions>>,
  Check<Same<Official.HubHasUserOptions, Ours.HubHasUserOptions>>,
  Check<Same<Official.HubRemoveUserFromAllGroupsOptions, Ours.HubRemoveUserFromAllGroupsOptions>>,
  Check<Same<Official.HubRevokePermissionOptions, Ours.HubRevokePermissionOptions>>,
  Check<Same<Official.HubSendTextToAllOptions, Ours.HubSendTextToAllOptions>>,
  Check<Same<Official.HubSendTextToConnectionOptions, Ours.HubSendTextToConnectionOptions>>,
  Check<Same<Official.HubSendTextToUserOptions, Ours.HubSendTextToUserOptions>>,
  Check<Same<Official.HubSendToAllOptions, Ours.HubSendToAllOptions>>,
  Check<Same<Official.HubSendToConnectionOptions, Ours.HubSendToConnectionOptions>>,
  Check<Same<Official.HubSendToUserOptions, Ours.HubSendToUserOptions>>,
  Check<Same<Official.WebPubSubGroupMember, Ours.WebPubSubGroupMember>>,
  Check<Same<Official.WebPubSubServiceClientLogOptions, Ours.WebPubSubServiceClientLogOptions>>,
  Check<Same<Official.WebPubSubGroup, Ours.WebPubSubGroup>>,
  Check<Mutual<Official.JSONTypes, Ours.JSONTypes>>,
  Check<Mutual<Official.Permission, Ours.Permission>>,
  Check<Mutual<Official.WebPubSubClientProtocol, Ours.WebPubSubClientProtocol>>,
];

// Client options: the same members; official -> ours only, because TLS buffers are `Uint8Array` here,
// not Node's `Buffer`.
export type ClientOptions = [
  Check<SameKeys<Official.WebPubSubServiceClientOptions, Ours.WebPubSubServiceClientOptions>>,
  Check<Assignable<Official.WebPubSubServiceClientOptions, Ours.WebPubSubServiceClientOptions>>,
  Check<SameKeys<Official.GroupAdminClientOptions, Ours.GroupAdminClientOptions>>,
  Check<Assignable<Official.GroupAdminClientOptions, Ours.GroupAdminClientOptions>>,
];

// Classes: the same public members; the official classes have private fields, so they are nominal and only
// official -> ours can hold.
export type Classes = [
  Check<SameKeys<Official.WebPubSubServiceClient, Ours.WebPubSubServiceClient>>,
  Check<Assignable<Official.WebPubSubServiceClient, Ours.WebPubSubServiceClient>>,
  Check<Assignable<typeof Official.WebPubSubServiceClient, typeof Ours.WebPubSubServiceClient>>,
  Check<SameKeys<Official.AzureKeyCredential, Ours.AzureKeyCredential>>,
  Check<Assignable<Official.AzureKeyCredential, Ours.AzureKeyCredential>>,
  Check<Mutual<typeof Official.odata, typeof Ours.odata>>,
];

// Every method, overload by overload: ours accepts every argument list the official one accepts, the official one
// accepts ours (after ToOfficial), and the
// results are the same. The API has at most three overloads per method; fewer are repeated to fill the three.
type Overloads<F> = F extends {
  (...args: infer A1): infer R1;
  (...args: infer A2): infer R2;
  (...args: infer A3): infer R3;
}
  ? [[A1, R1], [A2, R2], [A3, R3]]
  : never;
/** Our types that official signatures cannot take, because theirs name Node/DOM globals or are nominal classes. */
type ToOfficial<T> =
  Mutual<T, Ours.RequestBodyType> extends true
    ? CoreRequestBodyType
    : Mutual<T, Ours.AzureKeyCredential | Ours.TokenCredential> extends true
      ? ConstructorParameters<typeof Official.WebPubSubServiceClient>[1]
      : Mutual<Exclude<T, undefined>, Ours.WebPubSubServiceClientOptions> extends true
        ? Official.WebPubSubServiceClientOptions
        : T;
type ToOfficialArgs<L> = {
  [I in keyof L]: L[I] extends [infer A, ...infer Rest] ? [{ [J in keyof A]: ToOfficial<A[J]> }, ...Rest] : never;
};
type SameSignatures<O, N> = [
  Assignable<Overloads<O>, Overloads<N>>,
  Assignable<ToOfficialArgs<Overloads<N>>, Overloads<O>>,
] extends [true, true]
  ? true
  : false;
type Methods<C> = { [K in keyof C as C[K] extends (...args: never[]) => unknown ? K : never]: C[K] };
type SameMethods<O, N> = { [K in keyof Methods<O>]: K extends keyof N ? SameSignatures<O[K], N[K]> : false };
type AllTrue<T extends Record<string, true>> = T;

export type ClientMethods = AllTrue<SameMethods<Official.WebPubSubServiceClient, Ours.WebPubSubServiceClient>>;
export type GroupMethods = AllTrue<SameMethods<Official.WebPubSubGroup, Ours.WebPubSubGroup>>;

// Constructors: the argument lists as above; the instances are compared by `Classes`.
type ConstructOverloads<C> = C extends { new (...args: infer A1): unknown; new (...args: infer A2): unknown }
  ? [[A1], [A2]]
  : never;
type OfficialConstructors = ConstructOverloads<typeof Official.WebPubSubServiceClient>;
type OurConstructors = ConstructOverloads<typeof Ours.WebPubSubServiceClient>;
export type Constructors = [
  Check<Assignable<OfficialConstructors, OurConstructors>>,
  Check<Assignable<ToOfficialArgs<OurConstructors>, OfficialConstructors>>,
];

// The core-package shapes declared here, next to the packages' own.
export type CoreShapes = [
  Check<Same<CoreAuth.AccessToken, Ours.AccessToken>>,
  Check<Same<CoreAuth.GetTokenOptions, Ours.GetTokenOptions>>,
  Check<Same<CoreAuth.TokenCredential, Ours.TokenCredential>>,
  Check<Same<CoreAuth.KeyCredential, Ours.KeyCredential>>,
  Check<Same<CoreAuth.TracingContext, Ours.TracingContext>>,
  Check<Same<AbortSignalLike, Ours.AbortSignalLike>>,
  Check<Same<CoreClient.OperationOptions, Ours.OperationOptions>>,
  Check<Same<CoreClient.OperationRequestOptions, Ours.OperationRequestOptions>>,
  Check<Same<CoreClient.SerializerOptions, Ours.SerializerOptions>>,
  Check<Mutual<CoreClient.RawResponseCallback, Ours.RawResponseCallback>>,
  Check<Same<CorePaging.PageSettings, Ours.PageSettings>>,
  Check<Same<CorePaging.PagedAsyncIterableIterator<string>, Ours.PagedAsyncIterableIterator<string>>>,
  Check<Same<CorePipeline.HttpHeaders, Ours.HttpHeaders>>,
  Check<Same<CorePipeline.ProxySettings, Ours.ProxySettings>>,
  Check<Same<CorePipeline.PipelineRetryOptions, Ours.PipelineRetryOptions>>,
  Check<Same<CorePipeline.Agent, Ours.Agent>>,
  Check<Same<CorePipeline.HttpClient, Ours.HttpClient>>,
  Check<Same<CorePipeline.PipelinePolicy, Ours.PipelinePolicy>>,
  Check<Same<CorePipeline.RestErrorOptions, Ours.RestErrorOptions>>,
  // Client options and TLS settings: official -> ours (Node's Buffer is a Uint8Array, not the other way round).
  Check<SameKeys<CoreClient.CommonClientOptions, Ours.CommonClientOptions>>,
  Check<Assignable<CoreClient.CommonClientOptions, Ours.CommonClientOptions>>,
  Check<SameKeys<CorePipeline.TlsSettings, Ours.TlsSettings>>,
  Check<Assignable<CorePipeline.TlsSettings, Ours.TlsSettings>>,
  // Requests and responses leave out exactly the members whose types name Node or DOM globals, and still
  // flow both ways.
  Check<
    Mutual<
      Exclude<keyof CorePipeline.PipelineRequest, keyof Ours.PipelineRequest>,
      "body" | "multipartBody" | "formData" | "tlsSettings"
    >
  >,
  Check<Assignable<keyof Ours.PipelineRequest, keyof CorePipeline.PipelineRequest>>,
  Check<Mutual<CorePipeline.PipelineRequest, Ours.PipelineRequest>>,
  Check<
    Mutual<
      Exclude<keyof CorePipeline.PipelineResponse, keyof Ours.PipelineResponse>,
      "blobBody" | "browserStreamBody" | "readableStreamBody"
    >
  >,
  Check<Assignable<keyof Ours.PipelineResponse, keyof CorePipeline.PipelineResponse>>,
  Check<Mutual<CorePipeline.PipelineResponse, Ours.PipelineResponse>>,
  Check<
    Mutual<
      Exclude<keyof CoreClient.FullOperationResponse, keyof Ours.FullOperationResponse>,
      "blobBody" | "browserStreamBody" | "readableStreamBody"
    >
  >,
  Check<Mutual<CoreClient.FullOperationResponse, Ours.FullOperationResponse>>,
];
