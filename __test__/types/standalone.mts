// The same check through the "import" condition of the package's "exports".
import { WebPubSubServiceClient, type ClientTokenResponse } from "web-pubsub-native";

const client = new WebPubSubServiceClient("Endpoint=https://example.webpubsub.azure.com;AccessKey=k;Version=1.0;", "hub");
export const token: Promise<ClientTokenResponse> = client.getClientAccessToken({ clientProtocol: "socketio" });
