// Browser tests of the built Admin and Signup UIs against a running platform, in Chromium
// driven by playwright-core. Run by test_web.py, which starts the platform and passes:
//   E2E_GATEWAY, E2E_AUTH   where /graphql and /auth are served
//   E2E_STRIPE              the Stripe emulator (its hosted checkout page and /_emulator API)
//   E2E_TWILIO              the Twilio emulator (/_emulator/inbound: a phone texts Nudges)
//   E2E_ADMIN_PHONE         a phone number seeded as an admin
//   E2E_OUT                 where screenshots go (every step's with E2E_SCREENSHOTS=all,
//                           else only on failure)
//   CHROMIUM                the browser binary (default /usr/bin/chromium)
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { serve } from './serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const GATEWAY = env('E2E_GATEWAY');
const AUTH = env('E2E_AUTH');
const STRIPE = env('E2E_STRIPE');
const TWILIO = env('E2E_TWILIO');
const ADMIN_PHONE = env('E2E_ADMIN_PHONE');
const OUT = env('E2E_OUT', join(here, 'out'));
const EVERY_STEP = process.env.E2E_SCREENSHOTS === 'all';
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const RUN = Date.now().toString(36).slice(-5);
const CLIENT_PHONE = `+1415555${String(Date.now()).slice(-4)}`;
const SUBSCRIBER_PHONE = `+1415556${String(Date.now()).slice(-4)}`;
const CLUB = `E2E Club ${RUN}`;
const SLUG = `e2e-club-${RUN}`;
const PLAN = `E2E Starter ${RUN}`;
const ANNOUNCEMENT = `Trail run at 7, meet at the gate (${RUN})`;

if (!existsSync(CHROMIUM)) {
  console.error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (see .ci/run)`);
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });

const pages = new Map();
let shot = 0;
async function snap(name) {
  for (const [label, page] of pages) {
    if (page.isClosed()) continue;
    shot += 1;
    const file = join(OUT, `${String(shot).padStart(2, '0')}-${label}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  }
}

