// Subscriptions to the public status page through the real pages, without signing in.
//
// A visitor subscribes on /status/subscribe (English, everything) and sees "check your
// mail". The confirmation message is read from the admin outbox (no mail server is
// configured, so the local outbox keeps it). Opening its link shows a button (a GET changes
// nothing); confirming shows the preferences link; the preferences page switches the
// language to French and then unsubscribes. A tampered link is refused.
//
// Once confirmed, an agent posts an incident from the console's status page; its notice
// reaches the subscriber (in the outbox) with the one-click unsubscribe and preferences
// links, and the incident shows on the public page. The integration tests
// (crates/app/tests/it/status_subscriptions.rs) also send real notices to a real SMTP server.
//
// Words the pages show are read from crates/web/locales/en/*.ftl rather than retyped.
import { strict as assert } from 'node:assert';
import { existsSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  TRIAGE_BIN, loadMessages, freePort, launchBrowser, signIn, submit, startTriage, stopProcess, tempDir, triageEnv,
} from '../lib.mjs';

const ADMIN = 'admin@operator.example';
const SUBSCRIBER = 'e2e-subscriber@partner.example'; // no account
const AGENT = 'agent2@operator.example'; // an agent, prefers English

// ---- words as the pages say them ---------------------------------------------------------

const EN = loadMessages('en');
const FR = loadMessages('fr');

