// Automated WCAG 2.1 A/AA check: runs axe-core in Chromium on the public and admin pages.
//
// The pages send `Content-Security-Policy: script-src 'self'`. axe is injected with
// page.evaluate (DevTools Runtime.evaluate), which CSP does not block, so the pages are
// checked with their real CSP in force.
import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  RESULTS_DIR, TRIAGE_BIN, freePort, launchBrowser, signIn, startTriage, stopProcess, tempDir, triageEnv,
} from '../lib.mjs';

const axe = createRequire(import.meta.url)('axe-core');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const ADMIN = 'admin@operator.example';
const CLINICIAN = 'clinician@hhs.example';
const AGENT = 'agent1@operator.example';
const CHANGE_MANAGER = 'change@operator.example';
const PARTNER = 'cpc@hhs.example';

/** Inject axe-core into the current document and run it with the WCAG 2.1 A/AA tags. */
async function runAxe(page) {
  await page.waitForLoadState('load');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(axe.source);
  }
  return page.evaluate(
    (tags) => window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations', 'incomplete'],
    }),
    WCAG_TAGS,
  );
}

/** "page  rule (impact) target: help <url>" lines, one per failing node. */
function formatViolations(label, violations) {
  const lines = [];
  for (const v of violations) {
    lines.push(`${label}: ${v.id} [${v.impact}] ${v.help} (${v.helpUrl})`);
    for (const node of v.nodes) {
      lines.push(`    target: ${node.target.join(' ')}`);
      lines.push(`      html: ${node.html.replace(/\s+/g, ' ').slice(0, 200)}`);
      const summary = (node.failureSummary || '').replace(/\s*\n\s*/g, ' | ');
      if (summary) lines.push(`      why:  ${summary}`);
    }
  }
  return lines.join('\n');
}

