// A relying party on openid-client (panva's, certified for FAPI 2.0): discovery, PAR, the code
// grant, userinfo and a refresh, every token request and userinfo call with a DPoP proof.
// Usage: node rp.mjs '<json config>'; prints {"authorize": url}, reads the callback URL on
// stdin, then prints what it obtained. Config: issuer, client_id, redirect_uri, scope,
// auth ("private_key_jwt" with private_jwk and assertion_alg, default RS256; or "none"),
// id_token_alg (default RS256), par (default true).
import * as client from "openid-client";
import * as jose from "jose";
import * as readline from "node:readline";

const config = JSON.parse(process.argv[2]);
const line = () => new Promise((resolve) => {
  const input = readline.createInterface({ input: process.stdin });
  input.once("line", (value) => { input.close(); resolve(value); });
});

const auth = config.auth === "private_key_jwt"
  ? client.PrivateKeyJwt(await jose.importJWK(config.private_jwk, config.assertion_alg || "RS256"))
  : client.None();
const metadata = { redirect_uris: [config.redirect_uri], token_endpoint_auth_method: config.auth,
                   id_token_signed_response_alg: config.id_token_alg || "RS256" };
const server = await client.discovery(new URL(config.issuer), config.client_id, metadata, auth,
                                      { execute: [client.allowInsecureRequests] });  // http on loopback
const dpop = client.getDPoPHandle(server, await client.randomDPoPKeyPair("ES256"));
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const parameters = { redirect_uri: config.redirect_uri, scope: config.scope, state,
                     code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256" };
const url = config.par === false
  ? client.buildAuthorizationUrl(server, parameters)
  : await client.buildAuthorizationUrlWithPAR(server, parameters, { DPoP: dpop });
console.log(JSON.stringify({ authorize: url.href }));
const callback = new URL(await line());
const tokens = await client.authorizationCodeGrant(server, callback, { pkceCodeVerifier: verifier, expectedState: state },
                                                   undefined, { DPoP: dpop });
const userinfo = await client.fetchUserInfo(server, tokens.access_token, tokens.claims().sub, { DPoP: dpop });
const refreshed = await client.refreshTokenGrant(server, tokens.refresh_token, undefined, { DPoP: dpop });
console.log(JSON.stringify({ token_type: tokens.token_type, access_token: tokens.access_token,
                             refresh_token: refreshed.refresh_token, refreshed_token_type: refreshed.token_type,
                             refreshed_access_token: refreshed.access_token, userinfo }));
