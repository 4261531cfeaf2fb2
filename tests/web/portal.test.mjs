// The preference center in a real browser: a customer changes topics, quiet hours and language
// and they persist; adds an email and confirms it with the code from the test SMTP server;
// expired and other customers' tokens see and change nothing; axe and screenshots on each page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  checkPage, launchBrowser, poll, portalUrl, putCustomer, sql, startStack, tabTo, waitForMail, withPage,
} from './harness.mjs';

const SUITE = 'portal';
let stack;
let browser;

before(async () => {
  stack = await startStack({ smtp: true });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

const quietOff = { topics: { billing: { channels: ['email'] }, outage: { channels: [] }, other: { channels: [] } },
  quiet_hours: { enabled: false, start: '21:00', end: '08:00' }, language: 'en' };

async function preferencesOf(id) {
  const r = await stack.cis('GET', `/v1/customers/${id}/preferences`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('a customer turns outage texts on, sets quiet hours and Spanish, saves; all of it persists', async () => {
  await putCustomer(stack, '1001', { name: 'Ada Lovelace', phone: '+12175550101', email: 'ada@example.com' }, quietOff);
  const { url } = await portalUrl(stack, '1001');
  await withPage(browser, {}, async (page) => {
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: 'Hello, Ada Lovelace' }).waitFor();
    // The token left the address bar (history, bookmarks, screenshots) as soon as the page read it.
    assert.equal(new URL(page.url()).hash, '');
    await checkPage(page, 'preferences', { suite: SUITE });

    // Keyboard only: Tab to each control, Space toggles a switch, Enter submits.
    const outageSms = page.getByRole('checkbox', { name: 'Outage alerts by text message', exact: true });
    assert.equal(await outageSms.isChecked(), false);
    await tabTo(page, outageSms);
    await page.keyboard.press('Space');
    assert.equal(await outageSms.isChecked(), true);
    const quiet = page.getByRole('checkbox', { name: 'Hold messages during quiet hours' });
    await tabTo(page, quiet);
    await page.keyboard.press('Space');
    await page.getByLabel('From').fill('22:00');
    await page.getByLabel('Until').fill('07:00');
    const language = page.getByLabel('Language of this page and of our messages');
    await tabTo(page, language);
    await language.selectOption('es');
    // The page itself switched: every string, and the document's language.
    await page.getByRole('heading', { level: 1, name: 'Hola, Ada Lovelace' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'es');
    const save = page.getByRole('button', { name: 'Guardar' });
    await tabTo(page, save);
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Sus preferencias se guardaron.' }).waitFor();

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Hola, Ada Lovelace' }).waitFor();
    assert.equal(await page.getByRole('checkbox', { name: 'Alertas de cortes de servicio por mensaje de texto', exact: true }).isChecked(), true);
    assert.equal(await page.getByRole('checkbox', { name: 'Retener los mensajes durante las horas de silencio' }).isChecked(), true);
    assert.equal(await page.getByLabel('Desde').inputValue(), '22:00');
    assert.equal(await page.getByLabel('Hasta').inputValue(), '07:00');
    assert.equal(await page.getByLabel('Idioma de esta página y de nuestros mensajes').inputValue(), 'es');
    await checkPage(page, 'preferences-es', { suite: SUITE });

    const prefs = await preferencesOf('1001');
    assert.deepEqual(prefs.topics.outage.channels, ['sms']);
    assert.deepEqual(prefs.topics.billing.channels, ['email']);
    assert.deepEqual(prefs.quiet_hours, { enabled: true, start: '22:00', end: '07:00' });
    assert.equal(prefs.language, 'es');
  });
});

test('every switch is named by its topic and channel, and the required notices are always on', async () => {
  await putCustomer(stack, 'names', { phone: '+12175550102', email: 'names@example.com' }, quietOff);
  await withPage(browser, {}, async (page) => {
    await page.goto((await portalUrl(stack, 'names')).url);
    await page.getByRole('heading', { level: 1 }).waitFor();
    // Nine switches, each announced with its topic and its channel (exact accessible names).
    for (const topic of ['Bills and payments', 'Outage alerts', 'Other news'])
      for (const channel of ['text message', 'email', 'phone call'])
        assert.equal(await page.getByRole('checkbox', { name: `${topic} by ${channel}`, exact: true }).count(), 1,
          `no switch named "${topic} by ${channel}"`);
    const required = page.getByRole('checkbox', { name: /Notices required by law/ });
    assert.equal(await required.isChecked(), true);
    assert.equal(await required.isDisabled(), true);
    // No phone contact for calls: that switch cannot be turned on, and says why.
    const call = page.getByRole('checkbox', { name: 'Outage alerts by phone call', exact: true });
    assert.equal(await call.isDisabled(), true);
    const hint = await call.getAttribute('aria-describedby');
    assert.match(await page.locator(`#${hint}`).textContent(), /phone number/);
  });

  // Switches slide only for those who have not asked for less motion.
  const transition = async (reducedMotion) => {
    let seconds;
    await withPage(browser, { reducedMotion }, async (p) => {
      await p.goto((await portalUrl(stack, 'names')).url);
      await p.getByRole('heading', { level: 1 }).waitFor();
      seconds = await p.locator('input.switch').first().evaluate((el) => getComputedStyle(el, '::before').transitionDuration);
    });
    return seconds;
  };
  assert.notEqual(await transition('no-preference'), '0s');
  assert.equal(await transition('reduce'), '0s');
});

test('contacts show their state: verified, waiting for confirmation, opted out', async () => {
  await putCustomer(stack, 'states', { name: 'Stella States', phone: '+12175550108', email: 'stella@example.com' }, quietOff);
  // The number texted STOP (recorded the way the SMS keyword path records it).
  await sql(stack, "INSERT INTO herald.consent_events (channel, address, state, source, evidence) " +
    "VALUES ('sms', '+12175550108', 'opted_out', 'sms', 'STOP')");
  const { token, url } = await portalUrl(stack, 'states');
  const pending = await stack.api('POST', '/v1/customers/states/contacts', { token, body: { channel: 'email', address: 'stella.new@example.com' } });
  await withPage(browser, {}, async (page) => {
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: 'Hello, Stella States' }).waitFor();
    const state = (address) => page.locator('.contact').filter({ hasText: address }).locator('.state');
    assert.equal(await state('+12175550108').textContent(), 'Opted out');
    assert.equal(await state('stella@example.com').textContent(), 'Verified');
    assert.equal(pending.status, 202, pending.text);
    assert.equal(await state('stella.new@example.com').textContent(), 'Waiting for confirmation');
    // An opted-out number cannot be chosen for texts, and the page says what would make it usable.
    const texts = page.getByRole('checkbox', { name: 'Outage alerts by text message', exact: true });
    assert.equal(await texts.isDisabled(), true);
    assert.match(await page.locator(`#${await texts.getAttribute('aria-describedby')}`).textContent(), /opted out of texts/);
    await checkPage(page, 'contact-states', { suite: SUITE });
  });
});

test('the server refusing a choice shows its error next to the topic it names', async () => {
  await putCustomer(stack, 'stale', { phone: '+12175550103', email: 'stale@example.com' }, quietOff);
  await withPage(browser, {}, async (page) => {
    await page.goto((await portalUrl(stack, 'stale')).url);
    await page.getByRole('heading', { level: 1 }).waitFor();
    // Meanwhile the utility drops the email address: the page still offers email.
    await putCustomer(stack, 'stale', { phone: '+12175550103' });
    await page.getByRole('checkbox', { name: 'Other news by email', exact: true }).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Not saved: please correct the marked field.' }).waitFor();
    const fieldset = page.locator('#topic-billing');
    const error = page.locator('#error-topic-billing');
    await error.waitFor();
    assert.match(await error.textContent(), /no verified email contact/);
    assert.equal(await fieldset.getAttribute('aria-describedby'), 'error-topic-billing');
    // The focus moved to the field in error.
    assert.equal(await page.evaluate(() => document.activeElement.closest('fieldset')?.id), 'topic-billing');
    assert.deepEqual((await preferencesOf('stale')).topics.other.channels, []);
    await checkPage(page, 'save-error', { suite: SUITE });
  });
});

test('an expired token and another customer\'s token see nothing and change nothing', async () => {
  await putCustomer(stack, 'victim', { name: 'Victoria Vance', phone: '+12175550104', email: 'victim@example.com' }, quietOff);
  await putCustomer(stack, 'other', { name: 'Otto Other', phone: '+12175550105' }, { ...quietOff, topics: { billing: { channels: ['sms'] } } });
  const before = await preferencesOf('victim');

  const mustRevealNothing = async (page) => {
    await page.getByRole('heading', { level: 1, name: 'This link has expired' }).waitFor();
    const text = await page.locator('body').innerText();
    for (const secret of ['Victoria', 'A-victim', '+12175550104', 'victim@example.com', '12 Main St'])
      assert.ok(!text.includes(secret), `the expired page shows ${secret}`);
    assert.equal(await page.getByRole('checkbox').count(), 0);
    assert.equal(await page.getByRole('button').count(), 0);
  };

  const expired = await stack.cli('customer-token', '--customer', 'victim', '--ttl', '-60');
  await withPage(browser, {}, async (page) => {
      await page.goto(`${stack.baseUrl}/portal/#token=${expired}`);
      await mustRevealNothing(page);
      await checkPage(page, 'expired', { suite: SUITE });
  });

  // Another customer's genuine token with its customer changed to the victim: the signature no
  // longer matches.
  const { token: otherToken, url: otherUrl } = await portalUrl(stack, 'other');
  const [payload, signature] = otherToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const forged = `${Buffer.from(JSON.stringify({ ...claims, sub: 'victim' })).toString('base64url')}.${signature}`;
  await withPage(browser, {}, async (page) => {
      await page.goto(`${stack.baseUrl}/portal/#token=${forged}`);
      await mustRevealNothing(page);
  });

  // The other customer's own link shows only their own data ...
  await withPage(browser, {}, async (otherPage) => {
    await otherPage.goto(otherUrl);
    await otherPage.getByRole('heading', { level: 1, name: 'Hello, Otto Other' }).waitFor();
    assert.ok(!(await otherPage.locator('body').innerText()).includes('Victoria'));
    // ... and its token reaches nothing of the victim's, from inside the page as a script would.
    const answers = await otherPage.evaluate(async ({ token, body }) => {
      const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
      const out = {};
      for (const [method, path, data] of [['GET', '/v1/customers/victim'], ['GET', '/v1/customers/victim/preferences'],
        ['PUT', '/v1/customers/victim/preferences', body], ['GET', '/v1/customers/victim/consent'],
        ['POST', '/v1/customers/victim/contacts', { channel: 'email', address: 'thief@example.com' }]]) {
        const r = await fetch(path, { method, headers, body: data && JSON.stringify(data) });
        out[`${method} ${path}`] = { status: r.status, text: await r.text() };
      }
      return out;
    }, { token: otherToken, body: { ...quietOff, topics: { billing: { channels: ['sms', 'email'] } } } });
    for (const [call, { status, text }] of Object.entries(answers)) {
      assert.equal(status, 404, `${call} with another customer's token -> ${status} ${text}`);
      assert.ok(!text.includes('Victoria') && !text.includes('+12175550104'), `${call} revealed: ${text}`);
    }
    // And the expired token changes nothing either.
    const put = await stack.api('PUT', '/v1/customers/victim/preferences', { token: expired, body: { ...quietOff, language: 'es' } });
    assert.equal(put.status, 401);
    assert.deepEqual(await preferencesOf('victim'), before);
    const victim = await stack.cis('GET', '/v1/customers/victim');
    assert.ok(!JSON.stringify(victim.json.contacts).includes('thief@example.com'));
  });
});

test('a link that expires while the page is open ends on the expired page, saving nothing', async () => {
  await putCustomer(stack, 'late', { name: 'Larry Late', phone: '+12175550109', email: 'larry@example.com' }, quietOff);
  const short = await stack.cli('customer-token', '--customer', 'late', '--ttl', '15');
  await withPage(browser, {}, async (page) => {
    await page.goto(`${stack.baseUrl}/portal/#token=${short}`);
    await page.getByRole('heading', { level: 1, name: 'Hello, Larry Late' }).waitFor();
    await page.getByRole('checkbox', { name: 'Outage alerts by text message', exact: true }).check();
    await poll(async () => (await stack.api('GET', '/v1/customers/late', { token: short })).status === 401,
      { timeout: 40000, what: 'the token to expire' });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: 'This link has expired' }).waitFor();
    assert.ok(!(await page.locator('body').innerText()).includes('Larry'));
  });
  assert.deepEqual((await preferencesOf('late')).topics.outage.channels, []);
});

