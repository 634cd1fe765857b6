// A real OpenID Provider (panva/oidc-provider 9.x) for Triage's end-to-end tests.
//
//   OIDC_PORT=9000 OIDC_REDIRECT_URI=http://127.0.0.1:8080/auth/oidc/callback node oidc-provider.mjs
//
// Env:
//   OIDC_PORT             port on 127.0.0.1 (default 9000); the issuer is exactly http://127.0.0.1:<port>
//   OIDC_REDIRECT_URI     the one registered redirect URI (required)
//   OIDC_CLIENT_ID        default "triage"
//   OIDC_CLIENT_SECRET    default "triage-secret"
//   OIDC_TOKEN_AUTH       token_endpoint_auth_method: client_secret_basic (default) or client_secret_post
//
// Prints "OIDC_READY <issuer>" on stdout once listening; exits on SIGTERM/SIGINT.
//
// Notes on the configuration (verified with oidc-provider 9.13.3 on Node 20):
// - Plain http on 127.0.0.1 works as is: the issuer may be http, and http redirect URIs are
//   only refused for `web` clients using the *implicit* flow, not for the code flow. Cookies
//   are only marked Secure when the request itself is https, so no `proxy` setting is needed.
// - `cookies.keys` is set so the session/interaction cookies are signed (no dev warning).
// - The built-in `devInteractions` still ship in v9: GET /interaction/:uid shows a login form
//   (input name="login", input name="password" — any password works, button.login-submit),
//   then a consent page (a single submit button "Continue").
// - PKCE: S256 is the only method oidc-provider accepts ("plain" is refused). It is optional for
//   this confidential client (pkce.required returns false) but is checked whenever a
//   code_challenge is sent. `nonce` is optional for response_type=code (echoed when sent).
// - `conformIdTokenClaims: false` puts the scope's claims (email, email_verified) in the
//   id_token returned by the token endpoint. With the default (true) the id_token of a code
//   flow holds only `sub` and the email is only available from the userinfo endpoint.
// - The RP must request `scope=openid email` to get the email claim.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || 9000);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = process.env.OIDC_REDIRECT_URI;
if (!redirectUri) {
  console.error('OIDC_REDIRECT_URI is required');
  process.exit(2);
}

// One RSA signing key per run (RS256 is the default id_token algorithm).
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const configuration = {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID || 'triage',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'triage-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: process.env.OIDC_TOKEN_AUTH || 'client_secret_basic',
    },
  ],
  jwks: { keys: [{ ...signingKey, kid: 'e2e', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: ['triage-e2e-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'email'],
  conformIdTokenClaims: false,
  pkce: { required: () => false },
  features: { devInteractions: { enabled: true } },
  // The login name typed into the provider's form is the account id.
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return id.includes('@') ? { sub: id, email: id, email_verified: true } : { sub: id };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (_ctx, err) => console.error('oidc server_error:', err));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`OIDC_READY ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
