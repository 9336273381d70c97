// A third-party OpenID provider for the federation tests: node-oidc-provider (npm "oidc-provider"),
// configured as an eIDAS-level identity provider with two citizens, started on loopback.
// Environment: PORT, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT_REDIRECT_URI. Prints "listening" when ready.
// Optional: STANDARD_ONLY=1 (an ordinary OP: only OIDC's standard claims, no "birth" scope, no
// FranceConnect birth place or country), NO_ACR=1 (the ID token states no acr),
// BACKCHANNEL_LOGOUT_URI (back-channel logout enabled, the IdP registered for it with its sid).
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

// Angela has the same pivot identity as at the sandbox providers (spelt differently): one account.
const accounts = {
  'angela.dubois': {
    password: 'Node-Op-Pass-1',
    claims: {
      given_name: 'Angéla Claire-Louise', family_name: 'Dubois', birthdate: '1962-08-24', gender: 'female',
      birthplace: '75107', birthcountry: '99100', email: 'angela@node-op.example', email_verified: false,
    },
  },
  'marc.leroy': {
    password: 'Node-Op-Pass-2',
    claims: {
      given_name: 'Marc', family_name: 'Leroy', birthdate: '1988-02-29', gender: 'male',
      birthplace: '69123', birthcountry: '99100', email: 'marc.leroy@node-op.example', email_verified: true,
    },
  },
};
const standardOnly = process.env.STANDARD_ONLY === '1';
if (standardOnly) {
  for (const account of Object.values(accounts)) {
    delete account.claims.birthplace;
    delete account.claims.birthcountry;
    delete account.claims.birthdate;
    delete account.claims.gender;
  }
}
const backchannelLogoutUri = process.env.BACKCHANNEL_LOGOUT_URI;
const subjects = { 'angela.dubois': 'node-sub-angela', 'marc.leroy': 'node-sub-marc' };
const bySubject = Object.fromEntries(Object.entries(subjects).map(([login, sub]) => [sub, accounts[login]]));

const configuration = {
  clients: [{
    client_id: 'civic-idp',
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    post_logout_redirect_uris: [process.env.POST_LOGOUT_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...(backchannelLogoutUri
      ? { backchannel_logout_uri: backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
  }],
  pkce: { required: () => true },
  // Its outgoing requests (the back-channel logout) go to the IdP on loopback, which the default
  // SSRF guard (a dispatcher refusing special-use addresses) would refuse: this test OP drops it.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  scopes: standardOnly ? ['openid', 'profile', 'email'] : ['openid', 'profile', 'email', 'birth'],
  claims: {
    openid: ['sub'],
    acr: null,
    amr: null,
    profile: ['given_name', 'family_name', 'birthdate', 'gender'],
    email: ['email', 'email_verified'],
    ...(standardOnly ? {} : { birth: ['birthplace', 'birthcountry'] }),
  },
  acrValues: ['eidas1', 'eidas2', 'eidas3'],
  cookies: { keys: ['federation-test-cookie-key'] },
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: Boolean(backchannelLogoutUri) },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = `<!doctype html><html><body><h1>Sign out</h1>${form.replace('</form>',
          '<input type="hidden" name="logout" value="yes"><button type="submit">Sign out</button></form>')}</body></html>`;
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => (bySubject[sub]
    ? { accountId: sub, claims: async () => ({ sub, ...bySubject[sub].claims }) }
    : undefined),
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    // First-party trust: the IdP is pre-approved, no consent screen.
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(standardOnly ? 'openid profile email' : 'openid profile email birth');
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();
provider.on('backchannel.error', (ctx, err, client) => { console.log(`backchannel.error ${client.clientId}: ${err}`); });
provider.on('backchannel.success', (ctx, client) => { console.log(`backchannel.success ${client.clientId}`); });

function readForm(req) {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(body))));
  });
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const server = http.createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(`<!doctype html><html><body><h1>node-oidc-provider test OP</h1>
        <form method="post" action="/interaction/${escape(details.uid)}/login">
        <label>Login <input name="login"></label><label>Password <input name="password" type="password"></label>
        <button type="submit">Sign in</button></form></body></html>`);
    }
    const form = await readForm(req);
    const account = accounts[form.login];
    if (!account || account.password !== form.password) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end('<p>Invalid login</p>');
    }
    const redirectTo = await provider.interactionResult(req, res, {
      login: { accountId: subjects[form.login], amr: ['pwd'], ...(process.env.NO_ACR === '1' ? {} : { acr: 'eidas2' }) },
    }, { mergeWithLastSubmission: false });
    res.writeHead(303, { Location: redirectTo });
    return res.end();
  } catch (err) {
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    return res.end(String(err));
  }
});

server.listen(port, '127.0.0.1', () => { console.log('listening'); });
