// A major incident worked through the real pages, as a new agent would.
//
// An operator agent opens the demo's high-priority incident, presses "Major incident", names
// the incident coordinator and the bridge, adds a vendor contact, keeps "publish a status-page
// incident" ticked and declares. The major-incident view shows who is engaged (the coordinator,
// the organization's escalation contact, the vendor) and the notice due next; the agent edits
// that notice and sends it early. The public /status page shows the incident. The agent then
// resolves the ticket from its page without a root cause, and the major-incident view links the
// problem that was opened for it.
//
// The cadence on a controllable clock, the mails on a real SMTP server and the refusals are
// covered by the integration tests (crates/app/tests/it/major_incidents.rs). Words the pages
// show are read from crates/web/locales/en/*.ftl rather than retyped.
import { strict as assert } from 'node:assert';
import { existsSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  TRIAGE_BIN, loadMessages, freePort, launchBrowser, signIn, submit, startTriage, stopProcess, tempDir, triageEnv,
} from '../lib.mjs';

const AGENT = 'agent2@operator.example'; // tier 2, prefers English
const COORDINATOR = 'Morgan Lead'; // the demo's incident coordinator
const ESCALATION = 'Harriet Hall'; // HHS's escalation contact
const INCIDENT = 'INC-000001'; // the demo's "Viewer very slow since this morning" (HHS, P2)
const BRIDGE = 'Bridge 1-855-555-0100, access code 4417#';
const VENDOR = { name: 'Pat Vendor', email: 'pat.vendor@viewer-vendor.example', organization: 'Viewer Vendor Inc.' };
const EDITED_SUBJECT = 'Viewer slowness: update (sent early, e2e)';

// ---- words as the pages say them ---------------------------------------------------------

const EN = loadMessages('en');

function msg(key) {
  const text = EN.get(key);
  assert.ok(text !== undefined, `message ${key}`);
  return text;
}

// ---- the suite ---------------------------------------------------------------------------