test('a customer adds an email, a wrong code is refused by the field, the right one verifies it', async () => {
  await putCustomer(stack, 'adds', { name: 'Grace Hopper', phone: '+12175550106' }, { ...quietOff, topics: { billing: { channels: ['sms'] } } });
  await withPage(browser, {}, async (page) => {
    await page.goto((await portalUrl(stack, 'adds')).url);
    await page.getByRole('heading', { level: 1, name: 'Hello, Grace Hopper' }).waitFor();
    const address = 'grace@example.com';
    await page.getByLabel('What to add').selectOption('email');
    await page.getByLabel('Email address').fill(address);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByText(`We sent a 6-digit code to ${address}.`).waitFor();
    await page.locator('.contact').filter({ hasText: address }).getByText('Waiting for confirmation').waitFor();
    await checkPage(page, 'add-contact-code', { suite: SUITE });

    const mail = await waitForMail(stack, (m) => m.to.includes(address));
    const code = /\b(\d{6})\b/.exec(`${mail.subject}\n${mail.text}`)?.[1];
    assert.ok(code, `no 6-digit code in the mail: ${mail.subject}\n${mail.text}`);
    const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');

    const codeInput = page.getByLabel('Code from the message');
    await codeInput.fill(wrong);
    await page.getByRole('button', { name: 'Confirm' }).click();
    const error = page.locator('#error-verify-code');
    await error.waitFor();
    assert.equal(await codeInput.getAttribute('aria-invalid'), 'true');
    assert.ok((await codeInput.getAttribute('aria-describedby')).split(' ').includes('error-verify-code'));
    await checkPage(page, 'add-contact-wrong-code', { suite: SUITE });

    await codeInput.fill(code);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: `${address} is confirmed.` }).waitFor();
    const row = page.locator('.contact').filter({ hasText: address });
    await row.getByText('Verified', { exact: true }).waitFor();
    const stored = await poll(async () => {
      const r = await stack.cis('GET', '/v1/customers/adds');
      return r.json.contacts.find((c) => c.address === address && c.verified);
    }, { what: 'the email verified' });
    assert.equal(stored.channel, 'email');
    // Now email can be chosen; the consent history shows the opt-in from this page.
    assert.equal(await page.getByRole('checkbox', { name: 'Bills and payments by email', exact: true }).isDisabled(), false);
    await page.locator('.history li').filter({ hasText: address }).filter({ hasText: 'Opted in' }).first().waitFor();
    await checkPage(page, 'contact-verified', { suite: SUITE });
  });
});

