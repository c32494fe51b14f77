// A KeyCloak-shaped OpenID provider for ComputeWPS tests, built on the npm
// package oidc-provider. It copies what our server depends on in KeyCloak:
// the realm path in the issuer, KeyCloak's endpoint paths, opaque access
// tokens whose introspection carries username/realm_access/resource_access,
// registration only with an initial access token, registration access tokens
// rotated on every use (GET included), and a login form with KeyCloak's
// element ids (#username, #password, #kc-login).
//
// Usage: node server.mjs '<json>', or the JSON in $OIDC_TEST_CONFIG (the Go
// side uses the environment, since the JSON holds secrets):
//   {"port": 0, "issuer": "http://127.0.0.1:P/realms/compute", "realm": "compute",
//    "clients": [<RFC 7591 client metadata with client_id>],
//    "users": {"alice": {"roles": [], "client_roles": {"<client>": []}, "password": ""}},
//    "initial_access_token": "...", "access_token_ttl": 300, "auto_login": "",
//    "admin_token": "...", "scopes": []}
// The issuer defaults to http://127.0.0.1:<port>/realms/<realm>. Prints
// "ready http://127.0.0.1:<port>" once listening. POST /_test/clients with
// "Authorization: Bearer <admin_token>" adds or replaces a client.
import crypto from 'node:crypto';
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const cfg = JSON.parse(process.argv[2] || process.env.OIDC_TEST_CONFIG || '{}');
const realm = cfg.realm || 'compute';
const users = cfg.users || {};
const ttl = cfg.access_token_ttl || 300;

// KeyCloak subjects are UUIDs, not user names: derive a stable one so a
// server that keys users by `sub` instead of `username` shows up in tests.
const names = new Map(); // sub -> user name
function subjectFor(name) {
  const h = crypto.createHash('sha256').update(`${realm}/${name}`).digest('hex');
  const sub = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  names.set(sub, name);
  return sub;
}

// Introspection fields KeyCloak adds; service accounts are users named
// service-account-<client_id>, so roles for them come from the same table.
function keycloakClaims(token) {
  const name = token.accountId ? names.get(token.accountId) : `service-account-${token.clientId}`;
  const user = users[name] || {};
  const claims = {
    username: name,
    preferred_username: name,
    typ: 'Bearer',
    azp: token.clientId,
    realm_access: { roles: [`default-roles-${realm}`, 'offline_access', 'uma_authorization', ...(user.roles || [])] },
  };
  if (user.client_roles && Object.keys(user.client_roles).length) {
    claims.resource_access = Object.fromEntries(
      Object.entries(user.client_roles).map(([client, roles]) => [client, { roles }]),
    );
  }
  return claims;
}

class Forbidden extends errors.OIDCProviderError {
  constructor(description) {
    super(403, 'invalid_request');
    this.error_description = description;
  }
}

const scopes = ['openid', 'offline_access', 'profile', 'email', ...(cfg.scopes || [])];

// KeyCloak's openid-connect registration is lenient where oidc-provider is
// strict: a client_credentials-only client needs no response_types (nor
// redirect_uris), and unknown scope values are dropped, not refused.
function keycloakRegistration(ctx, props) {
  const grants = props.grant_types || ['authorization_code'];
  if (!('response_types' in props) && !grants.includes('authorization_code') && !grants.includes('implicit')) {
    props.response_types = [];
  }
  if (typeof props.scope === 'string') {
    const known = props.scope.split(' ').filter((s) => scopes.includes(s));
    if (known.length) props.scope = known.join(' ');
    else delete props.scope;
  }
}

const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

