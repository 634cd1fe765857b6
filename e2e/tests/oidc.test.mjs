// Sign-in through an organization's OpenID Provider (FEDC -> oidc-provider.mjs).
import { strict as assert } from 'node:assert';
import { existsSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  TRIAGE_BIN, freePort, launchBrowser, run, startOidcProvider, startTriage, stopProcess, tempDir, triageEnv,
} from '../lib.mjs';

let dir, oidc, triage, browser;

before(async () => {
  assert.ok(existsSync(TRIAGE_BIN), `triage binary not found at ${TRIAGE_BIN} (set TRIAGE_BIN)`);
  dir = tempDir();
  const port = await freePort();
  const env = triageEnv(dir, port);

  oidc = await startOidcProvider({
    OIDC_PORT: String(await freePort()),
    OIDC_CLIENT_ID: 'triage',
    OIDC_CLIENT_SECRET: 'triage-secret',
    OIDC_REDIRECT_URI: `http://127.0.0.1:${port}/auth/oidc/callback`,
  });

  await run(TRIAGE_BIN, ['migrate'], env);
  await run(TRIAGE_BIN, ['demo'], env);
  await run(TRIAGE_BIN, ['admin', 'org-oidc', '--org', 'FEDC', '--issuer', oidc.issuer,
    '--client-id', 'triage', '--client-secret', 'triage-secret'], env);

  triage = await startTriage(env);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopProcess(triage?.proc);
  await stopProcess(oidc?.proc);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('FEDC clinician signs in through the OpenID Provider', { timeout: 120_000 }, async () => {
  const base = triage.url;
  const page = await browser.newPage();

  await page.goto(`${base}/signin`);
  await page.fill('#email', 'clinician@fedclinic.example');
  await page.click('form:has(#email) button[type=submit]');
  await page.click('a#oidc-signin');

  // oidc-provider's development login form: any password is accepted.
  await page.waitForURL(`${oidc.issuer}/interaction/**`);
  await page.fill('input[name=login]', 'clinician@fedclinic.example');
  await page.fill('input[name=password]', 'any-password');
  await page.click('button[type=submit]');

  // Its consent page (a single "Continue" button).
  await page.waitForSelector('input[name=prompt][value=consent]', { state: 'attached' });
  await page.click('button[type=submit]');

  await page.waitForURL(`${base}/`);
  const whoami = page.locator('[data-testid=whoami]');
  await whoami.waitFor();
  assert.notEqual((await whoami.innerText()).trim(), '');
});
