// Shared helpers for the end-to-end tests.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const TRIAGE_BIN = resolve(E2E_DIR, process.env.TRIAGE_BIN || '../target/debug/triage');
export const RESULTS_DIR = join(E2E_DIR, 'test-results');
export const DEMO_PASSWORD = 'triage-demo-2026';

/** Headless Debian Chromium (override the path with CHROMIUM_PATH). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'triage-e2e-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Spawn `cmd args` with `env` added to this process's environment and wait (up to timeoutMs)
 * for a stdout line matching `readyRegex`. Resolves to { proc, match }. Rejects, showing the
 * process's output, if it exits first or the timeout passes (the process is killed then).
 */
export function startProcess(cmd, args, env = {}, readyRegex, { timeoutMs = 60_000 } = {}) {
  const proc = spawn(cmd, args, {
    cwd: E2E_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stderr.on('data', (chunk) => { output += chunk; });
  const name = `${cmd} ${args.join(' ')}`;

  return new Promise((resolveStart, reject) => {
    let ready = false;
    const fail = (why) => {
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${name}: ${why}\n--- output ---\n${output}`));
    };
    const timer = setTimeout(() => fail(`no line matching ${readyRegex} within ${timeoutMs} ms`), timeoutMs);
    proc.on('error', (err) => fail(`failed to start: ${err.message}`));
    proc.on('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal}) before it was ready`));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      output += `${line}\n`;
      if (ready) return;
      const match = line.match(readyRegex);
      if (match) {
        ready = true;
        clearTimeout(timer);
        resolveStart({ proc, match });
      }
    });
  });
}

/** Stop a child process started by startProcess: SIGTERM, then SIGKILL after 5 s. */
export function stopProcess(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    proc.once('exit', () => { clearTimeout(timer); done(); });
    proc.kill('SIGTERM');
  });
}

/** Run a command to completion; rejects with its output if it fails. */
export async function run(cmd, args, env = {}) {
  try {
    return await promisify(execFile)(cmd, args, {
      cwd: E2E_DIR, env: { ...process.env, ...env }, timeout: 120_000,
    });
  } catch (err) {
    throw new Error(`${err.message}\n${err.stdout ?? ''}`);
  }
}

/** The env for a Triage server on `port` with a fresh SQLite database in `dir`. */
export function triageEnv(dir, port) {
  return {
    TRIAGE_DATABASE_URL: `sqlite://${join(dir, 'triage.db')}`,
    TRIAGE_LISTEN: `127.0.0.1:${port}`,
    TRIAGE_PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  };
}

/** Start `triage serve` and wait for "Triage is ready at <url>". Resolves to { proc, url }. */
export async function startTriage(env) {
  const { proc, match } = await startProcess(TRIAGE_BIN, ['serve'], env, /Triage is ready at (http:\/\/\S+)/);
  return { proc, url: match[1].replace(/\/$/, '') };
}

/** Start the test OpenID Provider. Resolves to { proc, issuer }. */
export async function startOidcProvider(env) {
  const { proc, match } = await startProcess(process.execPath, ['oidc-provider.mjs'], env, /^OIDC_READY (\S+)/);
  return { proc, issuer: match[1] };
}

/** Triage's two-step sign-in with a password. */
export async function signIn(page, baseUrl, email, password = DEMO_PASSWORD) {
  await page.goto(`${baseUrl}/signin`);
  await page.fill('#email', email);
  await page.click('form:has(#email) button[type=submit]');
  await page.waitForSelector('#password');
  await page.fill('#password', password);
  await page.click('form:has(#password) button[type=submit]');
}

/** Messages of one locale from all its Fluent files under crates/web/locales (simple
 * messages: `key = text`), so that tests read the words the pages show. */
export function loadMessages(locale) {
  const dir = join(E2E_DIR, '..', 'crates/web/locales', locale);
  const messages = new Map();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ftl'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const m = line.match(/^([a-z][\w-]*) = (.*)$/);
      if (m) messages.set(m[1], m[2]);
    }
  }
  return messages;
}

/**
 * Click a form's submit button and wait until the page it leads to has loaded (a new
 * document: the form pages answer a POST with a page at the same address). Resolves to the
 * POST's own response (a redirect's 303, or the page with its status).
 */
export async function submit(page, button) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    page.waitForEvent('load'),
    button.click(),
  ]);
  return response;
}
