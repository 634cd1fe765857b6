// Change management through the real pages, as a new change manager would.
//
// The demo's change manager fills the RFC form (a normal change, every required field), first
// without a back-out plan (the form says which field is missing), then with it; the RFC page
// shows the CAB it goes to and the earliest date it may be implemented. From the CAB list the
// manager opens that meeting's agenda, sees the RFC with its conflict flag (and the demo's two
// overlapping HL7 engine changes flagged against each other) and approves it with the form; the
// RFC page then shows it authorized. The freeze list shows the demo's freezes and refuses a
// freeze announced with too little notice. The change calendar's month view shows the RFC and
// the Sunday windows, its service filter keeps or hides the RFC, and its iCalendar link
// downloads a text/calendar file naming the RFC. A partner sees its own organization's RFC on
// the portal and not the operator's; another partner does not see it. The latent RFC report
// shows the emergency repair of the demo's P1 incident, filed on time.
//
// The rules themselves (deadlines, lead times, holidays, freezes, notices) are covered by the
// integration tests (crates/app/tests/it/{changes,cab,freezes,change_calendar}.rs). Words the
// pages show are read from crates/web/locales/en/*.ftl rather than retyped.
import { strict as assert } from 'node:assert';
import { existsSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  TRIAGE_BIN, loadMessages, freePort, launchBrowser, signIn, submit, startTriage, stopProcess, tempDir, triageEnv,
} from '../lib.mjs';

const MANAGER = 'change@operator.example'; // Chris Change: change manager, English
const HHS = 'cpc@hhs.example'; // Casey Point: HHS's single point of contact
const NIAGARA = 'helpdesk@niagara.example'; // another partner's help desk
// Demo records (crates/app/src/demo.rs).
const DEMO_FREEZE = 'Regional EHR platform migration freeze';
const DEMO_HHS_RFC = 'HHS laboratory system upgrade: new HL7 sending endpoint';
const DEMO_HL7_RFC = 'Upgrade the HL7 interface engine to version 5.2';
const SUMMARY = 'Renew the viewer TLS certificate (e2e)';

// ---- words as the pages say them ---------------------------------------------------------

const EN = loadMessages('en');

function msg(key) {
  const text = EN.get(key);
  assert.ok(text !== undefined, `message ${key}`);
  return text;
}

/** The literal text of a message before its first placeable. */
function prefix(key) {
  return msg(key).split('{')[0].trim();
}

/** `YYYY-MM-DD` of a Date (UTC). */
function day(d) {
  return d.toISOString().slice(0, 10);
}

/** A Tuesday four to five weeks from now: past every lead time, outside the Sunday window,
 * before the demo's freeze (45 days out). */
function tuesdayAhead() {
  const d = new Date(Date.now() + 28 * 24 * 3600 * 1000);
  while (d.getUTCDay() !== 2) d.setUTCDate(d.getUTCDate() + 1);
  return day(d);
}

// ---- the suite ---------------------------------------------------------------------------

