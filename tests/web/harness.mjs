// What every browser test uses: a private heraldd (tests/web/stack.py), Debian's chromium driven by
// Playwright, API calls, mails caught by the test SMTP server, and checkPage: screenshots at
// desktop and phone width plus axe-core, failing on serious or critical violations.
import { spawn, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const sourceDir = process.env.HERALD_SOURCE_DIR || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// The test tools come from web/node_modules (npm ci of web/package-lock.json), not from this tree.
const requireWeb = createRequire(path.join(sourceDir, 'web', 'package.json'));
const { chromium } = requireWeb('playwright-core');
const axeSource = fs.readFileSync(requireWeb.resolve('axe-core/axe.min.js'), 'utf8');

export const outputDir = process.env.HERALD_WEB_TEST_OUTPUT || path.join(sourceDir, 'build', 'web-test-output');
export const viewports = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 360, height: 740 },
};

// ------------------------------------------------------------------ heraldd

export async function startStack(options = {}) {
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const child = spawn(python, [path.join(sourceDir, 'tests', 'web', 'stack.py'), JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: process.env,
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (l) => { rl.close(); resolve(l); });
    child.once('exit', (code) => reject(new Error(`tests/web/stack.py exited ${code} before it was ready`)));
  });
  const info = JSON.parse(line);
  const stack = {
    ...info,
    baseUrl: info.base_url,
    async api(method, urlPath, { body, token } = {}) {
      const headers = {};
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const r = await fetch(info.base_url + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: keep text */ }
      return { status: r.status, headers: r.headers, json, text };
    },
    cis(method, urlPath, body) { return stack.api(method, urlPath, { body, token: info.cis_key }); },
    admin(method, urlPath, body) { return stack.api(method, urlPath, { body, token: info.admin_key }); },
    // heraldd's command line against this stack's database (e.g. customer-token --ttl -60).
    async cli(...args) {
      const { stdout } = await promisify(execFile)(info.heraldd, args, { cwd: sourceDir, env: { ...process.env, ...info.cli_env } });
      return stdout.trim().split('\n').pop().trim();
    },
    async stop() {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`tests/web/stack.py exited ${code} (heraldd log: ${info.log})`);
    },
  };
  return stack;
}

// The mails the test SMTP server received, oldest first; each {to, from, subject, text, html}.
export function mails(stack) {
  if (!stack.mail_dir) throw new Error('this stack has no SMTP server: startStack({smtp: true})');
  return fs.readdirSync(stack.mail_dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(stack.mail_dir, f), 'utf8')));
}

export async function poll(fn, { timeout = 15000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

export function waitForMail(stack, predicate, options = {}) {
  return poll(() => mails(stack).find(predicate), { what: 'a mail', ...options });
}

// ------------------------------------------------------------------ browser

export function chromiumPath() {
  if (process.env.HERALD_CHROMIUM) return process.env.HERALD_CHROMIUM;
  // Debian's /usr/bin/chromium is a shell wrapper; the binary itself takes Playwright's flags as they are.
  for (const p of ['/usr/lib/chromium/chromium', '/usr/bin/chromium']) if (fs.existsSync(p)) return p;
  throw new Error('chromium not found: scripts/install-deps --test installs it');
}

export function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath(), headless: true });
}

// A page that records what would go unnoticed otherwise: script errors, failed requests and
// Content-Security-Policy refusals (each makes assertNoPageErrors fail).
export async function openPage(browser, { viewport = viewports.desktop, colorScheme = 'light', locale = 'en-US', reducedMotion } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, locale, reducedMotion });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()))
      page.problems.push(`console error: ${m.text()}`);
  });
  return page;
}

export function assertNoPageErrors(page) {
  if (page.problems.length) throw new Error(`the page reported problems:\n  ${page.problems.join('\n  ')}`);
}

function safeName(s) { return s.replace(/[^A-Za-z0-9._-]+/g, '-'); }

