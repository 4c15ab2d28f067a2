// A real OpenID Provider (the npm oidc-provider) for the single sign-on tests.
//
// Started by tests/support/oidc_provider.py with one JSON argument:
//   {port, issuer, jwks: {keys: [private JWKs]}, client: {...client metadata}, accounts: {sub: claims}}
// Its own login and consent pages (devInteractions) are what the browser test drives.
//
// Test-only controls, on this fixture and never in the IDE server:
//   PUT    /_test/accounts/<sub>   JSON claims: create or replace an account
//   DELETE /_test/accounts/<sub>   findAccount stops returning it
//   POST   /_test/tamper           {"mode": "other-key" | "alg-none" | "nonce"}: the next
//                                  token response carries a forged ID token
//   POST   /_test/backchannel      {"down": true | false}: back-channel logouts fail to send
import * as jose from "jose";
import Provider from "oidc-provider";

const options = JSON.parse(process.argv[2]);
const accounts = new Map(Object.entries(options.accounts || {}));
let tamper = null;
let backchannelDown = false;

const provider = new Provider(options.issuer, {
  clients: [options.client],
  jwks: options.jwks,
  scopes: ["openid", "offline_access", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
    groups: ["groups"],
  },
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // The provider refuses to call special-use addresses (SSRF protection), and the gateway
  // it sends back-channel logouts to is on loopback: this fixture calls it directly.
  fetch: (url, init) => {
    const { dispatcher, ...rest } = init;
    if (backchannelDown && String(url).includes("backchannel")) {
      return Promise.reject(new Error("back channel turned off by the test"));
    }
    return globalThis.fetch(url, rest);
  },
  // Refresh tokens whenever the client may use them (no consent prompt for offline_access).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed("refresh_token"),
  ttl: { AccessToken: 3600, IdToken: 3600, RefreshToken: 86400, Session: 86400 },
  async findAccount(ctx, sub) {
    if (!accounts.has(sub)) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, ...accounts.get(sub) };
      },
    };
  },
});
provider.proxy = false;

async function forge(idToken, mode) {
  const payload = jose.decodeJwt(idToken);
  const header = jose.decodeProtectedHeader(idToken);
  if (mode === "alg-none") {
    const part = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
    return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
  }
  if (mode === "nonce") {
    const key = options.jwks.keys.find((k) => k.kid === header.kid);
    return new jose.SignJWT({ ...payload, nonce: "not-the-nonce-of-this-login" })
      .setProtectedHeader({ alg: header.alg, kid: header.kid })
      .sign(await jose.importJWK(key, header.alg));
  }
  // other-key: the provider's kid and algorithm, a key nobody published.
  const { privateKey } = await jose.generateKeyPair(header.alg, { extractable: true });
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg: header.alg, kid: header.kid })
    .sign(privateKey);
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
}

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith("/_test/")) {
    const sub = decodeURIComponent(ctx.path.slice("/_test/accounts/".length));
    if (ctx.path.startsWith("/_test/accounts/") && ctx.method === "PUT") {
      accounts.set(sub, await readJson(ctx.req));
      ctx.status = 204;
    } else if (ctx.path.startsWith("/_test/accounts/") && ctx.method === "DELETE") {
      accounts.delete(sub);
      ctx.status = 204;
    } else if (ctx.path === "/_test/backchannel" && ctx.method === "POST") {
      backchannelDown = Boolean((await readJson(ctx.req)).down);
      ctx.status = 204;
    } else if (ctx.path === "/_test/tamper" && ctx.method === "POST") {
      tamper = (await readJson(ctx.req)).mode || null;
      ctx.status = 204;
    } else {
      ctx.status = 404;
    }
    return;
  }
  await next();
  // Only the code exchange of a sign-in, never a background refresh of another login.
  const grant = ctx.oidc && ctx.oidc.params ? ctx.oidc.params.grant_type : undefined;
  if (ctx.path === "/token" && grant === "authorization_code" && tamper && ctx.body?.id_token) {
    const mode = tamper;
    tamper = null;
    ctx.body = { ...ctx.body, id_token: await forge(ctx.body.id_token, mode) };
  }
});

// What the provider's own back-channel logouts did, for the test logs.
provider.on("backchannel.success", () => console.log("backchannel logout sent"));
provider.on("backchannel.error", (...args) => {
  const error = args.find((a) => a instanceof Error);
  console.log(`backchannel logout failed: ${error} (${error?.cause ?? "no cause"})`);
});

provider.listen(options.port, "127.0.0.1", () => {
  console.log(`oidc-provider listening at ${options.issuer}`);
});