describe('change management', { timeout: 240_000 }, () => {
  let dir, triage, browser, base, manager;
  let number = null;
  let cabDate = null;
  let authorized = false;
  const when = tuesdayAhead();
  const scriptProblems = [];

  before(async () => {
    assert.ok(existsSync(TRIAGE_BIN), `triage binary not found at ${TRIAGE_BIN} (set TRIAGE_BIN)`);
    dir = tempDir();
    triage = await startTriage(triageEnv(dir, await freePort()));
    base = triage.url;
    browser = await launchBrowser();
    manager = await signedIn(MANAGER);
  });

  after(async () => {
    await browser?.close();
    await stopProcess(triage?.proc);
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(scriptProblems, [], 'no script errors on the pages');
  });

  async function signedIn(email) {
    const context = await browser.newContext({ locale: 'en-CA', acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => scriptProblems.push(`${email} ${page.url()}: ${err.message}`));
    await signIn(page, base, email);
    await page.waitForURL(`${base}/`);
    await page.locator('[data-testid=whoami]').waitFor();
    return page;
  }

  const field = (page, key) => page.getByLabel(msg(key), { exact: false }).first();

  test('1. the change manager submits an RFC; a missing back-out plan is named first', async () => {
    assert.equal((await manager.goto(`${base}/console/changes/new`)).status(), 200);
    assert.equal((await manager.locator('h1').innerText()).trim(), msg('changes-new'));
    const form = manager.locator('form[aria-labelledby=new-title]');
    await form.locator('select[name=change_type]').selectOption('normal');
    await form.locator('select[name=origin]').selectOption('operator');
    await field(form, 'field-summary').fill(SUMMARY);
    await field(form, 'field-description').fill('Install the renewed TLS certificate on the viewer.');
    await field(form, 'change-field-reason').fill('The current certificate expires next month.');
    await field(form, 'field-product_category').fill('Certificates');
    await form.locator('select[name=risk]').selectOption('low');
    await form.locator('select[name=impact]').selectOption('3');
    await form.locator('select[name=urgency]').selectOption('3');
    for (const [name, value] of [
      ['notice_required', 'yes'], ['disaster_recovery_exists', 'yes'], ['training_documents_exist', 'no'],
      ['tested_in_lower_environments', 'yes'], ['users_affected', 'no'], ['outage_required', 'no'],
    ]) {
      await form.locator(`select[name=${name}]`).selectOption(value);
    }
    await form.locator('input[name=requested_start]').fill(`${when}T14:00`);
    await form.locator('input[name=requested_end]').fill(`${when}T15:00`);
    await field(form, 'field-affected_services').fill('CHR');
    await field(form, 'field-configuration_items').fill('cert-viewer-tls');
    await field(form, 'field-implementer').fill('Operator infrastructure team');
    await form.locator('textarea[name=implementation_plan]').fill('Import the certificate and reload the web servers one at a time.');

    let posted = await submit(manager, manager.locator('[data-testid=submit-change]'));
    assert.equal(posted.status(), 422, 'refused without a back-out plan');
    const error = await manager.locator('[data-testid=change-error]').innerText();
    assert.ok(error.includes(prefix('error-missing_fields')), error);
    assert.ok(error.includes('backout_plan') || error.includes(msg('field-backout_plan')), `names the back-out plan: ${error}`);
    // What was typed is kept.
    assert.equal(await manager.locator('input[name=summary]').inputValue(), SUMMARY);

    await manager.locator('textarea[name=backout_plan]').fill('Reload the web servers with the previous certificate.');
    posted = await submit(manager, manager.locator('[data-testid=submit-change]'));
    assert.equal(posted.status(), 303, 'submitted');
    const m = manager.url().match(/\/console\/changes\/(CHG-\d+)$/);
    assert.ok(m, `the RFC's page: ${manager.url()}`);
    number = m[1];
    assert.equal(await manager.locator('[data-testid=change-error]').count(), 0);
    const cab = await manager.locator('[data-testid=change-cab]').innerText();
    assert.ok(cab.includes(prefix('change-cab-goes-to')), cab);
    const date = cab.match(/\d{4}-\d{2}-\d{2}/);
    assert.ok(date, `the CAB's date in: ${cab}`);
    cabDate = date[0];
    assert.equal(new Date(`${cabDate}T12:00:00Z`).getUTCDay(), 3, 'the CAB meets on a Wednesday');
    const earliest = await manager.locator('[data-testid=change-earliest]').innerText();
    assert.ok(earliest.includes(prefix('change-earliest')), earliest);
    assert.match(earliest, /\d{4}-\d{2}-\d{2}/);
    assert.equal((await manager.locator('[data-testid=change-status]').innerText()).trim(), 'Submitted');
  });

  test('2. the CAB agenda shows the RFC with its flags; the manager approves it', async (t) => {
    if (!number) return t.skip('needs the RFC of step 1');
    assert.equal((await manager.goto(`${base}/console/cab`)).status(), 200);
    await Promise.all([
      manager.waitForURL(`${base}/console/cab/${cabDate}`),
      manager.locator('[data-testid=cab-meetings]').getByRole('link', { name: cabDate, exact: true }).click(),
    ]);
    const line = manager.locator('[data-testid=agenda-line]', { hasText: number });
    assert.equal(await line.count(), 1, `${number} on the agenda of ${cabDate}`);
    const flags = await line.locator('[data-testid=agenda-flags]').innerText();
    assert.ok(!flags.includes(msg('cab-no-flags')), flags);
    assert.ok(flags.includes('Outside the maintenance windows'), `flagged outside the windows: ${flags}`);

    await line.locator('select[name=decision]').selectOption('approved');
    const posted = await submit(manager, line.getByRole('button', { name: msg('cab-decide') }));
    assert.equal(posted.status(), 303);
    assert.equal(await manager.locator('[data-testid=cab-error]').count(), 0);
    const decisions = await manager.locator('table', { hasText: msg('cab-decided-by') }).innerText();
    assert.ok(decisions.includes(number), decisions);

    assert.equal((await manager.goto(`${base}/console/changes/${number}`)).status(), 200);
    assert.equal((await manager.locator('[data-testid=change-status]').innerText()).trim(), 'Authorized');
    assert.ok((await manager.locator('[data-testid=change-decisions]').innerText()).includes(cabDate));
    authorized = true;
  });

  test('3. the demo\'s two changes on the HL7 engine are flagged against each other on their agenda', async () => {
    assert.equal((await manager.goto(`${base}/console/changes`)).status(), 200);
    const partnerNumber = (await manager.locator('[data-testid=changes] tr', { hasText: DEMO_HHS_RFC }).innerText()).match(/CHG-\d+/)?.[0];
    assert.ok(partnerNumber, 'the HHS RFC listed');
    await Promise.all([
      manager.waitForURL(/\/console\/changes\/CHG-\d+$/),
      manager.locator('[data-testid=changes] tr', { hasText: DEMO_HL7_RFC }).getByRole('link').click(),
    ]);
    const date = (await manager.locator('[data-testid=change-cab]').innerText()).match(/\d{4}-\d{2}-\d{2}/)[0];
    assert.ok((await manager.locator('[data-testid=change-flags]').innerText()).includes(`Overlaps ${partnerNumber}`));
    assert.equal((await manager.goto(`${base}/console/cab/${date}`)).status(), 200);
    const hl7 = manager.locator('[data-testid=agenda-line]', { hasText: DEMO_HL7_RFC });
    const partner = manager.locator('[data-testid=agenda-line]', { hasText: DEMO_HHS_RFC });
    assert.equal(await hl7.count(), 1);
    assert.equal(await partner.count(), 1);
    const flags = await hl7.locator('[data-testid=agenda-flags]').innerText();
    assert.ok(flags.includes(`Overlaps ${partnerNumber} on FEEDS, hl7-engine`), `the conflict with its reason: ${flags}`);
    const facts = await partner.innerText();
    assert.ok(facts.includes('Morgan Lead') && facts.includes('Casey Point'), `the partner RFC's presenter and SPOC: ${facts}`);
  });

  test('4. the freeze list shows the demo freeze and refuses one announced too late', async () => {
    assert.equal((await manager.goto(`${base}/console/freezes`)).status(), 200);
    const list = await manager.locator('[data-testid=freezes]').innerText();
    assert.ok(list.includes(DEMO_FREEZE), list);
    assert.ok(list.includes('HHS clinical system go-live'), 'the freeze HHS announced');

    const soon = day(new Date(Date.now() + 5 * 24 * 3600 * 1000));
    const later = day(new Date(Date.now() + 7 * 24 * 3600 * 1000));
    const form = manager.locator('form[aria-labelledby=declare]');
    await form.locator('input[name=name]').fill('Hurried freeze (e2e)');
    await form.locator('textarea[name=reason]').fill('A disaster-recovery exercise.');
    await form.locator('input[name=starts_at]').fill(`${soon}T00:00`);
    await form.locator('input[name=ends_at]').fill(`${later}T00:00`);
    await form.locator('textarea[name=exception_procedure]').fill('Ask the change manager.');
    const posted = await submit(manager, form.getByRole('button', { name: msg('freeze-declare') }));
    assert.equal(posted.status(), 422);
    const error = await manager.locator('[data-testid=freeze-error]').innerText();
    assert.ok(error.includes(prefix('error-freeze_notice_too_short')), error);
    assert.ok(error.includes('30'), error);
    assert.ok(!(await manager.locator('[data-testid=freezes]').innerText()).includes('Hurried freeze'));
  });

  test('5. the latent RFC report shows the demo\'s emergency repair of its P1, filed on time', async () => {
    assert.equal((await manager.goto(`${base}/console/changes/latent`)).status(), 200);
    const row = manager.locator('[data-testid=latent-report] tbody tr', { hasText: 'renewed viewer TLS certificate' });
    assert.equal(await row.count(), 1);
    const text = await row.innerText();
    assert.match(text, /INC-\d+/, 'the incident it repaired');
    assert.ok(text.includes(msg('latent-state-filed_on_time')), text);
  });

  test('6. the month calendar shows the RFC and the windows, filters by service, exports iCalendar', async (t) => {
    if (!number) return t.skip('needs the RFC of step 1');
    const url = `${base}/console/changes/calendar?view=month&date=${when}`;
    assert.equal((await manager.goto(url)).status(), 200);
    const calendar = manager.locator('[data-testid=change-calendar]');
    const cell = calendar.locator(`td[data-date="${when}"]`);
    const event = cell.locator('[data-kind=change]', { hasText: number });
    assert.equal(await event.count(), 1, `${number} on ${when}`);
    if (authorized) assert.ok(await event.evaluate((e) => e.classList.contains('cal-approved')), 'shown approved');
    assert.ok(await calendar.locator('[data-kind=window]').count() >= 4, 'the Sunday windows');

    const filter = manager.locator('form.row-form');
    await filter.locator('select[name=service]').selectOption('CHR');
    await Promise.all([manager.waitForURL(/service=CHR/), filter.getByRole('button', { name: msg('filter') }).click()]);
    assert.equal(await calendar.locator('[data-kind=change]', { hasText: number }).count(), 1, 'kept for its service');
    await filter.locator('select[name=service]').selectOption('FEEDS');
    await Promise.all([manager.waitForURL(/service=FEEDS/), filter.getByRole('button', { name: msg('filter') }).click()]);
    assert.equal(await calendar.locator('[data-kind=change]', { hasText: number }).count(), 0, 'hidden for another service');

    const link = manager.locator('[data-testid=ics-link]');
    assert.equal((await link.innerText()).trim(), msg('change-calendar-ics'));
    await filter.locator('select[name=service]').selectOption('');
    await Promise.all([manager.waitForURL(/service=(&|$)/), filter.getByRole('button', { name: msg('filter') }).click()]);
    const href = await manager.locator('[data-testid=ics-link]').getAttribute('href');
    const res = await manager.request.get(new URL(href, manager.url()).href);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /^text\/calendar/);
    const ics = await res.text();
    assert.ok(ics.startsWith('BEGIN:VCALENDAR'), ics.slice(0, 80));
    assert.ok(ics.includes(number), `the RFC's number in the export`);
  });

  test('7. a partner sees its own RFC on the portal, not another organization\'s', async () => {
    const hhs = await signedIn(HHS);
    assert.equal((await hhs.goto(`${base}/changes`)).status(), 200);
    const mine = await hhs.locator('main').innerText();
    assert.ok(mine.includes(DEMO_HHS_RFC), `HHS's RFC listed:\n${mine}`);
    assert.ok(!mine.includes(DEMO_HL7_RFC), 'not the operator\'s RFC');
    if (number) {
      assert.ok(!mine.includes(number), 'not the RFC the change manager submitted');
      assert.equal((await hhs.goto(`${base}/changes/${number}`)).status(), 404);
    }
    const hhsNumber = mine.match(/CHG-\d+/)?.[0];
    assert.ok(hhsNumber, 'its number');

    const niagara = await signedIn(NIAGARA);
    assert.equal((await niagara.goto(`${base}/changes`)).status(), 200);
    assert.ok(!(await niagara.locator('main').innerText()).includes(DEMO_HHS_RFC), 'another partner does not see it');
    assert.equal((await niagara.goto(`${base}/changes/${hhsNumber}`)).status(), 404);
  });
});