test('the link in the verification email fills in the code; a contact the customer added can be removed', async () => {
  await putCustomer(stack, 'links', { name: 'Linus Link', phone: '+12175550107' }, { ...quietOff, topics: { billing: { channels: ['sms'] } } });
  const { token } = await portalUrl(stack, 'links');
  const address = 'linus@example.com';
  const added = await stack.api('POST', '/v1/customers/links/contacts', { token, body: { channel: 'email', address } });
  assert.equal(added.status, 202, added.text);
  const mail = await waitForMail(stack, (m) => m.to.includes(address));
  const link = /(https?:\/\/\S+\/portal\/#token=\S+)/.exec(mail.text)?.[1];
  assert.ok(link, `no portal link in the mail: ${mail.text}`);
  await withPage(browser, {}, async (page) => {
    await page.goto(link);
    await page.getByText(`Confirm ${address} with the code from your email.`).waitFor();
    assert.equal(new URL(page.url()).hash, '');  // neither token nor code stays in the address bar
    assert.match(await page.getByLabel('Code from the message').inputValue(), /^\d{6}$/);
    // Opening the link confirmed nothing by itself (a mail scanner may open links).
    assert.equal((await stack.cis('GET', '/v1/customers/links')).json.contacts.find((c) => c.address === address)?.verified, false);
    await page.getByRole('button', { name: 'Confirm' }).click();
    const row = page.locator('.contact').filter({ hasText: address });
    await row.getByText('Verified', { exact: true }).waitFor();

    // The utility's own contacts cannot be removed here; this one can.
    assert.equal(await page.getByRole('button', { name: 'Remove +12175550107' }).count(), 0);
    await page.getByRole('button', { name: `Remove ${address}` }).click();
    await page.getByRole('status').filter({ hasText: `${address} was removed.` }).waitFor();
    await row.waitFor({ state: 'detached' });
    const contacts = (await stack.cis('GET', '/v1/customers/links')).json.contacts;
    assert.ok(!contacts.some((c) => c.address === address && c.active !== false), JSON.stringify(contacts));
  });
});
