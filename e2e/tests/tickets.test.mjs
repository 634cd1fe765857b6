// Tickets through the real pages: a clinician raises a request on the portal (the PHI guard
// refuses a health card number without losing what was typed), shares it and comments; the
// service desk takes it from its queue, escalates it to tier 2, tier 2 resolves it and the
// clinician reopens it. Then the console's keyboard shortcuts and the phone intake.
//
// agent1@operator.example prefers French. Its pages are driven through ids, names, hrefs and
// data-testid; where words must be compared (the timeline, the channel) they are read from
// the message files (crates/web/locales/*/main.ftl) and the demo catalogue, not retyped here.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  E2E_DIR, TRIAGE_BIN, freePort, launchBrowser, signIn, startTriage, stopProcess, tempDir, triageEnv,
} from '../lib.mjs';

const CLINICIAN = 'clinician@hhs.example';
const AGENT1 = 'agent1@operator.example'; // tier 1, service desk (SD), prefers French
const AGENT2 = 'agent2@operator.example'; // tier 2 (T2)

// A valid 1x1 PNG (signature, IHDR, IDAT, IEND).
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

// ---- words as the pages say them ---------------------------------------------------------

const REPO = join(E2E_DIR, '..');

/** Messages of one locale from its Fluent file (simple messages: `key = text`). */
function loadMessages(locale) {
  const messages = new Map();
  let key = null;
  for (const line of readFileSync(join(REPO, 'crates/web/locales', locale, 'main.ftl'), 'utf8').split('\n')) {
    const m = line.match(/^([a-z][\w-]*) = (.*)$/);
    if (m) {
      key = m[1];
      messages.set(key, m[2]);
    } else if (key && /^\s+\S/.test(line)) {
      messages.set(key, `${messages.get(key)}\n${line.trim()}`);
    } else {
      key = null;
    }
  }
  return messages;
}

const MESSAGES = { en: loadMessages('en'), fr: loadMessages('fr') };

/** A message with its `{ $name }` placeables filled in (no selectors). */
function msg(locale, key, args = {}) {
  const text = MESSAGES[locale].get(key);
  assert.ok(text !== undefined, `message ${key} in ${locale}`);
  return text.replace(/\{ \$(\w+) \}/g, (_, name) => {
    assert.ok(name in args, `argument ${name} of ${key}`);
    return String(args[name]);
  });
}

