// node-oidc-provider configured like our IdP for the token-endpoint benchmark: client credentials,
// JWT access tokens signed RS256, one process per core (cluster). Environment: PORT, WORKERS,
// CLIENT_SECRET. Prints "listening" once every worker listens.
import cluster from 'node:cluster';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const modules = new URL('../../idp/federation/node_op/node_modules/', import.meta.url);
const { default: Provider } = await import(new URL('oidc-provider/lib/index.js', modules).href);

const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS || 1);

if (cluster.isPrimary) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  let ready = 0;
  for (let i = 0; i < workers; i += 1) {
    const worker = cluster.fork({ SIGNING_JWK: JSON.stringify({ ...jwk, kid: 'bench', alg: 'RS256', use: 'sig' }) });
    worker.on('message', (message) => {
      if (message === 'listening') {
        ready += 1;
        if (ready === workers) console.log('listening');
      }
    });
  }
} else {
  const resource = `http://127.0.0.1:${port}/api`;
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [{
      client_id: 'bench', client_secret: process.env.CLIENT_SECRET, grant_types: ['client_credentials'],
      redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [JSON.parse(process.env.SIGNING_JWK)] },
    scopes: ['api'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        getResourceServerInfo: () => ({ scope: 'api', audience: resource, accessTokenFormat: 'jwt',
                                        jwt: { sign: { alg: 'RS256' } }, accessTokenTTL: 600 }),
      },
    },
  });
  provider.listen(port, () => process.send('listening'));
}
