// A minimal SPA on oidc-client-ts: the integration guide's example (docs/integration-spa.md).
// CONFIG (authority, client_id) comes from /config.js. Each action leaves its outcome in #result.
const manager = new oidc.UserManager({
  authority: CONFIG.authority,
  client_id: CONFIG.client_id,            // a public client: token_endpoint_auth_method "none"
  redirect_uri: location.origin + "/callback.html",
  post_logout_redirect_uri: location.origin + "/",
  response_type: "code",                  // PKCE S256 is oidc-client-ts's default
  scope: "openid profile email offline_access",
  // DPoP (RFC 9449): a non-extractable key in IndexedDB signs a proof for every token request;
  // oidc-client-ts's own userinfo call sends the token as Bearer, so with DPoP the app calls it
  loadUserInfo: !CONFIG.dpop,             // a cross-origin GET /userinfo with the access token
  dpop: CONFIG.dpop ? { store: new oidc.IndexedDbDPoPStore() } : undefined,
  revokeTokenTypes: ["refresh_token"],
  userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }),
});

async function userinfo() {
  const user = await manager.getUser();
  const url = CONFIG.authority + "/userinfo";
  const headers = { Authorization: `${user.token_type} ${user.access_token}` };
  if (CONFIG.dpop) headers.DPoP = await manager.dpopProof(url, user, "GET");
  const answer = await fetch(url, { headers });
  return { status: answer.status, body: await answer.json() };
}

function show(outcome) {
  document.getElementById("result").textContent = JSON.stringify(outcome);
}

function summary(user) {
  return { profile: user.profile, access_token: user.access_token, refresh_token: user.refresh_token,
           id_token: user.id_token, scope: user.scope, token_type: user.token_type };
}

window.app = {
  signIn: () => manager.signinRedirect({ state: { from: "test" } }),
  refresh: async () => summary(await manager.signinSilent()),  // the refresh_token grant, cross-origin
  revoke: () => manager.revokeTokens(),
  signOut: () => manager.signoutRedirect(),
  user: async () => { const user = await manager.getUser(); return user && summary(user); },
  userinfo,
};

document.addEventListener("DOMContentLoaded", async () => {
  if (location.pathname === "/callback.html") {
    try {
      show({ signed_in: summary(await manager.signinRedirectCallback()) });
    } catch (error) {
      show({ error: String(error) });
    }
  }
});