// axe-core on every page the run opens: no serious or critical violation of WCAG 2.x A/AA
// (and axe's best practices); each page's count is printed, and the totals at the end.
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const BLOCKING = new Set(['serious', 'critical']);
const audited = [];
async function accessible(page, label) {
  await page.waitForLoadState('networkidle');
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  const blocking = violations.filter((v) => BLOCKING.has(v.impact));
  const path = new URL(page.url()).pathname;
  audited.push({ page: label, path, violations: violations.length, blocking: blocking.length });
  console.log(`axe ${label} ${path}: ${violations.length} violations, ${blocking.length} serious or critical` +
    (violations.length ? ` (${violations.map((v) => `${v.id}:${v.impact}`).join(', ')})` : ''));
  if (blocking.length) {
    const detail = blocking.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.slice(0, 3).join(' | ')}`).join('\n  ');
    throw new Error(`axe: ${label} ${path} has serious or critical violations:\n  ${detail}`);
  }
}

const steps = [];
/** `at` as a datetime-local value (YYYY-MM-DDTHH:MM) on the wall clock of `timeZone`. */
function wallClock(at, timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

async function step(name, body) {
  const started = Date.now();
  await body();
  steps.push({ name, ms: Date.now() - started });
  console.log(`ok  ${name} (${Date.now() - started} ms)`);
  if (EVERY_STEP) await snap(name.replace(/\W+/g, '-'));
}

async function codeFrom(page) {
  const text = await page.getByTestId('dev-code').textContent({ timeout: 15000 });
  const code = /\d{6}/.exec(text ?? '')?.[0];
  if (!code) throw new Error(`no one-time code on the page (OTP_ECHO off?): ${text}`);
  return code;
}

async function signIn(page, phone, submit = 'Sign in') {
  await page.getByLabel('Phone number', { exact: true }).fill(phone);
  await page.getByRole('button', { name: 'Text me a code' }).click();
  await page.getByLabel('Six-digit code').fill(await codeFrom(page));
  await page.getByRole('button', { name: submit }).click();
}

// main takes focus on every page change (screen readers announce the new page); it is no
// control, so no focus frame may be drawn around it, even after a keyboard navigation.
async function noFrameAroundMain(page) {
  const main = await page.evaluate(() => {
    const element = document.querySelector('main');
    const style = element ? getComputedStyle(element) : null;
    return { focused: document.activeElement === element, outline: style?.outlineStyle, shadow: style?.boxShadow };
  });
  if (!main.focused) throw new Error('main does not have the focus after a page change');
  if (main.outline !== 'none' || main.shadow !== 'none') {
    throw new Error(`a frame is drawn around main: outline ${main.outline}, box-shadow ${main.shadow}`);
  }
}

// Focus rings: none on a freshly loaded page, none after a click, one on keyboard focus.
const ringOf = (page) =>
  page.evaluate(() => {
    const focused = document.activeElement;
    const element = focused && focused !== document.body ? focused : null;
    const style = element ? getComputedStyle(element) : null;
    const drawn = !!style && (style.outlineStyle !== 'none' || style.boxShadow !== 'none');
    return { element: element ? element.outerHTML.slice(0, 80) : null, drawn };
  });

async function focusFramesOnKeyboardOnly(page, clickable) {
  await page.waitForLoadState('networkidle');
  const loaded = await ringOf(page);
  if (loaded.drawn) throw new Error(`a focus frame is drawn on load: ${loaded.element}`);
  await clickable.click();
  const clicked = await ringOf(page);
  if (clicked.drawn) throw new Error(`a focus frame is drawn after a click: ${clicked.element}`);
  await page.keyboard.press('Tab');
  const tabbed = await ringOf(page);
  if (!tabbed.drawn) throw new Error(`no focus frame on keyboard focus: ${tabbed.element}`);
}

async function noAlert(page) {
  await page.waitForLoadState('networkidle');
  const alerts = await page.getByRole('alert').allTextContents();
  if (alerts.length) throw new Error(`the page shows an error: ${alerts.join(' | ')}`);
}

const [adminServer, signupServer] = await Promise.all([
  serve({ dist: join(here, '..', 'admin', 'dist'), gateway: GATEWAY, auth: AUTH }),
  serve({ dist: join(here, '..', 'signup', 'dist'), gateway: GATEWAY, auth: AUTH }),
]);
const ADMIN = `http://127.0.0.1:${adminServer.address().port}`;
const SIGNUP = `http://127.0.0.1:${signupServer.address().port}`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const context = async (viewport = { width: 1280, height: 900 }) => {
  const made = await browser.newContext({ locale: 'en-US', viewport });
  made.setDefaultTimeout(15000);
  return made;
};

let failed = null;
try {
  const admin = await (await context()).newPage();
  pages.set('admin', admin);

  await step('admin signs in with a one-time code', async () => {
    await admin.goto(`${ADMIN}/`);
    await admin.getByRole('link', { name: 'Sign in with single sign-on' }).waitFor();
    await focusFramesOnKeyboardOnly(admin, admin.getByRole('heading', { level: 1 }));
    await accessible(admin, 'admin sign-in');
    await signIn(admin, ADMIN_PHONE);
    await admin.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await admin.getByText('Active plans').waitFor();
    await admin.getByText('Paid invoices').waitFor();
    await admin.getByRole('heading', { name: 'Messages per day' }).waitFor({ timeout: 30000 });
    await noAlert(admin);
    await accessible(admin, 'admin dashboard');
  });

  await step('admin creates a discount code', async () => {
    await admin.getByRole('link', { name: 'Discount codes' }).click();
    await admin.getByRole('heading', { name: 'Discount codes', level: 1 }).waitFor();
    const clicked = await ringOf(admin);
    if (clicked.drawn) throw new Error(`a focus frame is drawn after a click on a link: ${clicked.element}`);
    await accessible(admin, 'admin discount codes');
    await admin.getByLabel('Code', { exact: true }).fill(`E2E${RUN}`.toUpperCase());
    await admin.getByLabel('Percent off').fill('10');
    await admin.getByRole('button', { name: 'Create code' }).click();
    await admin.getByText(`Discount code E2E${RUN.toUpperCase()} created.`, { exact: false }).waitFor();
    await admin.getByRole('cell', { name: `E2E${RUN}`.toUpperCase(), exact: true }).waitFor();
  });

  await step('admin creates a plan; Stripe ids arrive live', async () => {
    await admin.getByRole('link', { name: 'Plans', exact: true }).click();
    await admin.getByRole('link', { name: 'New plan' }).waitFor();
    await accessible(admin, 'admin plans');
    await admin.getByRole('link', { name: 'New plan' }).click();
    await admin.getByLabel('Name', { exact: true }).waitFor();
    await accessible(admin, 'admin new plan');
    await admin.getByLabel('Name', { exact: true }).fill(PLAN);
    await admin.getByLabel('Monthly', { exact: true }).fill('9');
    await admin.getByLabel('Yearly', { exact: true }).fill('90');
    await admin.getByRole('button', { name: 'Create plan' }).click();
    await admin.waitForURL(/\/plans\/[^/]+$/);
    await admin.getByText(/^Saved\./).waitFor();
    // The consumers create the Stripe product and prices; planUpdated brings them here.
    await admin.locator('code', { hasText: /^prod_/ }).waitFor({ timeout: 45000 });
    await admin.locator('code', { hasText: /^price_/ }).nth(1).waitFor({ timeout: 45000 });
    await accessible(admin, 'admin plan');
    // A free trial for the yearly price changes that tier in place, shown in the price history.
    await admin.getByLabel('Yearly free trial (days)', { exact: true }).fill('14');
    await admin.getByRole('button', { name: 'Save', exact: true }).click();
    await admin.getByRole('cell', { name: '14 days', exact: true }).waitFor();
    await admin.getByRole('link', { name: '← All plans' }).click();
    await admin.getByRole('link', { name: PLAN }).waitFor();
  });

  await step('admin pages load without errors', async () => {
    // By keyboard: the programmatic focus of main then matches :focus-visible in Chromium.
    await admin.getByRole('link', { name: 'Clients', exact: true }).focus();
    await admin.keyboard.press('Enter');
    await admin.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
    await noFrameAroundMain(admin);
    for (const [link, heading] of [
      ['Clients', 'Clients'],
      ['Subscribers', 'Subscribers'],
      ['Announcements', 'Announcements'],
    ]) {
      await admin.getByRole('link', { name: link, exact: true }).click();
      await admin.getByRole('heading', { name: heading, level: 1 }).waitFor();
      await noAlert(admin);
      await accessible(admin, `admin ${heading.toLowerCase()}`);
    }
    await admin.getByRole('link', { name: 'Dead letters' }).click();
    await admin
      .getByText('Dead letters are not available in the graph yet.')
      .or(admin.getByRole('table'))
      .or(admin.getByText('No dead letters: every event was handled.'))
      .waitFor();
    await accessible(admin, 'admin dead letters');
  });

  const client = await (await context()).newPage();
  pages.set('client', client);
  let stripeSession = '';

  await step('a client signs up and reaches the Stripe checkout page', async () => {
    await client.goto(`${SIGNUP}/`);
    await client.getByRole('heading', { level: 1 }).first().waitFor();
    await focusFramesOnKeyboardOnly(client, client.getByRole('heading', { level: 1 }).first());
    await accessible(client, 'signup landing');
    await client.goto(`${SIGNUP}/signup`);
    await client.getByLabel('Phone number', { exact: true }).waitFor();
    await accessible(client, 'signup sign-in');
    await signIn(client, CLIENT_PHONE);
    await client.getByLabel('Your name or organisation').waitFor();
    await accessible(client, 'signup profile');
    await client.getByLabel('Your name or organisation').fill(CLUB);
    const slug = await client.getByLabel('Your page address').inputValue();
    if (slug !== SLUG) throw new Error(`the address made from "${CLUB}" is "${slug}", not "${SLUG}"`);
    await client.getByRole('button', { name: 'Create my page' }).click();
    await client.waitForURL(/\/plans$/);
    await client.getByRole('button', { name: `Choose ${PLAN} and pay` }).waitFor();
    await accessible(client, 'signup plans');
    await client.getByRole('button', { name: 'Monthly' }).click();
    // The clicked button keeps the focus, without a frame (no keyboard was used).
    const clicked = await ringOf(client);
    if (clicked.drawn) throw new Error(`a focus frame is drawn after a click on a button: ${clicked.element}`);
    await client.getByRole('button', { name: `Choose ${PLAN} and pay` }).click();
    await client.waitForURL((url) => url.href.startsWith(`${STRIPE}/checkout/`), { timeout: 40000 });
    await client.locator('#pay').waitFor();
    stripeSession = new URL(client.url()).pathname.split('/').pop() ?? '';
  });

  await step('after payment the plan turns active and the dashboard shows it', async () => {
    const paid = await fetch(`${STRIPE}/_emulator/checkout/${stripeSession}/complete`, { method: 'POST' });
    if (!paid.ok) throw new Error(`the emulator did not complete ${stripeSession}: ${paid.status}`);
    await client.goto(`${SIGNUP}/checkout/success?session_id=${stripeSession}`);
    await client.getByRole('heading', { name: 'Your plan is active' }).waitFor({ timeout: 60000 });
    await accessible(client, 'signup checkout success');
    await client.getByRole('link', { name: 'Go to my dashboard' }).click();
    await client.getByTestId('plan-status').filter({ hasText: 'Active' }).waitFor();
    const link = await client.getByTestId('join-link').textContent();
    if (link !== `${SIGNUP}/c/${SLUG}`) throw new Error(`join link is ${link}`);
    await client.getByAltText(`QR code that opens ${SIGNUP}/c/${SLUG}`).waitFor();
    await client.getByText(/reply CONFIRM to send it/).waitFor();
    await accessible(client, 'signup dashboard');
  });

  const subscriber = await (await context()).newPage();
  pages.set('subscriber', subscriber);

  await step('a subscriber joins from the client page', async () => {
    await subscriber.goto(`${SIGNUP}/c/${SLUG}`);
    await subscriber.getByRole('heading', { name: `Get texts from ${CLUB}` }).waitFor();
    await accessible(subscriber, 'signup join');
    await signIn(subscriber, SUBSCRIBER_PHONE, `Join ${CLUB}`);
    await subscriber.getByTestId('joined').waitFor();
    await accessible(subscriber, 'signup joined');
    await client.reload();
    await client.getByTestId('subscriber-count').filter({ hasText: /^1$/ }).waitFor();
  });

  await step('the client announces by SMS; it shows with its counts on both dashboards', async () => {
    const text = async (body) => {
      const answer = await fetch(`${TWILIO}/_emulator/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: CLIENT_PHONE, body }),
      });
      const json = await answer.json().catch(() => ({}));
      if (!answer.ok) throw new Error(`texting "${body}" to Nudges failed: ${answer.status} ${JSON.stringify(json)}`);
      return JSON.stringify(json);
    };
    const draft = await text(ANNOUNCEMENT);
    if (!/CONFIRM/.test(draft)) throw new Error(`no CONFIRM prompt after a draft: ${draft}`);
    await text('CONFIRM');
    // The history shows it once confirmed, with its recipients; sending is the consumers' part.
    const row = client.getByRole('row').filter({ hasText: ANNOUNCEMENT });
    for (let tries = 0; ; tries += 1) {
      await client.reload();
      await client.getByRole('heading', { name: 'Past announcements' }).waitFor();
      if (await row.count()) break;
      if (tries > 10) throw new Error('the confirmed announcement is not in the client’s history');
      await client.waitForTimeout(1000);
    }
    const recipients = await row.getByRole('cell').nth(3).textContent();
    if (recipients !== '1') throw new Error(`the announcement has ${recipients} recipients, not 1`);
    await admin.getByRole('link', { name: 'Announcements', exact: true }).click();
    await admin.getByRole('row').filter({ hasText: ANNOUNCEMENT }).filter({ hasText: CLUB }).waitFor();
  });

  await step('the client composes on the dashboard: preview, send now once, schedule and cancel', async () => {
    const composed = `Composed on the web (${RUN})`;
    await client.getByLabel('Message').fill(composed);
    await client.getByTestId('compose-audience').filter({ hasText: 'To 1 subscriber' }).waitFor();
    await client.getByTestId('compose-total').filter({ hasText: '1 SMS in all' }).waitFor();
    await client.getByTestId('compose-left').waitFor();
    // A double click sends the draft once.
    await client.getByTestId('send-now').dblclick();
    await client.getByText('Sending to 1 subscriber.').waitFor();
    const row = client.getByRole('row').filter({ hasText: composed });
    for (let tries = 0; ; tries += 1) {
      await client.reload();
      await client.getByRole('heading', { name: 'Past announcements' }).waitFor();
      if (await row.count()) break;
      if (tries > 10) throw new Error('the announcement sent from the composer is not in the history');
      await client.waitForTimeout(1000);
    }
    if ((await row.count()) !== 1) throw new Error(`the composer's announcement is in the history ${await row.count()} times`);
    // Scheduled an hour ahead in the client's time zone (their number's: a San Francisco
    // number, America/Los_Angeles), then cancelled.
    await client.getByText('Date and time in your time zone (America/Los_Angeles).').waitFor();
    const later = `Later on (${RUN})`;
    const local = wallClock(new Date(Date.now() + 3600 * 1000), 'America/Los_Angeles');
    await client.getByLabel('Message').fill(later);
    await client.getByLabel('Or send it later').fill(local);
    await client.getByTestId('schedule').click();
    await client.getByText('Scheduled.').waitFor();
    await client.getByTestId('scheduled-list').filter({ hasText: later }).waitFor();
    await client.getByRole('button', { name: 'Cancel', exact: true }).click();
    await client.getByText('Nothing scheduled.').waitFor();
  });

  await step('the client sets a text-to-join keyword and sees it saved', async () => {
    const keyword = `E2E${RUN}`.toUpperCase();
    await client.getByText(new RegExp(`People can join by texting JOIN ${SLUG}, or your keyword alone`)).waitFor();
    const field = client.getByLabel('Keyword', { exact: true });
    await field.fill(keyword.toLowerCase());
    if ((await field.inputValue()) !== keyword) throw new Error(`the keyword field shows ${await field.inputValue()}, not ${keyword}`);
    await client.getByRole('button', { name: 'Save keyword' }).click();
    await client.getByText(`Saved: people can text ${keyword} to join.`).waitFor();
    await accessible(client, 'signup dashboard keyword saved');
    // Kept by UserApi: the dashboard shows it again after a reload.
    await client.reload();
    await client.getByRole('heading', { name: 'Text-to-join keyword' }).waitFor();
    await client.waitForFunction(
      (expected) => document.querySelector('[data-testid="keyword"]')?.value === expected,
      keyword,
      { timeout: 15000 },
    );
  });

  await step('the client sets a time zone; the composer reads times in it', async () => {
    await client.getByTestId('zone-current').filter({ hasText: 'in America/Los_Angeles, the zone of your phone number' }).waitFor();
    await client.getByLabel('Time zone', { exact: true }).fill('Europe/Paris');
    await client.getByRole('button', { name: 'Save time zone' }).click();
    await client.getByText('Saved: your times are in Europe/Paris.').waitFor();
    await accessible(client, 'signup dashboard time zone saved');
    // Kept by UserApi: after a reload the composer schedules in it.
    await client.reload();
    await client.getByText('Date and time in your time zone (Europe/Paris).').waitFor();
    const paris = `In Paris time (${RUN})`;
    const local = wallClock(new Date(Date.now() + 7200 * 1000), 'Europe/Paris');
    await client.getByLabel('Message').fill(paris);
    await client.getByLabel('Or send it later').fill(local);
    await client.getByTestId('schedule').click();
    await client.getByText('Scheduled.').waitFor();
    const item = client.getByTestId('scheduled-list').getByRole('listitem').filter({ hasText: paris });
    await item.filter({ hasText: '(Europe/Paris)' }).waitFor();
    await item.getByRole('button', { name: 'Cancel', exact: true }).click();
    await client.getByText('Nothing scheduled.').waitFor();
    // Emptied: back to the zone of the number.
    await client.getByLabel('Time zone', { exact: true }).fill('');
    await client.getByRole('button', { name: 'Save time zone' }).click();
    await client.getByText('Back to the automatic zone: America/Los_Angeles.').waitFor();
  });

  await step('admin finds the client, its plan and subscriber', async () => {
    await admin.getByRole('link', { name: 'Clients', exact: true }).click();
    await admin.getByLabel('Search by name or address').fill(RUN);
    await admin.getByRole('button', { name: 'Search', exact: true }).click();
    await admin.getByRole('link', { name: CLUB }).click();
    await admin.getByRole('heading', { name: CLUB, level: 1 }).waitFor();
    await admin.getByText(`${PLAN} — $9.00 / month`).waitFor();
    await admin.locator('.badge', { hasText: 'Active' }).first().waitFor();
    await accessible(admin, 'admin client');
    await admin.getByRole('link', { name: 'Subscribers', exact: true }).click();
    await admin.getByLabel('Find a client to list their subscribers').fill(RUN);
    await admin.getByRole('button', { name: 'Search', exact: true }).click();
    await admin.getByRole('button', { name: `${CLUB} (/c/${SLUG})` }).click();
    await admin.getByText(`Showing the subscribers of ${CLUB}.`).waitFor();
    await admin.getByRole('cell', { name: /^\+1•+\d{4}$/ }).first().waitFor();
    await noAlert(admin);
    await accessible(admin, 'admin subscribers of a client');
    // The dashboard again, now with a client, a subscriber and an announcement in its charts.
    await admin.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await admin.getByRole('heading', { name: 'New subscribers per day' }).waitFor({ timeout: 30000 });
    await noAlert(admin);
    await accessible(admin, 'admin dashboard with data');
  });

  await step('the subscriber sees the membership and leaves', async () => {
    await subscriber.getByRole('link', { name: 'See all my subscriptions' }).click();
    await subscriber.getByRole('button', { name: `Stop messages from ${CLUB}` }).waitFor();
    await accessible(subscriber, 'signup memberships');
    await subscriber.getByRole('button', { name: `Stop messages from ${CLUB}` }).click();
    await subscriber.getByRole('link', { name: 'Join again' }).waitFor();
  });

  await step('pages fit a 360px phone screen', async () => {
    const phone = await (await context({ width: 360, height: 740 })).newPage();
    pages.set('phone', phone);
    for (const url of [`${SIGNUP}/`, `${SIGNUP}/c/${SLUG}`, `${SIGNUP}/plans`, `${ADMIN}/`]) {
      await phone.goto(url);
      await phone.getByRole('heading', { level: 1 }).first().waitFor();
      await phone.waitForLoadState('networkidle');
      const width = await phone.evaluate(() => document.documentElement.scrollWidth);
      const ring = await ringOf(phone);
      if (ring.drawn) throw new Error(`${url}: a focus frame is drawn on load: ${ring.element}`);
      await accessible(phone, `360px ${new URL(url).port === new URL(ADMIN).port ? 'admin' : 'signup'} signed out`);
      if (EVERY_STEP) await phone.screenshot({ path: join(OUT, `phone-${new URL(url).port}${new URL(url).pathname.replace(/\W+/g, '-')}.png`), fullPage: true });
      if (width > 360) throw new Error(`${url} is ${width}px wide on a 360px screen`);
    }
  });
} catch (error) {
  failed = error;
  console.error(`FAILED: ${error?.stack ?? error}`);
  await snap('failure');
  console.error(`screenshots in ${OUT}`);
} finally {
  await browser.close();
  adminServer.close();
  signupServer.close();
}
console.log(JSON.stringify({ steps, audited, failed: failed ? String(failed.message ?? failed) : null }));
process.exit(failed ? 1 : 0);