/** A demo sub-category's name ("CHR/viewer/slow") from the demo catalogue. */
const CATALOGUE = JSON.parse(readFileSync(join(REPO, 'crates/app/demo/catalogue.json'), 'utf8'));
function subcategoryName(locale, path) {
  const [service, type, code] = path.split('/');
  const sub = CATALOGUE.services.find((s) => s.code === service)
    .request_types.find((r) => r.code === type)
    .subcategories.find((s) => s.code === code);
  return sub[`name_${locale}`];
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A whole message as a RegExp; placeables without a value in `args` match any text. */
function msgRe(locale, key, args = {}) {
  const text = MESSAGES[locale].get(key);
  assert.ok(text !== undefined, `message ${key} in ${locale}`);
  const source = text.split(/(\{ \$\w+ \})/).map((part) => {
    const m = part.match(/^\{ \$(\w+) \}$/);
    if (!m) return escapeRe(part);
    return m[1] in args ? escapeRe(String(args[m[1]])) : '.+?';
  }).join('');
  return new RegExp(`^${source}$`);
}

/**
 * A datetime-local value `hoursAgo` hours ago on the server's wall clock: Triage reads these
 * fields in its time zone (TRIAGE_TIME_ZONE, America/Toronto by default), not the browser's.
 */
const SERVER_TIME_ZONE = process.env.TRIAGE_TIME_ZONE || 'America/Toronto'; // the server inherits our env
function localDateTime(hoursAgo) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: SERVER_TIME_ZONE, hourCycle: 'h23',
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).formatToParts(new Date(Date.now() - hoursAgo * 3_600_000)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

// ---- the suite ---------------------------------------------------------------------------

describe('tickets: portal, console and phone intake', { timeout: 180_000 }, () => {
  let dir, triage, browser, base;
  const sessions = new Map();
  const scriptProblems = []; // uncaught errors and console errors (CSP reports among them)

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

  /**
   * A signed-in page for `email`, one browser context (cookie jar) per person, kept for the
   * file. The browser asks for German: neither English nor French, so Triage falls back to
   * the person's own language preference (agent1 prefers French).
   */
  async function as(email) {
    if (!sessions.has(email)) {
      const context = await browser.newContext({ locale: 'de-DE' });
      // Every page answers in well under a second: a refused change (a page that does not
      // navigate where expected) fails in 15 s rather than Playwright's 30.
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      page.on('pageerror', (err) => scriptProblems.push(`${email} ${page.url()}: ${err.message}`));
      page.on('console', (m) => {
        // "Failed to load resource" only reports an HTTP status (the expected 422, the
        // browser's own /favicon.ico request); CSP refusals and script errors are kept.
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
          scriptProblems.push(`${email} ${page.url()}: console: ${m.text()}`);
        }
      });
      await signIn(page, base, email);
      await page.waitForURL(`${base}/`);
      await page.locator('[data-testid=whoami]').waitFor();
      sessions.set(email, page);
    }
    return sessions.get(email);
  }

  async function visit(page, path) {
    const res = await page.goto(`${base}${path}`);
    assert.equal(res.status(), 200, `GET ${path}`);
  }

  /** Click `selector` (a form's submit button) and wait for the page it leads to. */
  async function submit(page, selector, urlPattern) {
    await Promise.all([page.waitForURL(urlPattern), page.click(selector)]);
  }

  /** `?done=<what>` after a change made from the ticket page. */
  const done = (number, what) => new RegExp(`/tickets/${number}\\?done=${what}$`);

  /** The text of the <dd> that follows the <dt> saying `label`. */
  async function fact(page, label) {
    return (await page.locator('dl.facts dt', { hasText: new RegExp(`^${escapeRe(label)}$`) })
      .locator('xpath=following-sibling::dd[1]').innerText()).trim();
  }

  /** The timeline, oldest first: each entry's headline, body, reason and internal flag. */
  async function timeline(page) {
    return page.locator('ol.timeline > li.event').evaluateAll((items) => items.map((li) => ({
      text: li.querySelector('.meta strong')?.textContent.trim() ?? '',
      body: li.querySelector('.body')?.textContent.trim() ?? '',
      reason: li.querySelector('.wrap:not(.body)')?.textContent.trim() ?? '',
      internal: li.classList.contains('internal'),
    })));
  }

  // ---- the lifecycle of one incident (each step needs the ones before it) ------------------

  let number = null; // INC-…
  const summary = 'Viewer slow to open summaries (e2e)';
  const cleanDetails = 'Patient summaries take about 40 seconds to open in the emergency department.';
  const commentText = 'Still slow this afternoon; it affects the whole department.';
  const escalateReason = 'Tier 1 checks done: network fine, needs application support.';
  const resolveReason = 'Cache node restarted; response times are back to normal.';
  const reopenReason = 'Slow again since 14:00 in the emergency department.';

  function needTicket(t) {
    if (!number) t.skip('needs the ticket raised by the first step');
    return Boolean(number);
  }

  test('1. the clinician raises an incident; the PHI guard keeps what was typed', async () => {
    const page = await as(CLINICIAN);
    // Home → "Raise a request" (the main navigation's link), then the sub-category link.
    await page.click('header nav a[href="/tickets/new"]');
    await page.waitForURL(`${base}/tickets/new`);
    const service = page.locator('section', {
      has: page.getByRole('heading', { level: 2, name: 'Community Health Record viewer' }),
    });
    const card = service.locator('.card', { has: page.getByRole('heading', { level: 3, name: 'Clinical viewer problems' }) });
    const link = card.locator('a[href*="subcategory="]', { hasText: /^Viewer is slow$/ });
    await Promise.all([page.waitForURL(/\/tickets\/new\?subcategory=\d+$/), link.click()]);

    const typed = {
      '#on_behalf_of': 'helpdesk@hhs.example',
      '#summary': summary,
      '#details': 'Opening the chart of card 9876543217 takes 40 seconds.', // a valid health card number
      '#first_occurrence': localDateTime(3),
      '#service_impact': 'Emergency department clinicians wait for patient summaries.',
      '#user_impact': 'About 30 clinicians on every shift.',
      '#troubleshooting': 'Cleared the browser cache and tried two workstations.',
    };
    for (const [selector, value] of Object.entries(typed)) await page.fill(selector, value);
    await page.check('input[name=no_workaround]');
    const screenshot = { name: 'viewer-slow.png', mimeType: 'image/png', buffer: PNG };
    await page.setInputFiles('#file', screenshot);
    // app.js lists the chosen file under the drop zone.
    await page.locator('.dropzone ul.chosen li', { hasText: 'viewer-slow.png' }).waitFor();

    // First try: refused (422) with the PHI message, nothing typed is lost.
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${base}/tickets/new` && r.request().method() === 'POST'),
      page.click('form.raise button[type=submit]'),
    ]);
    assert.equal(refused.status(), 422);
    await page.waitForLoadState('load');
    const alert = page.locator('[role=alert][data-testid=form-error]');
    await alert.waitFor();
    assert.match(await alert.innerText(), /health card number/);
    assert.doesNotMatch(await alert.innerText(), /9876543217/, 'the message masks the number');
    assert.equal(await page.getAttribute('#details', 'aria-invalid'), 'true');
    for (const [selector, value] of Object.entries(typed)) {
      assert.equal(await page.inputValue(selector), value, `${selector} kept after the refusal`);
    }
    assert.ok(await page.isChecked('input[name=no_workaround]'), '"No workaround" kept');

    // Second try: clean details. A browser never refills a file input, so the screenshot is
    // chosen again (setInputFiles replaces whatever the input holds).
    await page.fill('#details', cleanDetails);
    await page.setInputFiles('#file', screenshot);
    await submit(page, 'form.raise button[type=submit]', /\/tickets\/INC-\d+\?done=created$/);
    number = new URL(page.url()).pathname.split('/').pop();

    assert.equal((await page.locator('h1 .number').innerText()).trim(), number);
    assert.equal((await page.locator('[role=status]').innerText()).trim(), msg('en', 'done-created'));
    assert.equal(await fact(page, msg('en', 'field-on_behalf_of')), 'Hana Helpdesk'); // "Raised on behalf of"
    assert.equal(await fact(page, msg('en', 'field-channel')), msg('en', 'channel-portal'));
    const file = page.locator(`#files-title ~ table a[href^="/tickets/${number}/attachments/"]`);
    assert.equal((await file.innerText()).trim(), 'viewer-slow.png');
    // The link serves the very bytes that were uploaded.
    const download = await page.request.get(`${base}${await file.getAttribute('href')}`);
    assert.equal(download.status(), 200);
    assert.deepEqual(Buffer.from(await download.body()), PNG);
  });

  test('2. the clinician shares the ticket and comments; both are on the timeline', async (t) => {
    if (!needTicket(t)) return;
    const page = await as(CLINICIAN);
    await visit(page, `/tickets/${number}`);
    await page.fill('#share-person', 'cpc@hhs.example');
    await submit(page, 'form[action$="/share"] button[type=submit]', done(number, 'share'));
    await page.fill('#comment-body', commentText);
    await submit(page, '#comment button[type=submit]', done(number, 'comment'));

    const events = await timeline(page);
    assert.ok(events.some((e) => e.text === msg('en', 'ev-shared', { name: 'Casey Point' })), 'shared entry');
    assert.ok(events.some((e) => e.text === msg('en', 'ev-comment') && e.body === commentText), 'comment entry');
  });

  test('3. a 10-digit number that fails the check digit is accepted in a comment', async (t) => {
    if (!needTicket(t)) return;
    const page = await as(CLINICIAN);
    await visit(page, `/tickets/${number}`);
    const body = 'The viewer shows code 9876543218 at the top of the slow screen.';
    await page.fill('#comment-body', body);
    await submit(page, '#comment button[type=submit]', done(number, 'comment'));
    assert.equal(await page.locator('[data-testid=form-error]').count(), 0);
    assert.ok((await timeline(page)).some((e) => e.body === body), 'the comment is on the timeline');
  });

  test('4. agent1 (French) takes it from the service desk queue and escalates it to tier 2', async (t) => {
    if (!needTicket(t)) return;
    const page = await as(AGENT1);
    await page.waitForSelector('html[lang=fr]'); // the person's preference
    await page.click('header nav a[href="/console"]');
    await page.waitForURL(`${base}/console`);
    const sdQueue = page.locator('tr', { has: page.locator('[data-testid=queue-count-SD]') }).locator('a');
    await Promise.all([page.waitForURL(/\/console\/queue\?group=SD\b/), sdQueue.click()]);

    const open = page.locator(`table.queue tr[data-row] a[data-open][href="/tickets/${number}"]`);
    await Promise.all([page.waitForURL(`${base}/tickets/${number}`), open.click()]);

    await submit(page, 'form[action$="/assign"]:has(input[name=me]) button[type=submit]', done(number, 'assign'));
    assert.equal(await fact(page, msg('fr', 'field-assignee')), 'Taylor Tremblay');

    await page.selectOption('#new-status', 'in_progress');
    await submit(page, 'form:has(#new-status) button[type=submit]', done(number, 'status'));
    assert.equal((await page.locator('[data-testid=ticket-status]').innerText()).trim(), msg('fr', 'tstatus-in_progress'));

    await page.click('details:has(#escalate-reason) > summary');
    await page.fill('#escalate-reason', escalateReason);
    await submit(page, 'button[name=tier][value="2"]', done(number, 'escalate'));
    assert.equal(await fact(page, msg('fr', 'ticket-tier')), msg('fr', 'tier-2'));
    // The reason is an internal note, seen by agents.
    assert.ok((await timeline(page)).some((e) => e.internal && e.body === escalateReason), 'internal note');
  });

  test('5. agent2 (tier 2) resolves it with a reason', async (t) => {
    if (!needTicket(t)) return;
    const page = await as(AGENT2);
    await visit(page, `/tickets/${number}`);
    await page.selectOption('#new-status', 'resolved');
    await page.fill('#status-reason', resolveReason);
    await submit(page, 'form:has(#new-status) button[type=submit]', done(number, 'status'));
    assert.equal((await page.locator('[data-testid=ticket-status]').innerText()).trim(), msg('en', 'tstatus-resolved'));
  });

  test('6. the clinician reopens it; the timeline tells the whole story', async (t) => {
    if (!needTicket(t)) return;
    const page = await as(CLINICIAN);
    await visit(page, `/tickets/${number}`);
    await page.fill('#reopen-reason', reopenReason);
    await submit(page, 'form:has(#reopen-reason) button[type=submit]', done(number, 'status'));
    assert.equal((await page.locator('[data-testid=ticket-status]').innerText()).trim(), msg('en', 'tstatus-in_progress'));

    const events = await timeline(page);
    const st = (s) => msg('en', `tstatus-${s}`);
    // Each expected entry, in the order it happened (the timeline is oldest first).
    const expected = [
      ['created', (e) => msgRe('en', 'ev-created', { channel: msg('en', 'channel-portal') }).test(e.text)],
      ['shared', (e) => e.text === msg('en', 'ev-shared', { name: 'Casey Point' })],
      ['comment', (e) => e.text === msg('en', 'ev-comment') && e.body === commentText],
      ['assignment', (e) => e.text === msg('en', 'ev-assigned', { to: 'Taylor Tremblay' })],
      ['status new → in progress', (e) => e.text === msg('en', 'ev-status', { from: st('new'), to: st('in_progress') })],
      ['escalation to tier 2', (e) => msgRe('en', 'ev-escalated', { from: 1, to: 2 }).test(e.text)],
      ['resolution with its reason', (e) => e.reason === resolveReason
        && e.text === msg('en', 'ev-status', { from: st('in_progress'), to: st('resolved') })],
      ['reopened with its reason', (e) => e.text === msg('en', 'ev-reopened') && e.reason === reopenReason],
    ];
    const dump = JSON.stringify(events, null, 1);
    let previous = -1;
    for (const [label, matches] of expected) {
      const at = events.findIndex(matches);
      assert.ok(at >= 0, `${label} is on the timeline:\n${dump}`);
      assert.ok(at > previous, `${label} comes after the entry before it:\n${dump}`);
      previous = at;
    }
    // The clinician does not see the agents' internal note.
    assert.ok(!events.some((e) => e.internal || e.body === escalateReason), 'no internal note for the clinician');
    assert.equal(await page.getByText(escalateReason).count(), 0);
  });

  // ---- independent of the lifecycle -------------------------------------------------------

  test('7. queue keyboard shortcuts: j highlights a row, o opens it', async () => {
    const page = await as(AGENT1);
    await visit(page, '/console/queue');
    const rows = page.locator('table[data-shortcuts] tr[data-row]');
    assert.ok(await rows.count() >= 2, 'the demo queue has at least two rows');
    const highlighted = () => rows.evaluateAll((trs) => trs.flatMap((tr, i) => (tr.classList.contains('current') ? [i] : [])));
    const focusedHref = () => page.evaluate(() => document.activeElement?.getAttribute('href'));
    assert.deepEqual(await highlighted(), [], 'nothing highlighted before a key is pressed');

    await page.keyboard.press('j');
    assert.deepEqual(await highlighted(), [0], 'j highlights the first row');
    await page.keyboard.press('j');
    assert.deepEqual(await highlighted(), [1], 'j again moves to the second row');
    await page.keyboard.press('k');
    assert.deepEqual(await highlighted(), [0], 'k moves back up');
    const href = await rows.nth(0).locator('a[data-open]').getAttribute('href');
    assert.equal(await focusedHref(), href, "the highlighted row's link has the focus");

    await Promise.all([page.waitForURL(`${base}${href}`), page.keyboard.press('o')]);
  });

  test('8. agent1 logs a phone call for a clinician; the ticket has the phone channel', async () => {
    const page = await as(AGENT1);
    await visit(page, '/console/phone');
    const hhs = await page.locator('#organization_id option', { hasText: /\(HHS\)$/ }).getAttribute('value');
    await page.selectOption('#organization_id', hhs);
    await page.fill('#caller', CLINICIAN);
    await page.selectOption('#subcategory_id', { label: subcategoryName('fr', 'CHR/viewer/slow') });
    // Show the request type's own fields (a plain form submit: works without JavaScript).
    // Same URL before and after: wait for the POST's answer, then for a field it adds.
    const [refreshed] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${base}/console/phone` && r.request().method() === 'POST'),
      page.click('#refresh'),
    ]);
    assert.equal(refreshed.status(), 200);
    await page.locator('#service_impact').waitFor();
    assert.equal(await page.inputValue('#caller'), CLINICIAN, 'the caller is kept');
    await page.fill('#summary', 'Viewer slow on the phone (e2e)');
    await page.fill('#details', 'Caller reports 40-second waits opening patient summaries.');
    await page.fill('#first_occurrence', localDateTime(1));
    await page.fill('#service_impact', 'Summaries open slowly.');
    await page.fill('#user_impact', 'One clinic.');
    await page.fill('#troubleshooting', 'Caller restarted the browser.');
    await page.check('input[name=no_workaround]');
    await submit(page, 'form[action="/console/phone"] button[type=submit]:not(#refresh)', /\/tickets\/INC-\d+\?done=created$/);

    assert.equal(await fact(page, msg('fr', 'field-channel')), msg('fr', 'channel-phone'));
    assert.equal(await fact(page, msg('fr', 'field-on_behalf_of')), 'Dr. Chen Clinician');
    const events = await timeline(page);
    const created = msgRe('fr', 'ev-created', { channel: msg('fr', 'channel-phone') });
    assert.ok(events.some((e) => created.test(e.text)), `created by phone: ${JSON.stringify(events)}`);
  });

  test('no script error or CSP violation on any page visited above', () => {
    assert.deepEqual(scriptProblems, []);
  });
});
