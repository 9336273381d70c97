// node-oidc-provider configured like our IdP for the token-endpoint benchmark: JWT access tokens and
// ID tokens signed RS256, client_secret_basic, PKCE S256, refresh tokens rotated on every use, state
// in Redis (the adapter of the library's own example, so that every worker sees every code and
// refresh token), one process per core (cluster).
//
// Environment: PORT, WORKERS, CLIENT_SECRET, REDIS_URL, and for the code and refresh benchmarks
// MINT (how many of each), CODE_VERIFIER, CODES_FILE, REFRESH_FILE: the primary mints that many
// authorization codes (one grant each, as one sign-in would) and refresh tokens before it prints
// "listening", once every worker listens.
import cluster from 'node:cluster';
import crypto from 'node:crypto';
import fs from 'node:fs';

import Redis from 'ioredis';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS || 1);
const issuer = `http://127.0.0.1:${port}`;
const resource = `${issuer}/api`;
const redirectUri = 'http://127.0.0.1/cb';
const redis = new Redis(process.env.REDIS_URL, { keyPrefix: 'oidc:' });

const consumable = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest']);
const grantKeyFor = (id) => `grant:${id}`;

class RedisAdapter {
  constructor(name) { this.name = name; }

  key(id) { return `${this.name}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const multi = redis.multi();
    if (consumable.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) });
    else multi.set(key, JSON.stringify(payload));
    if (expiresIn) multi.expire(key, expiresIn);
    if (grantable.has(this.name) && payload.grantId) {
      const grantKey = grantKeyFor(payload.grantId);
      multi.rpush(grantKey, key);
      const ttl = await redis.ttl(grantKey);
      if (expiresIn > ttl) multi.expire(grantKey, expiresIn);
    }
    if (payload.uid) multi.set(`uid:${payload.uid}`, id, 'EX', expiresIn);
    await multi.exec();
  }

  async find(id) {
    if (!consumable.has(this.name)) {
      const data = await redis.get(this.key(id));
      return data ? JSON.parse(data) : undefined;
    }
    const { payload, ...rest } = await redis.hgetall(this.key(id));
    return payload ? { ...rest, ...JSON.parse(payload) } : undefined;
  }

  async findByUid(uid) { return this.find(await redis.get(`uid:${uid}`)); }

  async findByUserCode() { return undefined; }

  async consume(id) { await redis.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000)); }

  async destroy(id) { await redis.del(this.key(id)); }

  async revokeByGrantId(grantId) {
    const multi = redis.multi();
    for (const token of await redis.lrange(grantKeyFor(grantId), 0, -1)) multi.del(token);
    multi.del(grantKeyFor(grantId));
    await multi.exec();
  }
}

function provider(jwk) {
  return new Provider(issuer, {
    adapter: RedisAdapter,
    clients: [{
      client_id: 'eservices', client_secret: process.env.CLIENT_SECRET,
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
      redirect_uris: [redirectUri], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [jwk] },
    scopes: ['openid', 'offline_access', 'api'],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    ttl: { AuthorizationCode: 60, Grant: 2592000, IdToken: 600, RefreshToken: 2592000 },
    findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api', audience: resource, accessTokenFormat: 'jwt',
                                        jwt: { sign: { alg: 'RS256' } }, accessTokenTTL: 600 }),
      },
    },
  });
}

async function mint(op, count) {
  const challenge = crypto.createHash('sha256').update(process.env.CODE_VERIFIER).digest('base64url');
  const client = await op.Client.find('eservices');
  const authTime = Math.floor(Date.now() / 1000);
  const codes = [];
  const refreshTokens = [];
  for (let i = 0; i < count; i += 1) {
    const accountId = `account-${i % 100}`;
    const grant = new op.Grant({ accountId, clientId: 'eservices' });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(resource, 'api');
    const grantId = await grant.save();
    const common = { accountId, client, grantId, scope: 'openid offline_access api', authTime, resource };
    codes.push(await new op.AuthorizationCode({
      ...common, redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256',
    }).save());
    refreshTokens.push(await new op.RefreshToken({ ...common, gty: 'authorization_code', rotations: 0 }).save());
  }
  fs.writeFileSync(process.env.CODES_FILE, `${codes.join('\n')}\n`);
  fs.writeFileSync(process.env.REFRESH_FILE, `${refreshTokens.join('\n')}\n`);
}

if (cluster.isPrimary) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' };
  if (Number(process.env.MINT || 0) > 0) await mint(provider(jwk), Number(process.env.MINT));
  let ready = 0;
  for (let i = 0; i < workers; i += 1) {
    const worker = cluster.fork({ SIGNING_JWK: JSON.stringify(jwk) });
    worker.on('message', (message) => {
      if (message === 'listening') {
        ready += 1;
        if (ready === workers) console.log('listening');
      }
    });
  }
} else {
  provider(JSON.parse(process.env.SIGNING_JWK)).listen(port, () => process.send('listening'));
}