describe('major incident', { timeout: 180_000 }, () => {
  let dir, triage, browser, base, agent;
  let summary = '';
  let problemNumber = null;
  const scriptProblems = [];

  before(async () => {
    assert.ok(existsSync(TRIAGE_BIN), `triage binary not found at ${TRIAGE_BIN} (set TRIAGE_BIN)`);
    dir = tempDir();
    triage = await startTriage(triageEnv(dir, await freePort()));
    base = triage.url;
    browser = await launchBrowser();
    agent = await newPage(AGENT);
    await signIn(agent, base, AGENT);
    await agent.waitForURL(`${base}/`);
    await agent.locator('[data-testid=whoami]').waitFor();
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

  /** The rows of a table as arrays of cell texts. */
  function rows(table) {
    return table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
  }

  const viewUrl = () => `${base}/console/major-incidents/${INCIDENT}`;
  let declared = false;
  let noticeSent = false;

  test('1. the agent declares the incident major from its page', async () => {
    assert.equal((await agent.goto(`${base}/tickets/${INCIDENT}`)).status(), 200);
    summary = (await agent.locator('h1').first().innerText()).trim();
    const button = agent.locator('[data-testid=major-incident]');
    assert.equal((await button.innerText()).trim(), msg('mi-ticket-button'));
    await Promise.all([agent.waitForURL(`${base}/tickets/${INCIDENT}/major-incident`), button.click()]);
    assert.ok((await agent.locator('h1').innerText()).includes(msg('mi-declare')));

    await agent.getByLabel(msg('mi-coordinator'), { exact: true }).selectOption({ label: COORDINATOR });
    await agent.getByLabel(msg('field-bridge'), { exact: true }).fill(BRIDGE);
    const vendor = agent.getByRole('group', { name: msg('mi-vendor') });
    await vendor.getByLabel(msg('field-name'), { exact: true }).fill(VENDOR.name);
    await vendor.getByLabel(msg('field-email'), { exact: true }).fill(VENDOR.email);
    await vendor.getByLabel(msg('mi-organization'), { exact: true }).fill(VENDOR.organization);
    await agent.getByLabel(msg('mi-publish'), { exact: true }).check();
    await agent.getByLabel(msg('mi-notify-now'), { exact: true }).check();

    const posted = await submit(agent, agent.locator('[data-testid=mi-declare]'));
    assert.equal(posted.status(), 303, 'the declaration redirects to the major-incident view');
    assert.equal(agent.url(), viewUrl());
    assert.equal(await agent.locator('[data-testid=mi-error]').count(), 0);
    declared = true;
  });

  test('2. the view shows who is engaged, the bridge, the notice sent and the next one due', async (t) => {
    if (!declared) return t.skip('needs the declaration of step 1');
    assert.equal((await agent.goto(viewUrl())).status(), 200);
    const facts = await agent.locator('main dl').innerText();
    assert.ok(facts.includes(COORDINATOR), `coordinator in:\n${facts}`);
    assert.ok(facts.includes(BRIDGE), `bridge in:\n${facts}`);
    assert.ok(facts.includes(msg('mi-status-page-link')), 'the published status-page incident is linked');

    const engaged = await rows(agent.locator('table[aria-labelledby=engaged]'));
    const names = engaged.map((r) => r[0]);
    for (const name of [COORDINATOR, ESCALATION, VENDOR.name]) {
      assert.ok(names.includes(name), `${name} engaged: ${JSON.stringify(engaged)}`);
    }
    assert.ok(engaged.some((r) => r[0] === VENDOR.name && r[3] === VENDOR.email), 'the vendor with their address');

    // "Send the service-interruption notice now" was ticked: it is among the notices sent.
    const sent = await rows(agent.locator('[data-testid=mi-sent]'));
    assert.equal(sent.length, 1, JSON.stringify(sent));
    assert.ok(Number(sent[0][4]) >= 2, `recipients of the interruption notice: ${sent[0][4]}`);

    // The next notice is due, with its drafts; nothing is overdue yet.
    const pending = agent.locator('[data-testid=mi-pending]');
    assert.ok(await pending.count() >= 1, 'a notice due next');
    const first = pending.first();
    assert.ok((await first.innerText()).includes(msg('mi-due-at').replace('{ $at }', '').trim()), 'its due time');
    assert.equal(await first.locator('[data-testid=mi-overdue]').count(), 0);
    assert.ok((await first.getByLabel(msg('mi-body-en'), { exact: true }).inputValue()).length > 20, 'an English draft');
    assert.ok((await first.getByLabel(msg('mi-body-fr'), { exact: true }).inputValue()).length > 20, 'a French draft');
  });

  test('3. the agent edits the next notice and sends it early', async (t) => {
    if (!declared) return t.skip('needs the declaration of step 1');
    assert.equal((await agent.goto(viewUrl())).status(), 200);
    const card = agent.locator('[data-testid=mi-pending]').first();
    const label = (await card.locator('h3').innerText()).trim();
    await card.getByLabel(msg('mi-subject-en'), { exact: true }).fill(EDITED_SUBJECT);
    const body = card.getByLabel(msg('mi-body-en'), { exact: true });
    await body.fill(`${await body.inputValue()}\n\nThe vendor has joined the bridge.`);
    const posted = await submit(agent, card.getByRole('button', { name: msg('mi-send-now') }));
    assert.equal(posted.status(), 303);
    assert.equal(agent.url(), viewUrl());
    assert.equal(await agent.locator('[data-testid=mi-error]').count(), 0);

    const sent = await rows(agent.locator('[data-testid=mi-sent]'));
    assert.equal(sent.length, 2, JSON.stringify(sent));
    const early = sent.find((r) => r[0] === label);
    assert.ok(early, `the notice "${label}" among those sent: ${JSON.stringify(sent)}`);
    assert.ok(early[5].includes(EDITED_SUBJECT), `sent with the edited subject: ${early[5]}`);
    assert.equal(early[3], 'Jordan Tier-Two', 'sent by the agent');
    // The text as sent is kept, edits included.
    const details = agent.locator('[data-testid=mi-sent] details', { hasText: EDITED_SUBJECT });
    await details.locator('summary').click();
    assert.ok((await details.locator('pre').innerText()).includes('The vendor has joined the bridge.'));
    noticeSent = true;
  });

  test('4. the public status page shows the incident', async (t) => {
    if (!declared) return t.skip('needs the declaration of step 1');
    const page = await newPage('public');
    try {
      const res = await page.goto(`${base}/status`);
      assert.equal(res.status(), 200);
      assert.equal(await page.locator('[data-testid=whoami]').count(), 0, 'not signed in');
      const text = await page.locator('main').innerText();
      assert.ok(summary.length > 0 && text.includes(summary.replace(/^INC-\d+\s*[:·-]?\s*/, '')),
        `"${summary}" on the public page:\n${text}`);
    } finally {
      await page.context().close();
    }
  });

  test('5. resolved without a root cause, a problem is opened and linked on the view', async (t) => {
    if (!declared) return t.skip('needs the declaration of step 1');
    assert.equal((await agent.goto(`${base}/tickets/${INCIDENT}`)).status(), 200);
    const form = agent.locator('form[action$="/status"]:has(#new-status)');
    await form.locator('#new-status').selectOption('resolved');
    await form.getByLabel(msg('field-status_reason'), { exact: true })
      .fill('Viewer restarted on the application server; response times are back to normal.');
    assert.equal(await form.locator('#root-cause').inputValue(), '', 'no root cause given');
    const posted = await submit(agent, form.getByRole('button', { name: msg('save') }));
    assert.ok([200, 303].includes(posted.status()), `resolution answered ${posted.status()}`);
    assert.equal(await agent.locator('.field-error').count(), 0, 'no error on the ticket page');

    assert.equal((await agent.goto(viewUrl())).status(), 200);
    const facts = await agent.locator('main dl').innerText();
    assert.ok(facts.includes(msg('mi-root-cause-unknown')), `root cause unknown in:\n${facts}`);
    const link = agent.locator('[data-testid=mi-problem]');
    problemNumber = (await link.innerText()).trim();
    assert.match(problemNumber, /^PRB-\d+$/);
    // The restoration notice went out with the resolution; nothing is left due.
    assert.ok(await agent.getByText(msg('mi-nothing-pending'), { exact: true }).isVisible());
    assert.equal((await rows(agent.locator('[data-testid=mi-sent]'))).length, noticeSent ? 3 : 2);

    await Promise.all([agent.waitForURL(`${base}/tickets/${problemNumber}`), link.click()]);
    const heading = await agent.locator('h1').first().innerText();
    assert.ok(heading.includes(INCIDENT), `the problem names the incident: ${heading}`);
  });

  test('no script errors', () => {
    assert.deepEqual(scriptProblems, []);
  });
});
