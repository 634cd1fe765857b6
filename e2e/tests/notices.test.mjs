// Mail templates, distribution lists and notices through the real pages.
//
// The administrator previews a French template (with example values), is refused a draft
// that uses an unknown variable, saves a version and puts the shipped text back in use.
// Then a custom distribution list: a person and an unknown address are added, a notice is
// refused once for a health card number and then sent. The clinician asks to leave the
// list; an agent confirms it. The notice is in the admin outbox, in both languages for the
// unknown address, with a signed one-click List-Unsubscribe link that works without
// signing in.
//
// Everyone here prefers English and the browser asks for English. Words the pages show are
// read from crates/web/locales/*/main.ftl rather than retyped.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  E2E_DIR, TRIAGE_BIN, freePort, launchBrowser, signIn, submit, startTriage, stopProcess, tempDir, triageEnv,
} from '../lib.mjs';

const ADMIN = 'admin@operator.example';
const AGENT2 = 'agent2@operator.example'; // an agent (not an administrator), prefers English
const CLINICIAN = 'clinician@hhs.example'; // prefers English
const CLINICIAN_NAME = 'Dr. Chen Clinician';
const OUTSIDER = 'outside@partner.example'; // no account: gets notices in both languages

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

const EN = loadMessages('en');

/** An English message with its `{ $name }` placeables filled in (no selectors). */
function msg(key, args = {}) {
  const text = EN.get(key);
  assert.ok(text !== undefined, `message ${key}`);
  return text.replace(/\{ \$(\w+) \}/g, (_, name) => {
    assert.ok(name in args, `argument ${name} of ${key}`);
    return String(args[name]);
  });
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (text) => new RegExp(`^\\s*${escapeRe(text)}\\s*$`);

// ---- the suite ---------------------------------------------------------------------------

describe('mail templates, distribution lists and notices', { timeout: 180_000 }, () => {
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

  /** A fresh English browser context (cookie jar) whose script problems are recorded. */
  async function newPage(label) {
    const context = await browser.newContext({ locale: 'en-CA' });
    // Every page answers in well under a second: fail in 15 s rather than Playwright's 30.
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => scriptProblems.push(`${label} ${page.url()}: ${err.message}`));
    page.on('console', (m) => {
      // "Failed to load resource" only reports an HTTP status (the expected 422s, the
      // browser's own /favicon.ico request); CSP refusals and script errors are kept.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        scriptProblems.push(`${label} ${page.url()}: console: ${m.text()}`);
      }
    });
    return page;
  }

  /** A signed-in page for `email`, one browser context per person, kept for the file. */
  async function as(email) {
    if (!sessions.has(email)) {
      const page = await newPage(email);
      await signIn(page, base, email);
      await page.waitForURL(`${base}/`);
      await page.locator('[data-testid=whoami]').waitFor();
      sessions.set(email, page);
    }
    return sessions.get(email);
  }

  async function visit(page, path, status = 200) {
    const res = await page.goto(`${base}${path}`);
    assert.equal(res.status(), status, `GET ${path}`);
  }

  /** The rows of the table right after the <h2> saying `heading`, as arrays of cell texts. */
  async function tableAfter(page, heading) {
    const table = page.locator('h2', { hasText: new RegExp(`^${escapeRe(heading)}`) })
      .locator('xpath=following-sibling::table[1]');
    return table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => (
      [...tr.querySelectorAll('td')].map((td) => td.textContent.replace(/\s+/g, ' ').trim())
    )));
  }

  const dump = (rows) => JSON.stringify(rows, null, 1);

  // ---- 1. mail templates -------------------------------------------------------------------

  test('1. the administrator previews, saves and restores the French "request received" mail', async () => {
    const page = await as(ADMIN);
    await page.click(`header nav a[href="/admin/templates"]`);
    await page.waitForURL(`${base}/admin/templates`);
    const row = page.locator('tbody tr', { has: page.locator('code', { hasText: /^ticket-created$/ }) });
    const frLink = row.locator('a[href="/admin/templates/ticket-created/fr"]');
    assert.equal(await row.locator('a[href="/admin/templates/ticket-created/en"]').count(), 1);
    await Promise.all([page.waitForURL(`${base}/admin/templates/ticket-created/fr`), frLink.click()]);

    const subject = page.getByLabel(msg('templates-subject'), { exact: true }); // input name=subject
    // Not exact: a <label> wrapping a <textarea> also holds the textarea's text.
    const body = page.getByLabel(msg('templates-body')); // textarea name=body
    assert.equal(await subject.getAttribute('name'), 'subject');
    assert.equal(await body.getAttribute('name'), 'body');
    const previewButton = page.locator('button[name=action][value=preview]');
    const saveButton = page.getByRole('button', { name: msg('templates-save') });
    assert.equal((await previewButton.innerText()).trim(), msg('templates-preview'));
    const preview = page.locator('[data-testid=preview]');
    const alert = page.locator('[role=alert]');

    // The shipped text (v0), which the form starts with.
    let history = await tableAfter(page, msg('templates-history'));
    assert.equal(history.length, 1, `only the shipped version:\n${dump(history)}`);
    assert.equal(history[0][0], `v0 (${msg('templates-in-use')})`);
    assert.equal(history[0][1], msg('templates-shipped'));
    const shippedSubject = await subject.inputValue();
    const shippedBody = await body.inputValue();
    assert.equal(history[0][2], shippedSubject);

    // Preview a draft: the example number is filled in; nothing is saved.
    const draftBody = 'Demande {{ number }} reçue : {{ summary }}\nSuivez-la ici : {{ link }}\n';
    await subject.fill('Reçu : {{ number }}');
    await body.fill(draftBody);
    let res = await submit(page, previewButton);
    assert.equal(res.status(), 200);
    assert.equal((await preview.locator('strong').innerText()).trim(), 'Reçu : INC-000123');
    assert.match(await preview.locator('pre').innerText(), /^Demande INC-000123 reçue : .+\nSuivez-la ici : https:\/\/\S+\/INC-000123/);
    assert.equal(await alert.count(), 0);
    assert.equal(await subject.inputValue(), 'Reçu : {{ number }}', 'the draft is kept');
    assert.equal((await tableAfter(page, msg('templates-history'))).length, 1, 'a preview saves nothing');

    // A misspelt variable is refused (422), whether previewed or saved; the draft is kept.
    await subject.fill('Reçu : {{ numbr }}');
    for (const button of [previewButton, saveButton]) {
      res = await submit(page, button);
      assert.equal(res.status(), 422);
      await alert.waitFor();
      const refused = await alert.innerText();
      assert.ok(refused.startsWith(msg('error-template_invalid', { field: msg('field-subject'), reason: '' }).trim()),
        `refusal message: ${refused}`);
      assert.equal(await preview.count(), 0, 'no preview of a refused draft');
      assert.equal(await subject.inputValue(), 'Reçu : {{ numbr }}', 'the draft is kept');
      assert.equal(await body.inputValue(), draftBody, 'the text is kept');
    }
    assert.equal((await tableAfter(page, msg('templates-history'))).length, 1, 'nothing was saved');

    // Save a valid version: v1 is in use.
    await subject.fill('Reçu : {{ number }}');
    res = await submit(page, saveButton);
    assert.equal(res.status(), 200);
    assert.equal((await page.locator('[role=status]').innerText()).trim(), msg('templates-saved'));
    history = await tableAfter(page, msg('templates-history'));
    assert.deepEqual(history.map((r) => r[0]), [`v1 (${msg('templates-in-use')})`, 'v0'], dump(history));
    assert.equal(history[0][2], 'Reçu : {{ number }}');
    assert.match(history[0][1], /Alex Admin/, 'who saved it');

    // "Use this version again" on the v0 row saves the shipped text as v2.
    const v0 = page.locator('tbody tr', { has: page.locator('td', { hasText: /^v0$/ }) });
    res = await submit(page, v0.getByRole('button', { name: msg('templates-restore') }));
    assert.equal(res.status(), 200);
    history = await tableAfter(page, msg('templates-history'));
    assert.deepEqual(history.map((r) => r[0]), [`v2 (${msg('templates-in-use')})`, 'v1', 'v0'], dump(history));
    assert.equal(history[0][2], shippedSubject);
    await visit(page, '/admin/templates/ticket-created/fr');
    assert.equal(await subject.inputValue(), shippedSubject, 'the form shows the version in use');
    assert.equal(await body.inputValue(), shippedBody);
    assert.ok((await preview.locator('strong').innerText()).includes('INC-000123'));

    // The overview names the version in use.
    await visit(page, '/admin/templates');
    assert.equal((await row.locator('td').nth(2).locator('.muted').innerText()).trim(), 'v2');
    assert.equal((await row.locator('td').nth(1).locator('.muted').innerText()).trim(), 'v0');
  });

  test('templates are for administrators only', async () => {
    const agent = await as(AGENT2);
    await visit(agent, '/admin/templates', 403);
    await visit(agent, '/admin/templates/ticket-created/fr', 403);
    assert.equal(await agent.locator('header nav a[href="/admin/templates"]').count(), 0);
  });

  // ---- 2.–6. a distribution list (each step needs the ones before it) ---------------------

  const stamp = Date.now().toString(36);
  const list = {
    code: `E2E-${stamp}`,
    name_en: `E2E viewer notices ${stamp}`,
    name_fr: `Avis E2E du visualiseur ${stamp}`,
  };
  const notice = {
    subject_en: 'Planned maintenance of the clinical viewer',
    body_en: 'The clinical viewer will be unavailable on Saturday from 02:00 to 04:00.',
    subject_fr: 'Maintenance prévue du visualiseur clinique',
    body_fr: 'Le visualiseur clinique sera indisponible samedi de 2 h à 4 h.',
  };
  const leaveReason = 'I moved to another hospital.';
  let listPath = null; // /admin/lists/{id}

  function needList(t) {
    if (!listPath) t.skip('needs the list created by step 2');
    return Boolean(listPath);
  }

  /** The "members added by hand and removal requests" table: { label: [status, reason] }. */
  async function members(page) {
    const rows = await tableAfter(page, msg('lists-requests'));
    return Object.fromEntries(rows.filter((r) => r.length > 1).map((r) => [r[0], r.slice(1, 3)]));
  }

  /** The recipients table: { email: [language, how] }. */
  async function recipients(page) {
    const rows = await tableAfter(page, msg('lists-recipients'));
    return Object.fromEntries(rows.filter((r) => r.length > 1).map((r) => [r[0], r.slice(1)]));
  }

  test('2. the administrator creates a custom list, adds members and sends a notice', async () => {
    const page = await as(ADMIN);
    await page.click('header nav a[href="/admin/lists"]');
    await page.waitForURL(`${base}/admin/lists`);
    await page.getByLabel(msg('field-code')).fill(list.code);
    await page.getByLabel(msg('field-name_en')).fill(list.name_en);
    await page.getByLabel(msg('field-name_fr')).fill(list.name_fr);
    await page.getByLabel(msg('field-kind')).selectOption('custom');
    await Promise.all([
      page.waitForURL(/\/admin\/lists\/\d+$/),
      page.locator('form[action="/admin/lists"]').getByRole('button', { name: msg('lists-create') }).click(),
    ]);
    listPath = new URL(page.url()).pathname;
    assert.equal((await page.locator('h1').innerText()).trim(), `${list.name_en} (${list.code})`);
    assert.equal((await page.locator('h1 + p').innerText()).trim(), msg('lists-kind-custom'));
    assert.deepEqual(await recipients(page), {}, 'a new custom list reaches nobody');

    // A person's address (their language) and an unknown address (both languages).
    await page.getByLabel(msg('lists-emails')).fill(`${CLINICIAN}\n${OUTSIDER}`);
    let res = await submit(page, page.locator('form[action$="/members"]').getByRole('button', { name: msg('lists-add') }));
    assert.equal(res.status(), 303, 'redirected back to the list');
    assert.equal(page.url(), `${base}${listPath}`);
    const reached = await recipients(page);
    assert.deepEqual(reached, {
      [CLINICIAN]: ['en', msg('lists-by-hand')],
      [OUTSIDER]: [msg('lists-both-languages'), msg('lists-by-hand')],
    }, dump(reached));
    assert.equal((await page.locator('h2', { hasText: msg('lists-recipients') }).last().innerText()).trim(),
      `${msg('lists-recipients')} (2)`);
    const added = await members(page);
    assert.deepEqual(added, {
      [CLINICIAN_NAME]: [msg('lists-status-active'), ''],
      [OUTSIDER]: [msg('lists-status-active'), ''],
    }, dump(added));

    // A notice with a health card number is refused by the server, with everything kept.
    const form = page.locator('form[action$="/notice"]');
    const fields = {
      [msg('lists-subject-en')]: notice.subject_en,
      [msg('lists-body-en')]: `${notice.body_en} Test with card 9876-543-217.`, // a valid number
      [msg('lists-subject-fr')]: notice.subject_fr,
      [msg('lists-body-fr')]: notice.body_fr,
    };
    for (const [label, value] of Object.entries(fields)) await form.getByLabel(label).fill(value);
    const send = form.getByRole('button', { name: msg('lists-send') });
    res = await submit(page, send);
    assert.equal(res.status(), 422);
    const alert = page.locator('[role=alert]');
    await alert.waitFor();
    const refused = await alert.innerText();
    assert.match(refused, /health card number/);
    assert.ok(refused.includes(msg('field-body_en')), `names the field: ${refused}`);
    assert.doesNotMatch(refused, /9876-543-217/, 'the message masks the number');
    assert.equal(await page.locator('[data-testid=notice-sent]').count(), 0);
    for (const [label, value] of Object.entries(fields)) {
      assert.equal(await form.getByLabel(label).inputValue(), value, `${label} kept after the refusal`);
    }
    assert.deepEqual(await tableAfter(page, msg('lists-notices')), [['—']], 'no notice was sent');

    // Without it, the notice goes to both recipients.
    await form.getByLabel(msg('lists-body-en')).fill(notice.body_en);
    res = await submit(page, send);
    assert.equal(res.status(), 200);
    const sent = page.locator('[data-testid=notice-sent]');
    assert.equal((await sent.innerText()).trim(), `${msg('lists-notice-sent')} 2`);
    assert.equal(await page.locator('[role=alert]').count(), 0);
    for (const label of Object.keys(fields)) {
      assert.equal(await form.getByLabel(label).inputValue(), '', `${label} emptied after sending`);
    }
    const notices = await tableAfter(page, msg('lists-notices'));
    assert.equal(notices.length, 1, dump(notices));
    assert.deepEqual(notices[0].slice(1), [notice.subject_en, '2']);

    // The overview counts them.
    await visit(page, '/admin/lists');
    const overview = page.locator('tbody tr', { has: page.locator(`a[href="${listPath}"]`) });
    assert.deepEqual(
      await overview.locator('td').evaluateAll((tds) => tds.map((td) => td.textContent.trim())),
      [list.code, list.name_en, msg('lists-kind-custom'), '2', '0'],
    );
  });

  test('lists: agents see them without the create form; partners may not', async (t) => {
    if (!needList(t)) return;
    const agent = await as(AGENT2);
    await agent.click('header nav a[href="/admin/lists"]');
    await agent.waitForURL(`${base}/admin/lists`);
    assert.equal(await agent.locator(`a[href="${listPath}"]`).count(), 1);
    assert.equal(await agent.locator('form[action="/admin/lists"]').count(), 0, 'no create form for an agent');

    const clinician = await as(CLINICIAN);
    await visit(clinician, '/admin/lists', 403);
    await visit(clinician, listPath, 403);
    assert.equal(await clinician.locator('header nav a[href="/admin/lists"]').count(), 0);
  });

  test('3. the clinician asks to be removed from the list', async (t) => {
    if (!needList(t)) return;
    const page = await as(CLINICIAN);
    await page.click('header nav a[href="/lists"]');
    await page.waitForURL(`${base}/lists`);
    const row = page.locator('tbody tr', { has: page.locator('td', { hasText: exactly(list.name_en) }) });
    assert.equal((await row.locator('td').nth(1).innerText()).trim(), msg('lists-status-active'));

    await row.locator('input[name=reason]').fill(leaveReason);
    const res = await submit(page, row.getByRole('button', { name: msg('lists-leave') }));
    assert.equal(res.status(), 200);
    assert.equal((await page.locator('[role=status]').innerText()).trim(), msg('lists-removal-requested'));
    assert.equal((await row.locator('td').nth(1).innerText()).trim(), msg('lists-status-removal_requested'));
    assert.equal(await row.getByRole('button', { name: msg('lists-leave') }).count(), 0, 'asked once');
  });

  test('4. an agent confirms the removal; the clinician no longer receives the list', async (t) => {
    if (!needList(t)) return;
    const page = await as(AGENT2);
    await visit(page, listPath);
    const row = page.locator('tbody tr', { has: page.locator('td', { hasText: exactly(CLINICIAN_NAME) }) });
    assert.deepEqual((await members(page))[CLINICIAN_NAME], [msg('lists-status-removal_requested'), leaveReason]);
    assert.equal(await row.getByRole('button', { name: msg('lists-decline') }).count(), 1, '"Keep on the list"');
    assert.equal(await page.getByRole('button', { name: msg('lists-confirm') }).count(), 1, 'one request to decide');

    const res = await submit(page, row.getByRole('button', { name: msg('lists-confirm') }));
    assert.equal(res.status(), 303, 'redirected back to the list');
    assert.equal(page.url(), `${base}${listPath}`);
    assert.equal((await members(page))[CLINICIAN_NAME][0], msg('lists-status-removed'));
    assert.equal(await page.getByRole('button', { name: msg('lists-confirm') }).count(), 0);
    const reached = await recipients(page);
    assert.deepEqual(Object.keys(reached), [OUTSIDER], dump(reached));

    const clinician = await as(CLINICIAN);
    await visit(clinician, '/lists');
    const mine = clinician.locator('tbody tr', { has: clinician.locator('td', { hasText: exactly(list.name_en) }) });
    assert.equal((await mine.locator('td').nth(1).innerText()).trim(), msg('lists-status-removed'));
  });

  /** The outbox entries (newest first): to, subject and the raw message. */
  async function outbox(page) {
    await visit(page, '/admin/outbox');
    return page.locator('main details.card').evaluateAll((cards) => cards.map((d) => {
      const parts = d.querySelector('summary').textContent.split(' · ').map((s) => s.trim());
      return { to: parts[1], subject: parts[2], raw: d.querySelector('pre')?.textContent ?? '' };
    }));
  }

  let unsubscribeUrl = null;

  test('5. the outbox holds the notice, both languages for the unknown address', async (t) => {
    if (!needList(t)) return;
    const page = await as(ADMIN);
    const messages = await outbox(page);
    const overview = dump(messages.map(({ to, subject }) => ({ to, subject })));

    const toOutsider = messages.filter((m) => m.to === OUTSIDER);
    assert.equal(toOutsider.length, 1, `one message to ${OUTSIDER}:\n${overview}`);
    assert.equal(toOutsider[0].subject, `${notice.subject_en} / ${notice.subject_fr}`);
    const toClinician = messages.filter((m) => m.to === CLINICIAN && m.subject === notice.subject_en);
    assert.equal(toClinician.length, 1, `the notice to ${CLINICIAN}, in English only:\n${overview}`);
    // Step 4's confirmation told the clinician (list-removal-confirmed, shipped v0 text).
    assert.ok(messages.some((m) => m.to === CLINICIAN && m.subject.endsWith(list.name_en)),
      `the clinician is told of the removal:\n${overview}`);

    // Open it (a <details>): the raw message, with a signed one-click unsubscribe link.
    const card = page.locator('main details.card', { has: page.locator('summary', { hasText: OUTSIDER }) });
    await card.locator('summary').click();
    const raw = await card.locator('pre').innerText();
    const headers = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
    const link = headers.match(/^List-Unsubscribe: <([^>]+)>$/im);
    assert.ok(link, `a List-Unsubscribe header:\n${headers}`);
    assert.match(headers, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/im);
    unsubscribeUrl = link[1].replace(/\s+/g, '');
    assert.match(unsubscribeUrl, new RegExp(`^${escapeRe(base)}/unsubscribe/[\\w-]+\\.[\\w-]+$`));
  });

  test('6. the unsubscribe link works without signing in and asks the desk for removal', async (t) => {
    if (!unsubscribeUrl) {
      t.skip('needs the link read from the outbox by step 5');
      return;
    }
    const page = await newPage('anonymous');
    try {
      // Opening the link changes nothing (mail scanners open links): it asks first.
      const res = await page.goto(unsubscribeUrl);
      assert.equal(res.status(), 200);
      assert.equal(await page.locator('[data-testid=whoami]').count(), 0, 'not signed in');
      assert.equal((await page.locator('main p').first().innerText()).trim(),
        `${msg('unsubscribe-list-ask')} ${list.name_en}`);
      const admin = await as(ADMIN);
      await visit(admin, listPath);
      assert.equal((await members(admin))[OUTSIDER][0], msg('lists-status-active'), 'a GET changes nothing');

      const posted = await submit(page, page.getByRole('button', { name: msg('unsubscribe-list-button') }));
      assert.equal(posted.status(), 200);
      const done = page.locator('[data-testid=unsubscribe-done]');
      assert.equal((await done.innerText()).trim(), `${msg('unsubscribe-list-done')} ${list.name_en}`);

      // A tampered link is refused.
      const dot = unsubscribeUrl.lastIndexOf('.'); // <payload>.<signature>: change the signature
      const flipped = unsubscribeUrl[dot + 1] === 'A' ? 'B' : 'A';
      const forged = await page.goto(`${unsubscribeUrl.slice(0, dot + 1)}${flipped}${unsubscribeUrl.slice(dot + 2)}`);
      assert.equal(forged.status(), 404);

      // The desk sees the request.
      await visit(admin, listPath);
      assert.equal((await members(admin))[OUTSIDER][0], msg('lists-status-removal_requested'));
      assert.equal(await admin.getByRole('button', { name: msg('lists-confirm') }).count(), 1);
    } finally {
      await page.context().close();
    }
  });

  test('no script error or CSP violation on any page visited above', () => {
    assert.deepEqual(scriptProblems, []);
  });
});