function providerConfig(prefix) {
  return {
    jwks: { keys: [{ ...rsa.export({ format: 'jwk' }), kid: 'test-rs256', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    // KeyCloak's paths under {base}/realms/{realm}.
    routes: {
      authorization: '/protocol/openid-connect/auth',
      token: '/protocol/openid-connect/token',
      introspection: '/protocol/openid-connect/token/introspect',
      revocation: '/protocol/openid-connect/revoke',
      userinfo: '/protocol/openid-connect/userinfo',
      jwks: '/protocol/openid-connect/certs',
      end_session: '/protocol/openid-connect/logout',
      registration: '/clients-registrations/openid-connect',
    },
    scopes,
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email', 'email_verified'] },
    // KeyCloak puts the profile claims in the ID token too, not only in userinfo.
    conformIdTokenClaims: false,
    async findAccount(ctx, sub) {
      const name = names.get(sub);
      if (!name) return undefined;
      return {
        accountId: sub,
        claims: () => ({ sub, preferred_username: name, name, email: `${name}@example.org`, email_verified: true }),
      };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      introspection: {
        enabled: true,
        // KeyCloak answers 403 "Client not allowed." to public clients.
        async allowedPolicy(ctx, client) {
          if (client.clientAuthMethod === 'none') throw new Forbidden('Client not allowed.');
          return true;
        },
      },
      // Adapter-backed initial access tokens, because only those carry
      // registration policies; main() stores the configured one.
      registration: {
        enabled: true,
        initialAccessToken: true,
        idFactory: () => crypto.randomUUID(),
        policies: { keycloak: keycloakRegistration },
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
    },
    extraTokenClaims: (ctx, token) => keycloakClaims(token),
    // KeyCloak issues a refresh token with every code exchange.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
    ttl: {
      AccessToken: ttl,
      ClientCredentials: ttl,
      AuthorizationCode: 60,
      IdToken: Math.max(ttl, 300), // outlives short access-token TTLs, for the login callback
      RefreshToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    interactions: { url: (ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<p id="error">${esc(out.error)}: ${esc(out.error_description || '')}</p>`);
    },
  };
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`;
}

function loginPage(action, error) {
  return page('Sign in', `<h1>Sign in to ${esc(realm)}</h1>
${error ? `<p id="input-error">${esc(error)}</p>` : ''}
<form id="kc-form-login" method="post" action="${esc(action)}">
<label for="username">Username</label> <input id="username" name="username" autofocus>
<label for="password">Password</label> <input id="password" name="password" type="password">
<input id="kc-login" name="login" type="submit" value="Sign In">
</form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginError(name, password) {
  // An empty users table lets anyone in; otherwise KeyCloak's message.
  if (!name) return 'Invalid username or password.';
  if (!Object.keys(users).length) return '';
  const user = users[name];
  if (!user || (user.password !== undefined && user.password !== password)) return 'Invalid username or password.';
  return '';
}

// The login and consent steps. Consent is granted for everything requested,
// as KeyCloak does for clients without "consent required".
async function interaction(provider, prefix, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (prompt.name === 'login') {
    let name = cfg.auto_login || '';
    let password;
    if (req.method === 'POST') {
      const form = await readForm(req);
      name = form.get('username') || '';
      password = form.get('password') || '';
    }
    if (!name) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginPage(`${prefix}/interaction/${uid}`, ''));
      return;
    }
    const error = loginError(name, password);
    if (error) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginPage(`${prefix}/interaction/${uid}`, error));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: subjectFor(name) } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

// POST /_test/clients adds or replaces a client in the provider's store, so
// tests can add redirect URIs once they know their ports.
async function putClient(provider, req, res) {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (!cfg.admin_token || req.headers.authorization !== `Bearer ${cfg.admin_token}`) {
    reply(401, { error: 'invalid_token' });
    return;
  }
  const chunks = [];
  for await (const c of req) chunks.push(c);
  let metadata;
  try {
    metadata = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    await storeClient(provider, metadata);
  } catch (err) {
    reply(400, { error: 'invalid_client_metadata', error_description: err.error_description || err.message });
    return;
  }
  reply(201, metadata);
}

async function storeClient(provider, metadata) {
  if (typeof metadata.client_id !== 'string' || !metadata.client_id) throw new Error('client_id is required');
  await provider.Client.adapter.upsert(metadata.client_id, metadata);
  try {
    await provider.Client.find(metadata.client_id); // validates the metadata
  } catch (err) {
    await provider.Client.adapter.destroy(metadata.client_id);
    throw err;
  }
}

// KeyCloak rotates the registration access token on every use; oidc-provider
// only on PUT. Rotate after a successful GET as well.
function rotateOnRead(provider) {
  return async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'client' || ctx.method !== 'GET' || ctx.status !== 200) return;
    const old = ctx.oidc.entities.RegistrationAccessToken;
    const rat = new provider.RegistrationAccessToken({ client: ctx.oidc.client, policies: old.policies });
    await old.destroy();
    ctx.body.registration_access_token = await rat.save();
  };
}

function main() {
  const server = http.createServer();
  server.listen(cfg.port || 0, '127.0.0.1', async () => {
    const base = `http://127.0.0.1:${server.address().port}`;
    const issuer = cfg.issuer || `${base}/realms/${realm}`;
    const prefix = new URL(issuer).pathname.replace(/\/$/, '');
    const provider = new Provider(issuer, providerConfig(prefix));
    provider.use(rotateOnRead(provider));
    const handle = provider.callback();
    server.on('request', (req, res) => {
      // Protocol errors (a lost interaction cookie, say) say what they are.
      const fail = (err) => {
        const status = err.status || 500;
        if (status >= 500) console.error(err);
        if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${err.error || 'server_error'}: ${err.error_description || err.message}\n`);
      };
      if (req.url.startsWith('/_test/clients') && req.method === 'POST') {
        putClient(provider, req, res).catch(fail);
        return;
      }
      if (prefix && req.url !== prefix && !req.url.startsWith(`${prefix}/`) && !req.url.startsWith(`${prefix}?`)) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      // Mount the provider under the realm path, the way express would.
      req.originalUrl = req.url;
      req.baseUrl = prefix;
      req.url = req.url.slice(prefix.length) || '/';
      if (req.url.startsWith('/interaction/')) {
        interaction(provider, prefix, req, res).catch(fail);
        return;
      }
      handle(req, res);
    });
    try {
      for (const c of cfg.clients || []) await storeClient(provider, c);
      if (cfg.initial_access_token) {
        await new provider.InitialAccessToken({ jti: cfg.initial_access_token, policies: ['keycloak'] }).save();
      }
    } catch (err) {
      console.error(`config: ${err.error_description || err.message}`);
      process.exit(2);
    }
    process.stdout.write(`ready ${base}\n`);
  });
  server.on('error', (err) => {
    console.error(err.message);
    process.exit(1);
  });
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