function msg(key, args = {}, table = EN) {
  const text = table.get(key);
  assert.ok(text !== undefined, `message ${key}`);
  return text.replace(/\{ \$(\w+) \}/g, (_, name) => {
    assert.ok(name in args, `argument ${name} of ${key}`);
    return String(args[name]);
  });
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---- reading a raw message ---------------------------------------------------------------

/** The text/plain part of a raw MIME message, decoded (7bit, quoted-printable or base64). */
function plainText(raw) {
  const text = raw.replace(/\r\n/g, '\n');
  const parts = text.split(/\n--[^\n]+\n/);
  for (const part of parts) {
    const split = part.indexOf('\n\n');
    if (split < 0) continue;
    const headers = part.slice(0, split).replace(/\n[ \t]+/g, ' ');
    if (!/^content-type:\s*text\/plain/im.test(headers)) continue;
    const body = part.slice(split + 2);
    const encoding = (headers.match(/^content-transfer-encoding:\s*(\S+)/im)?.[1] ?? '7bit').toLowerCase();
    if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (encoding === 'quoted-printable') {
      const bytes = body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    return body;
  }
  throw new Error(`no text/plain part in:\n${raw}`);
}

// ---- the suite ---------------------------------------------------------------------------

describe('status page subscriptions', { timeout: 180_000 }, () => {
  let dir, triage, browser, base;
  const scriptProblems = [];

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

  async function newPage(label) {
    const context = await browser.newContext({ locale: 'en-CA' });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => scriptProblems.push(`${label} ${page.url()}: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        scriptProblems.push(`${label} ${page.url()}: console: ${m.text()}`);
      }
    });
    return page;
  }

  /** The messages to `to` in the admin outbox, newest first: subject and raw text. */
  async function mailTo(to) {
    const page = await newPage(ADMIN);
    try {
      await signIn(page, base, ADMIN);
      await page.waitForURL(`${base}/`);
      const res = await page.goto(`${base}/admin/outbox`);
      assert.equal(res.status(), 200);
      const all = await page.locator('main details.card').evaluateAll((cards) => cards.map((d) => {
        const parts = d.querySelector('summary').textContent.split(' · ').map((s) => s.trim());
        return { to: parts[1], subject: parts[2], raw: d.querySelector('pre')?.textContent ?? '' };
      }));
      return all.filter((m) => m.to === to);
    } finally {
      await page.context().close();
    }
  }

  let visitor;
  let confirmUrl = null;

  test('1. a visitor subscribes without signing in and is asked to check their mail', async () => {
    visitor = await newPage('visitor');
    const res = await visitor.goto(`${base}/status/subscribe`);
    assert.equal(res.status(), 200);
    assert.equal(await visitor.locator('[data-testid=whoami]').count(), 0, 'not signed in');
    assert.equal((await visitor.locator('h1').innerText()).trim(), msg('status-sub-title'));
    await visitor.getByLabel(EN.get('field-email'), { exact: true }).fill(SUBSCRIBER);
    await visitor.getByRole('radio', { name: msg('status-sub-language-en'), exact: true }).check();
    await visitor.getByRole('radio', { name: msg('status-sub-follow-all'), exact: true }).check();
    const posted = await submit(visitor, visitor.getByRole('button', { name: msg('status-sub-send') }));
    assert.equal(posted.status(), 200);
    assert.equal((await visitor.locator('[data-testid=subscribe-sent]').innerText()).trim(),
      msg('status-sub-sent-body', { email: SUBSCRIBER }));
  });

  test('2. the confirmation message is in the outbox, in English, with its link', async () => {
    const mail = await mailTo(SUBSCRIBER);
    assert.equal(mail.length, 1, JSON.stringify(mail.map((m) => m.subject)));
    assert.equal(mail[0].subject, 'Confirm your subscription to the status page');
    const text = plainText(mail[0].raw);
    const link = text.match(/(https?:\/\/\S+\/status\/subscriptions\/[\w.-]+\/confirm)/);
    assert.ok(link, `a confirmation link in:\n${text}`);
    confirmUrl = link[1];
    assert.match(confirmUrl, new RegExp(`^${escapeRe(base)}/status/subscriptions/\\d+\\.[\\w-]+/confirm$`));
  });

  let preferencesUrl = null;

  test('3. the link asks first, then confirms and offers the preferences page', async (t) => {
    if (!confirmUrl) return t.skip('needs the link from step 2');
    const page = await newPage('mailbox');
    const res = await page.goto(confirmUrl);
    assert.equal(res.status(), 200);
    // A GET changes nothing: the page only offers the button.
    assert.equal(await page.locator('[data-testid=confirm-done]').count(), 0);
    const posted = await submit(page, page.getByRole('button', { name: msg('status-sub-confirm-button') }));
    assert.equal(posted.status(), 200);
    assert.equal((await page.locator('[data-testid=confirm-done]').innerText()).trim(),
      `${msg('status-sub-confirm-done')} ${SUBSCRIBER}`);
    const link = page.locator('[data-testid=preferences-link]');
    preferencesUrl = new URL(await link.getAttribute('href'), base).href;
    assert.match(preferencesUrl, new RegExp(`^${escapeRe(base)}/status/subscriptions/\\d+\\.[\\w-]+$`));
    await Promise.all([page.waitForEvent('load'), link.click()]);
    assert.equal(page.url(), preferencesUrl);
    assert.equal((await page.locator('[data-testid=subscription]').innerText()).trim(),
      `${msg('status-sub-preferences-for', { what: msg('status-sub-what-all') })} ${SUBSCRIBER}`);
    await page.context().close();
  });

  test('3b. an agent posts an incident in the console and the subscriber receives its notice', async (t) => {
    if (!preferencesUrl) return t.skip('needs the confirmed subscription from step 3');
    const agent = await newPage(AGENT);
    await signIn(agent, base, AGENT);
    await agent.waitForURL(`${base}/`);
    assert.equal((await agent.goto(`${base}/console/status`)).status(), 200);
    const form = agent.locator('form[action="/console/status/incidents"]');
    await form.locator('input[name=title_en]').fill('Viewer unavailable (e2e)');
    await form.locator('input[name=title_fr]').fill('Visualiseur indisponible (e2e)');
    await form.locator('select[name=impact]').selectOption('major');
    await form.locator('textarea[name=body_en]').fill('We are investigating.');
    await form.locator('textarea[name=body_fr]').fill('Nous enquêtons.');
    await form.locator('select[name^=c]').first().selectOption('major_outage');
    const posted = await submit(agent, form.getByRole('button', { name: msg('cs-post-incident') }));
    assert.equal(posted.status(), 303);
    assert.match(agent.url(), /\/console\/status\/\d+$/);
    await agent.context().close();

    const page = await newPage('public');
    assert.equal((await page.goto(`${base}/status`)).status(), 200);
    assert.ok((await page.content()).includes('Viewer unavailable (e2e)'), 'on the public page');
    await page.context().close();

    const mail = (await mailTo(SUBSCRIBER)).filter((m) => m.subject.includes('Viewer unavailable (e2e)'));
    assert.equal(mail.length, 1, 'one notice to the subscriber');
    assert.match(mail[0].raw, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/i);
    assert.ok(plainText(mail[0].raw).includes('We are investigating.'));
  });

  test('4. the preferences page switches to French, then unsubscribes', async (t) => {
    if (!preferencesUrl) return t.skip('needs the link from step 3');
    const page = await newPage('preferences');
    assert.equal((await page.goto(preferencesUrl)).status(), 200);
    await page.getByRole('radio', { name: msg('status-sub-language-fr'), exact: true }).check();
    let posted = await submit(page, page.getByRole('button', { name: msg('status-sub-preferences-save') }));
    assert.equal(posted.status(), 200);
    assert.equal((await page.locator('[data-testid=preferences-notice]').innerText()).trim(),
      msg('status-sub-preferences-saved'));
    assert.ok(await page.getByRole('radio', { name: msg('status-sub-language-fr'), exact: true }).isChecked());

    posted = await submit(page, page.getByRole('button', { name: msg('status-sub-unsubscribe-button') }));
    assert.equal(posted.status(), 200);
    assert.equal((await page.locator('[data-testid=unsubscribed]').innerText()).trim(),
      msg('status-sub-unsubscribed'));
    // The old confirmation link does not start it again.
    assert.equal((await page.goto(confirmUrl)).status(), 410);
    // A tampered link is refused.
    const dot = preferencesUrl.lastIndexOf('.');
    const flipped = preferencesUrl[dot + 1] === 'A' ? 'B' : 'A';
    const forged = await page.goto(`${preferencesUrl.slice(0, dot + 1)}${flipped}${preferencesUrl.slice(dot + 2)}`);
    assert.equal(forged.status(), 404);
    await page.context().close();
  });

  test('5. the subscribe page speaks French to a French browser', async () => {
    const context = await browser.newContext({ locale: 'fr-CA' });
    const page = await context.newPage();
    assert.equal((await page.goto(`${base}/status/subscribe`)).status(), 200);
    assert.equal((await page.locator('h1').innerText()).trim(), msg('status-sub-title', {}, FR));
    await context.close();
  });

  test('no script errors', () => {
    assert.deepEqual(scriptProblems, []);
  });
});