describe('accessibility (axe-core, WCAG 2.1 AA)', { timeout: 300_000 }, () => {
  let dir, triage, browser, base, anon, admin, clinician, agent, manager, partner;
  const report = [];

  before(async () => {
    assert.ok(existsSync(TRIAGE_BIN), `triage binary not found at ${TRIAGE_BIN} (set TRIAGE_BIN)`);
    dir = tempDir();
    triage = await startTriage(triageEnv(dir, await freePort()));
    base = triage.url;
    browser = await launchBrowser();

    anon = await (await browser.newContext()).newPage();
    admin = await (await browser.newContext()).newPage();
    clinician = await (await browser.newContext()).newPage();
    agent = await (await browser.newContext()).newPage();
    manager = await (await browser.newContext()).newPage();
    partner = await (await browser.newContext()).newPage();
    for (const [page, email] of [[admin, ADMIN], [clinician, CLINICIAN], [agent, AGENT], [manager, CHANGE_MANAGER], [partner, PARTNER]]) {
      await signIn(page, base, email);
      await page.waitForURL(`${base}/`);
      await page.locator('[data-testid=whoami]').waitFor();
    }
  });

  after(async () => {
    if (report.length) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      writeFileSync(join(RESULTS_DIR, 'a11y.json'), JSON.stringify(report, null, 2));
    }
    await browser?.close();
    await stopProcess(triage?.proc);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Check the page as it is now; fail with a readable list of violations. */
  async function check(t, label, page) {
    const results = await runAxe(page);
    report.push({ page: label, url: page.url(), violations: results.violations, incomplete: results.incomplete });
    for (const inc of results.incomplete) {
      t.diagnostic(`needs review: ${inc.id} [${inc.impact}] on ${inc.nodes.length} node(s): ${inc.help}`);
    }
    const count = results.violations.reduce((n, v) => n + v.nodes.length, 0);
    assert.equal(
      results.violations.length, 0,
      `${results.violations.length} axe rule(s) violated by ${count} element(s) on ${label} (${page.url()}):\n${formatViolations(label, results.violations)}`,
    );
  }

  async function visit(page, path) {
    const res = await page.goto(`${base}${path}`);
    assert.equal(res.status(), 200, `GET ${path}`);
  }

  // --- Signed out -------------------------------------------------------------------------
  test('/signin (email step)', async (t) => {
    await visit(anon, '/signin');
    await check(t, '/signin (email step)', anon);
  });

  test('/signin (password step)', async (t) => {
    await visit(anon, '/signin');
    await anon.fill('#email', ADMIN);
    await anon.click('form:has(#email) button[type=submit]');
    await anon.waitForSelector('#password');
    await check(t, '/signin (password step)', anon);
  });

  for (const path of ['/status', '/status?lang=fr', '/status/events/1']) {
    test(`${path} (public status page)`, async (t) => {
      await visit(anon, path);
      await check(t, path, anon);
    });
  }

  for (const path of ['/forgot', '/request-access', '/status/subscribe']) {
    test(path, async (t) => {
      await visit(anon, path);
      await check(t, path, anon);
    });
  }

  // --- Signed in as the administrator ------------------------------------------------------
  for (const path of ['/', '/admin/organizations', '/admin/organizations/new']) {
    test(path, async (t) => {
      await visit(admin, path);
      await check(t, path, admin);
    });
  }

  test('HHS organization edit page', async (t) => {
    await visit(admin, '/admin/organizations');
    await admin.locator('table a', { hasText: /^HHS$/ }).first().click();
    await admin.waitForURL(/\/admin\/organizations\/[^/]+$/);
    await check(t, 'HHS organization edit page', admin);
  });

  test('/admin/people', async (t) => {
    await visit(admin, '/admin/people');
    await check(t, '/admin/people', admin);
  });

  test('a person page (first in the people table)', async (t) => {
    await visit(admin, '/admin/people');
    await admin.locator('table tbody a').first().click();
    await admin.waitForURL(/\/admin\/people\/[^/]+$/);
    await check(t, 'person page', admin);
  });

  for (const path of ['/admin/people/new', '/admin/groups', '/admin/audit', '/admin/outbox', '/profile', '/console/cmdb', '/console/cmdb/1']) {
    test(path, async (t) => {
      await visit(admin, path);
      await check(t, path, admin);
    });
  }

  // --- Portal (a clinician) and agent console --------------------------------------------
  for (const path of ['/', '/tickets/new', '/tickets']) {
    test(`${path} (clinician)`, async (t) => {
      await visit(clinician, path);
      await check(t, `${path} (clinician)`, clinician);
    });
  }

  /** Step 1 → the form of the "Viewer is slow" request type. */
  async function openRaiseForm(page) {
    await visit(page, '/tickets/new');
    await page.locator('a[href*="subcategory="]', { hasText: /^Viewer is slow$/ }).click();
    await page.waitForURL(/\/tickets\/new\?subcategory=\d+$/);
  }

  test('raise form /tickets/new?subcategory=… (clinician)', async (t) => {
    await openRaiseForm(clinician);
    await check(t, 'raise form', clinician);
  });

  test('raise form refused (422, errors shown)', async (t) => {
    await openRaiseForm(clinician);
    await clinician.fill('#summary', 'Viewer slow');
    await clinician.fill('#details', 'Chart of 9876543217 is slow.'); // a health card number
    await Promise.all([
      clinician.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 422),
      clinician.click('form.raise button[type=submit]'),
    ]);
    await clinician.locator('[role=alert][data-testid=form-error]').waitFor();
    await check(t, 'raise form with errors', clinician);
  });

  /** The first ticket of the list at `path` (a portal list or a queue). */
  async function openFirstTicket(page, path) {
    await visit(page, path);
    await page.locator('table.tickets tbody a[href^="/tickets/"]').first().click();
    await page.waitForURL(/\/tickets\/[A-Z]+-\d+$/);
  }

  test('a ticket page (clinician)', async (t) => {
    await openFirstTicket(clinician, '/tickets');
    await check(t, 'ticket page (clinician)', clinician);
  });

  for (const path of ['/console', '/console/queue?group=SD', '/console/phone', '/console/status', '/console/status/1', '/console/major-incidents',
    '/console/problems', '/console/problems/PRB-000001', '/console/problem-proposals', '/console/problem-reviews',
    '/console/problem-reviews/1', '/console/changes/calendar?date=2026-12-09', '/console/changes/calendar?view=month&date=2026-12-09']) {
    test(`${path} (agent)`, async (t) => {
      await visit(agent, path);
      await check(t, `${path} (agent)`, agent);
    });
  }

  // --- Change management (demo RFCs: CHG-000003 is the viewer upgrade scheduled with an
  // outage, CHG-000001 the HL7 engine upgrade on the next CAB's agenda) ----------------------
  for (const path of ['/console/changes', '/console/changes/new', '/console/changes/CHG-000003',
    '/console/changes/CHG-000003/approvals', '/console/changes/CHG-000003/implementation',
    '/console/change-templates', '/console/cab', '/console/freezes', '/console/changes/latent']) {
    test(`changes: ${path} (agent)`, async (t) => {
      await visit(agent, path);
      await check(t, `${path} (agent)`, agent);
    });
    test(`changes: ${path} (change manager)`, async (t) => {
      await visit(manager, path);
      await check(t, `${path} (change manager)`, manager);
    });
  }

  for (const who of ['agent', 'change manager']) {
    test(`changes: the next CAB meeting's agenda (${who})`, async (t) => {
      const page = who === 'agent' ? agent : manager;
      await visit(page, '/console/changes/CHG-000001');
      const date = (await page.locator('[data-testid=change-cab]').innerText()).match(/\d{4}-\d{2}-\d{2}/)[0];
      await visit(page, `/console/cab/${date}`);
      await check(t, `/console/cab/${date} (${who})`, page);
    });
  }

  test('changes: the RFC form refused (422, error shown) (change manager)', async (t) => {
    await visit(manager, '/console/changes/new');
    await Promise.all([
      manager.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 422),
      manager.click('[data-testid=submit-change]'),
    ]);
    await manager.locator('[data-testid=change-error]').waitFor();
    await check(t, 'RFC form with errors', manager);
  });

  for (const path of ['/changes', '/changes/new', '/changes/report', '/freezes', '/changes/CHG-000002']) {
    test(`changes: ${path} (partner)`, async (t) => {
      await visit(partner, path);
      await check(t, `${path} (partner)`, partner);
    });
  }

  test('a ticket page (agent, with the work panel)', async (t) => {
    await openFirstTicket(agent, '/console/queue?group=SD');
    await agent.locator('details > summary').first().waitFor();
    // Open every folded section so that its forms are checked too.
    await agent.locator('details:not([open]) > summary').evaluateAll((s) => s.forEach((x) => x.click()));
    await check(t, 'ticket page (agent)', agent);
  });

  test('/admin/catalogue (administrator)', async (t) => {
    await visit(admin, '/admin/catalogue');
    await check(t, '/admin/catalogue', admin);
  });

  // --- French --------------------------------------------------------------------------------
  test('/signin in French', async (t) => {
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    await visit(page, '/signin');
    await page.click('button[name=lang][value=fr]');
    await page.waitForSelector('html[lang=fr]');
    await check(t, '/signin (fr)', page);
  });
});