// Screenshots of the page as it stands at desktop and phone width (light) and desktop (dark),
// and axe-core on each: serious and critical violations fail the test, and so does a page wider
// than the screen. `ready` is awaited after
// each resize (e.g. a locator that must be visible).
export async function checkPage(page, name, { suite = 'web', ready } = {}) {
  const dir = path.join(outputDir, safeName(suite));
  fs.mkdirSync(dir, { recursive: true });
  const failures = [];
  const shots = [];
  for (const [label, viewport, scheme] of [['desktop', viewports.desktop, 'light'], ['phone', viewports.phone, 'light'],
                                           ['desktop-dark', viewports.desktop, 'dark']]) {
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme: scheme });
    if (ready) await ready();
    // Nothing may need sideways scrolling at any width (WCAG 1.4.10 reflow at 360 px).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 0) failures.push(`${label}: the page is ${overflow} px wider than the ${viewport.width} px screen`);
    const file = path.join(dir, `${safeName(name)}-${label}.png`);
    await page.screenshot({ path: file, fullPage: true });
    shots.push(file);
    const violations = await runAxe(page);
    for (const v of violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      const where = v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`).join('; ');
      failures.push(`${label}: ${v.id} (${v.impact}) ${v.help} — ${where}`);
    }
  }
  await page.setViewportSize(viewports.desktop);
  await page.emulateMedia({ colorScheme: 'light' });
  if (failures.length) throw new Error(`${name} fails the page checks (axe: serious or critical violations; reflow):\n  ${failures.join('\n  ')}`);
  return shots;
}

// axe-core is evaluated through the debugging protocol, which the page's CSP does not govern, so
// the page keeps its real policy while it is checked.
export async function runAxe(page) {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await globalThis.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary || '' })) }));
  });
}

// ------------------------------------------------------------------ data

const ZONES = ['America/Chicago', 'America/New_York', 'America/Denver', 'America/Los_Angeles', 'America/Anchorage',
  'Pacific/Honolulu', 'America/Sao_Paulo', 'Atlantic/Azores', 'Europe/London', 'Europe/Berlin', 'Europe/Athens',
  'Europe/Moscow', 'Asia/Dubai', 'Asia/Karachi', 'Asia/Kolkata', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Shanghai',
  'Asia/Tokyo', 'Australia/Brisbane', 'Pacific/Noumea', 'Pacific/Auckland', 'Pacific/Tongatapu', 'Pacific/Kiritimati'];

// A zone where it is now comfortably inside 08:00-21:00, so a message sent now is not held
// for quiet hours (tests pass at any hour).
export function daytimeZone() {
  const now = new Date();
  for (const zone of ZONES) {
    const hour = Number(new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' }).format(now));
    if (hour >= 9 && hour < 20) return zone;
  }
  throw new Error('no zone in the list is in daytime now');
}

export function customerBody(id, { name, phone, email, timezone } = {}) {
  const contacts = [];
  if (phone) contacts.push({ channel: 'sms', address: phone });
  if (email) contacts.push({ channel: 'email', address: email });
  return {
    name: name || `Customer ${id}`, language: 'en',
    accounts: [{ account_id: `A-${id}`, premise_id: `P-${id}`,
      service_address: { line1: '12 Main St', city: 'Springfield', state: 'IL', zip: '62701' },
      timezone: timezone || daytimeZone(), feeder: 'F-12', segments: [] }],
    contacts,
  };
}

// Creates (or replaces) a customer through the CIS API; optionally sets its preferences.
export async function putCustomer(stack, id, options = {}, preferences) {
  const r = await stack.cis('PUT', `/v1/customers/${id}`, customerBody(id, options));
  if (r.status !== 200) throw new Error(`PUT /v1/customers/${id} -> ${r.status} ${r.text}`);
  if (preferences) {
    const p = await stack.cis('PUT', `/v1/customers/${id}/preferences`, preferences);
    if (p.status !== 200) throw new Error(`PUT /v1/customers/${id}/preferences -> ${p.status} ${p.text}`);
  }
  return r.json;
}

// The preference center link the CIS would hand this customer.
export async function portalUrl(stack, id) {
  const r = await stack.cis('POST', `/v1/customers/${id}/portal-tokens`);
  if (r.status !== 200) throw new Error(`portal token for ${id} -> ${r.status} ${r.text}`);
  return { url: stack.baseUrl + r.json.url, token: r.json.token };
}

// Presses Tab until `locator` has the focus (proving the keyboard reaches it); fails after `max` presses.
export async function tabTo(page, locator, max = 80) {
  const target = await locator.elementHandle();
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`the keyboard did not reach ${locator} within ${max} Tab presses`);
}

// Runs fn(page) on a fresh page (its own context: cookies and sessionStorage start empty) and
// closes it; a failure also reports what the page itself complained about (script errors, CSP
// refusals), which a timed-out wait would otherwise hide.
export async function withPage(browser, options, fn) {
  const page = await openPage(browser, options);
  try {
    await fn(page);
    assertNoPageErrors(page);
  } catch (e) {
    if (page.problems.length) e.message += `\nthe page reported:\n  ${page.problems.join('\n  ')}`;
    throw e;
  } finally {
    await page.context().close();
  }
}

// One SQL statement against the stack's database (to set up what no API offers yet).
export async function sql(stack, statement) {
  const { stdout } = await promisify(execFile)('/usr/lib/postgresql/15/bin/psql',
    [stack.database_url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', statement]);
  return stdout.trim();
}
