// Self-test of the harness alone (no Triage needed): oidc-provider.mjs completes an
// authorization-code + PKCE flow in Chromium and its id_token carries the email claim.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { freePort, launchBrowser, startOidcProvider, stopProcess } from '../lib.mjs';

let oidc, rp, browser, redirectUri;

before(async () => {
  const rpPort = await freePort();
  redirectUri = `http://127.0.0.1:${rpPort}/auth/oidc/callback`;
  rp = createServer((_req, res) => res.end('callback')).listen(rpPort, '127.0.0.1');
  oidc = await startOidcProvider({ OIDC_PORT: String(await freePort()), OIDC_REDIRECT_URI: redirectUri });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  rp?.close();
  await stopProcess(oidc?.proc);
});

test('authorization code + PKCE flow yields an id_token with the email', { timeout: 60_000 }, async () => {
  const discovery = await (await fetch(`${oidc.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(discovery.issuer, oidc.issuer);

  const verifier = randomBytes(32).toString('base64url');
  const auth = new URL(discovery.authorization_endpoint);
  auth.search = new URLSearchParams({
    client_id: 'triage', response_type: 'code', scope: 'openid email', redirect_uri: redirectUri,
    state: 'st', nonce: 'n0nce',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  });

  const page = await browser.newPage();
  await page.goto(auth.href);
  await page.fill('input[name=login]', 'clinician@fedclinic.example');
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  await page.waitForSelector('input[name=prompt][value=consent]', { state: 'attached' });
  await page.click('button[type=submit]');
  await page.waitForURL(`${redirectUri}?**`);
  const callback = new URL(page.url()).searchParams;
  assert.equal(callback.get('state'), 'st');
  assert.equal(callback.get('iss'), oidc.issuer);

  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('triage:triage-secret').toString('base64')}` },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: callback.get('code'), redirect_uri: redirectUri, code_verifier: verifier,
    }),
  });
  const tokens = await res.json();
  assert.equal(res.status, 200, JSON.stringify(tokens));
  const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url'));
  assert.equal(claims.iss, oidc.issuer);
  assert.equal(claims.aud, 'triage');
  assert.equal(claims.nonce, 'n0nce');
  assert.equal(claims.sub, 'clinician@fedclinic.example');
  assert.equal(claims.email, 'clinician@fedclinic.example');
  assert.equal(claims.email_verified, true);
});
