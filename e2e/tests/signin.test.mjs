// Password sign-in, authorization and language switching in a real browser.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  RESULTS_DIR, TRIAGE_BIN, freePort, launchBrowser, signIn, startTriage, stopProcess, tempDir, triageEnv,
} from '../lib.mjs';

describe('sign-in', { timeout: 180_000 }, () => {
  let dir, triage, browser, base;

  before(async () => {
    assert.ok(existsSync(TRIAGE_BIN), `triage binary not found at ${TRIAGE_BIN} (set TRIAGE_BIN)`);
    dir = tempDir();
    triage = await startTriage(triageEnv(dir, await freePort()));
    base = triage.url;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopProcess(triage?.proc);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Each test gets its own cookie jar.
  async function newPage(t) {
    const context = await browser.newContext();
    t.after(() => context.close());
    return context.newPage();
  }

  async function signInAs(page, email) {
    await signIn(page, base, email);
    await page.waitForURL(`${base}/`);
    const whoami = page.locator('[data-testid=whoami]');
    await whoami.waitFor();
    assert.notEqual((await whoami.innerText()).trim(), '', 'whoami shows a display name');
  }

  test('administrator signs in and sees the organizations', async (t) => {
    const page = await newPage(t);
    await signInAs(page, 'admin@operator.example');

    const res = await page.goto(`${base}/admin/organizations`);
    assert.equal(res.status(), 200);
    const table = await page.locator('table').first().innerText();
    assert.match(table, /\bHHS\b/);
    assert.match(table, /\bNHS\b/);

    for (const path of ['/admin/people', '/admin/audit', '/admin/outbox']) {
      assert.equal((await page.goto(`${base}${path}`)).status(), 200, path);
    }

    await page.goto(`${base}/`);
    await page.click('button#signout');
    await page.locator('[data-testid=whoami]').waitFor({ state: 'detached' });
  });

  test('an end user is forbidden from the admin pages', async (t) => {
    const page = await newPage(t);
    await signInAs(page, 'clinician@hhs.example');
    const res = await page.goto(`${base}/admin/organizations`);
    assert.equal(res.status(), 403);
    assert.equal((await page.locator('[data-testid=error-code]').innerText()).trim(), 'forbidden');
  });

  test('a wrong password shows an error', async (t) => {
    const page = await newPage(t);
    await signIn(page, base, 'admin@operator.example', 'not-the-password');
    await page.locator('[data-testid=form-error]').waitFor();
    assert.equal(await page.locator('[data-testid=whoami]').count(), 0);
  });

  test('switching to French and back', async (t) => {
    const page = await newPage(t);
    await page.goto(`${base}/signin`);
    await page.click('button[name=lang][value=fr]');
    await page.waitForSelector('html[lang=fr]');
    await page.click('button[name=lang][value=en]');
    await page.waitForSelector('html[lang=en]');
  });

  test('screenshot of the organizations page', async (t) => {
    const page = await newPage(t);
    await signInAs(page, 'admin@operator.example');
    await page.goto(`${base}/admin/organizations`);
    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'admin-orgs.png'), fullPage: true });
  });
});
