// RFC 7591 with openid-client's dynamicClientRegistration: register with an initial access
// token, print the registration. Usage: node register.mjs '<json: issuer, initial_token, metadata>'
import * as client from "openid-client";

const config = JSON.parse(process.argv[2]);
const registered = await client.dynamicClientRegistration(new URL(config.issuer), config.metadata, undefined,
  { initialAccessToken: config.initial_token, execute: [client.allowInsecureRequests] });
console.log(JSON.stringify(registered.clientMetadata()));
