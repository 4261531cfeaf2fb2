// The admin console in a real browser: an admin signs in, finds messages by phone number and
// type, opens one and sees its attempts and receipts; opens a text the customer answered and sees
// the conversation; finds a customer by name and sees the consent history; the reports page draws
// charts whose totals are the seeded messages'. axe and screenshots (desktop, 360 px, dark) on
// every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

import { checkPage, launchBrowser, poll, putCustomer, startStack, withPage } from './harness.mjs';

const SUITE = 'console';
let stack;
let browser;

async function sql(statement) {
  const { stdout } = await promisify(execFile)('psql', [stack.database_url, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', statement]);
  return stdout.trim();
}
const quote = (s) => (s == null ? 'NULL' : `'${String(s).replace(/'/g, "''")}'`);

// Messages as the outbox writes them, oldest first (ids follow created_at), the newest an hour
// ago; returns their ids in the same order.
async function seedMessages(messages) {
  const ids = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const hoursAgo = messages.length - i;
    const sent = !['suppressed', 'queued', 'scheduled'].includes(m.status);
    ids.push(Number(await sql(`INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, language,
        status, suppression_reason, subject, body, html, segments, encoding, gateway, created_at, updated_at, sent_at, attempts)
      VALUES (${quote(`ev-${i}`)}, ${quote(m.customer)}, ${quote('A-' + m.customer)}, ${quote(m.channel)}, ${quote(m.address)},
        ${quote(m.type)}, ${quote(m.topic || 'billing')}, 'en', ${quote(m.status)}, ${quote(m.reason)}, ${quote(m.subject || '')},
        ${quote(m.body)}, ${quote(m.html || '')}, ${m.channel === 'sms' ? 1 : 0}, ${quote(m.channel === 'sms' ? 'GSM-7' : '')},
        ${sent ? quote(m.channel === 'email' ? 'smtp' : 'twilio') : 'NULL'},
        now() - interval '${hoursAgo} hours', now() - interval '${hoursAgo} hours',
        ${sent ? `now() - interval '${hoursAgo} hours'` : 'NULL'}, ${sent ? 1 : 0})
      RETURNING id`)));
  }
  return ids;
}

const ADA_PHONE = '+12175550101';
const GRACE_PHONE = '+12175550102';
const seeded = [
  { customer: 'ada', channel: 'sms', address: ADA_PHONE, type: 'bill.ready', status: 'delivered', body: 'Your bill of $82.17 is ready, due Dec 10.' },
  { customer: 'ada', channel: 'email', address: 'ada@example.com', type: 'bill.ready', status: 'delivered', subject: 'Your bill is ready',
    body: 'Your bill of $82.17 is ready.', html: '<p style="color:#0a58a6">Your bill of <b>$82.17</b> is ready.</p>' },
  { customer: 'ada', channel: 'sms', address: ADA_PHONE, type: 'payment.received', status: 'delivered', body: 'Thank you for your payment of $82.17.' },
  { customer: 'grace', channel: 'sms', address: GRACE_PHONE, type: 'bill.ready', status: 'failed', body: 'Your bill of $40.00 is ready.' },
  { customer: 'grace', channel: 'voice', address: GRACE_PHONE, type: 'notice.broadcast', topic: 'outage', status: 'suppressed', reason: 'quiet_hours', body: 'Boil water notice.' },
  // Throttled once, then sent and delivered (its attempts and receipt are added below).
  { customer: 'ada', channel: 'sms', address: ADA_PHONE, type: 'bill.ready', status: 'delivered', body: 'Your bill of $91.40 is ready, due Jan 10.' },
];
let ids;

before(async () => {
  // The fake Twilio as SMS gateway: its auth token signs the texts customers send in (nothing
  // here is dispatched; the messages are seeded).
  stack = await startStack({ twilio: true });
  browser = await launchBrowser();
  await putCustomer(stack, 'ada', { name: 'Ada Lovelace', phone: ADA_PHONE, email: 'ada@example.com' });
  await putCustomer(stack, 'grace', { name: 'Grace Hopper', phone: GRACE_PHONE });
  ids = await seedMessages(seeded);
  // The newest bill text: a throttled first attempt, then accepted, then delivered; the message
  // row reads as Herald leaves it after those (status, attempt count, provider id, the throttling
  // as its last error, sent when accepted, delivered when the receipt came).
  const newest = ids[5];
  const sid = 'SM0123456789abcdef0123456789abcdef';
  await sql(`INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, duration_ms, outcome, http_status, error_code, detail, provider_id) VALUES
    (${newest}, 1, 'twilio', now() - interval '1 hour', 412, 'retry', 429, '20429', 'Too Many Requests', NULL),
    (${newest}, 2, 'twilio', now() - interval '59 minutes', 180, 'sent', 201, NULL, 'queued', '${sid}')`);
  await sql(`INSERT INTO herald.delivery_receipts (message_id, gateway, provider_id, status, raw, received_at) VALUES
    (${newest}, 'twilio', '${sid}', 'delivered', '{"MessageSid": "${sid}", "MessageStatus": "delivered"}', now() - interval '58 minutes')`);
  await sql(`UPDATE herald.messages SET status = 'delivered', attempts = 2, gateway = 'twilio', provider_id = '${sid}',
      last_error = '20429: Too Many Requests', sent_at = now() - interval '59 minutes' + interval '180 milliseconds',
      delivered_at = now() - interval '58 minutes', updated_at = now() - interval '58 minutes'
    WHERE id = ${newest}`);
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

async function signIn(page, on = stack) {
  await page.goto(on.baseUrl + '/admin/');
  await page.getByRole('heading', { level: 1, name: 'Herald admin' }).waitFor();
  await page.getByLabel('Admin API key').fill(on.admin_key);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
}

test('a wrong key is refused and the key is kept in sessionStorage only', async () => {
  await withPage(browser, {}, async (page) => {
    await page.goto(stack.baseUrl + '/admin/');
    await checkPage(page, 'sign-in', { suite: SUITE });
    await page.getByLabel('Admin API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This key was not accepted.').waitFor();
    await page.getByLabel('Admin API key').fill(stack.cis_key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This key is not an admin key.').waitFor();
    await page.getByLabel('Admin API key').fill(stack.admin_key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
    const stored = await page.evaluate(() => ({ session: sessionStorage.getItem('herald.admin.key'), local: localStorage.length, cookie: document.cookie }));
    assert.equal(stored.session, stack.admin_key);
    assert.equal(stored.local, 0);
    assert.equal(stored.cookie, '');
  });
});

test('an admin finds messages by phone number and type, opens one, sees attempts and receipts', async () => {
  await withPage(browser, {}, async (page) => {
    await signIn(page);
    await page.getByLabel('Phone or email').fill('(217) 555-0101');
    await page.getByLabel('Type').selectOption('bill.ready');
    await page.getByRole('button', { name: 'Search' }).click();
    // The search is in the address (so it can be linked) and its answer replaces the unfiltered list.
    await page.waitForFunction(() => location.hash.includes('type=bill.ready') && location.hash.includes('address='));
    await page.getByRole('caption').filter({ hasText: '2 messages, newest first' }).waitFor();
    // Ada's two bill texts, newest first; not her email, her payment text or Grace's bill.
    assert.equal(await page.locator('table tbody tr').count(), 2);
    const links = await page.locator('table tbody tr td:first-child a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, [`#/messages/${ids[5]}`, `#/messages/${ids[0]}`]);
    // Addresses are masked until revealed.
    assert.equal((await page.locator('table').innerText()).includes(ADA_PHONE), false);
    await checkPage(page, 'messages', { suite: SUITE });

    await page.getByRole('link', { name: `Message ${ids[5]},` }).click();
    await page.getByRole('heading', { level: 1, name: `Message ${ids[5]}` }).waitFor();
    const attempts = page.locator('section', { has: page.getByRole('heading', { name: 'Attempts' }) });
    await attempts.getByText('Too Many Requests').waitFor();
    assert.equal(await attempts.locator('tbody tr').count(), 2);
    assert.match(await attempts.innerText(), /SM0123456789abcdef/);
    assert.match(await attempts.innerText(), /429/);
    const receipts = page.locator('section', { has: page.getByRole('heading', { name: 'Delivery receipts' }) });
    assert.equal(await receipts.locator('tbody tr').count(), 1);
    assert.match(await receipts.innerText(), /delivered/);
    assert.match(await page.locator('main').innerText(), /1 segment, GSM-7 encoding/);
    // The summary agrees with the rows below it.
    const summary = page.locator('section', { has: page.getByRole('heading', { name: 'Summary' }) });
    assert.equal((await fact(summary, 'Status')).toLowerCase(), 'delivered');
    assert.equal(await fact(summary, 'Attempts'), '2');
    assert.equal(await fact(summary, 'Provider id'), 'SM0123456789abcdef0123456789abcdef');
    assert.notEqual(await fact(summary, 'Delivered'), '—');
    assert.notEqual(await fact(summary, 'Sent'), '—');
    await checkPage(page, 'message', { suite: SUITE });

    // The audited reveal.
    const before = Number(await sql("SELECT count(*) FROM herald.audit_log WHERE action = 'message.reveal'"));
    await page.getByRole('link', { name: 'Reveal (audited)' }).click();
    await page.getByText(ADA_PHONE, { exact: true }).waitFor();
    assert.equal(Number(await sql("SELECT count(*) FROM herald.audit_log WHERE action = 'message.reveal'")), before + 1);
  });
});

test('an email shows its subject, text and its HTML in a sandboxed frame', async () => {
  await withPage(browser, {}, async (page) => {
    await signIn(page);
    await page.goto(stack.baseUrl + `/admin/#/messages/${ids[1]}`);
    await page.getByRole('heading', { level: 1, name: `Message ${ids[1]}` }).waitFor();
    const frame = page.locator('iframe[title="Email HTML preview"]');
    assert.equal(await frame.getAttribute('sandbox'), '');
    await page.frameLocator('iframe[title="Email HTML preview"]').getByText('$82.17').waitFor();
    assert.match(await page.locator('main').innerText(), /Your bill is ready/);
    await checkPage(page, 'message-email', { suite: SUITE });
  });
});

// X-Twilio-Signature as Twilio computes it: HMAC-SHA1 with the auth token over the URL it called
// followed by each POST parameter's name and value, sorted by name; base64.
function twilioSignature(authToken, url, params) {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', authToken).update(data).digest('base64');
}

const xmlText = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

// A text from a phone to the utility's number, posted as Twilio posts it (signed with `authToken`);
// returns the HTTP status and the reply Herald put in its TwiML ('' when none).
async function textFrom(on, from, body, authToken = on.twilio_auth_token) {
  const url = on.baseUrl + '/v1/webhooks/twilio/sms';
  const form = { MessageSid: 'SM' + randomBytes(16).toString('hex'), AccountSid: 'AC' + '1'.repeat(32), From: from, To: '+12175550000', Body: body };
  const r = await fetch(url, { method: 'POST', body: new URLSearchParams(form).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilioSignature(authToken, url, form) } });
  const twiml = await r.text();
  const said = /<Message>([\s\S]*)<\/Message>/.exec(twiml);
  return { status: r.status, twiml, reply: said ? xmlText(said[1]) : '' };
}

// The value a <dl class="facts"> inside `within` gives for `name`.
async function fact(within, name) {
  return (await within.locator('dt', { hasText: new RegExp(`^${name}$`) }).locator('xpath=following-sibling::dd[1]').innerText()).trim();
}

test('a text the customer answered shows the conversation: the reply and what Herald answered', async () => {
  // Its own heraldd: bill texts ask a question here (bill.ready declares a conversation) and go
  // out through the fake Twilio, so the conversation opens the way it does in production.
  const talk = await startStack({ twilio: true, config: '[rules.types."bill.ready".conversation]\nttl_hours = 72\nreplies = { N = "close" }' });
  try {
    const phone = '+12175550133';
    await putCustomer(talk, 'lin', { name: 'Lin Chen', phone });
    const occurred = new Date();
    const due = new Date(occurred.getTime() + 20 * 86400e3).toISOString().slice(0, 10);
    const event = { event_id: 'bill-lin-1', type: 'bill.ready', account_id: 'A-lin', occurred_at: occurred.toISOString().replace(/\.\d+Z$/, 'Z'),
      data: { amount_due: '82.17', due_date: due, bill_url: 'https://billing.utility.example/b/lin-1' } };
    const posted = await talk.cis('POST', '/v1/events', event);
    assert.equal(posted.status, 202, posted.text);
    const sms = await poll(async () => {
      const r = await talk.admin('GET', '/v1/messages?customer_id=lin&channel=sms');
      return r.json && r.json.items.find((m) => m.status === 'sent');
    }, { what: 'the bill text accepted by the fake Twilio' });
    const opened = await talk.admin('GET', `/v1/messages/${sms.id}`);
    assert.equal(opened.json.conversation && opened.json.conversation.state, 'open', opened.text);

    // The customer answers " n. " (case, spaces and the full stop are tolerated) through the
    // signed inbound webhook; Herald answers in TwiML. A wrong signature is refused first.
    assert.equal((await textFrom(talk, phone, ' n. ', 'not-the-token')).status, 403);
    const answered = await textFrom(talk, phone, ' n. ');
    assert.equal(answered.status, 200, answered.twiml);
    const reply = answered.reply;
    assert.ok(reply.length > 0, answered.twiml);

    const detail = (await talk.admin('GET', `/v1/messages/${sms.id}`)).json;
    assert.equal(detail.conversation.state, 'closed', JSON.stringify(detail.conversation));
    assert.equal(detail.conversation.replies.length, 1);
    assert.equal(detail.conversation.replies[0].reply, reply);

    await withPage(browser, {}, async (page) => {
      await signIn(page, talk);
      await page.goto(talk.baseUrl + `/admin/#/messages/${sms.id}`);
      await page.getByRole('heading', { level: 1, name: `Message ${sms.id}` }).waitFor();
      const conversation = page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Conversation' }) });
      await conversation.getByText(reply).waitFor();
      const text = await conversation.innerText();
      assert.match(text, /closed/);
      assert.match(text, /N → close/);  // what the text expected
      const turn = conversation.locator('li');
      assert.equal(await turn.count(), 1);
      assert.match(await turn.locator('.in').innerText(), /n\./);
      assert.match(await turn.innerText(), /conversation · N · close/);  // what the reply matched and the action it ran
      assert.equal((await turn.locator('.out').innerText()).includes(reply), true);
      // The customer's number is masked here as everywhere until revealed.
      assert.equal(text.includes(phone), false);
      await checkPage(page, 'message-conversation', { suite: SUITE });
    });
  } finally {
    await talk.stop();
  }
});

test('an admin finds a customer by name and sees the consent history', async () => {
  await withPage(browser, {}, async (page) => {
    await signIn(page);
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Customers' }).waitFor();
    await page.getByLabel('Name, phone, email, customer, account or premise id').fill('lovelace');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Ada Lovelace' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Grace Hopper' }).count(), 0);
    await checkPage(page, 'customers', { suite: SUITE });

    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByRole('heading', { level: 1, name: 'Ada Lovelace' }).waitFor();
    const consent = page.locator('section', { has: page.getByRole('heading', { name: 'Consent history' }) });
    const history = await stack.admin('GET', '/v1/customers/ada/consent');
    if (history.status === 200) {
      // The CIS gave both contacts: each has its opt-in from source cis, and the page lists
      // exactly what the API holds.
      await consent.locator('tbody tr').first().waitFor();
      assert.ok(history.json.items.length >= 2, history.text);
      assert.equal(await consent.locator('tbody tr').count(), history.json.items.length);
      const text = await consent.innerText();
      assert.match(text, /opted_in/);
      assert.match(text, /cis/);
    } else {
      // A server without consent history says so instead of showing an empty list.
      assert.equal(history.status, 404, history.text);
      await consent.getByText('Consent history is not available from this server.').waitFor();
    }
    const recent = page.locator('section', { has: page.getByRole('heading', { name: 'Recent messages' }) });
    // The recent messages load on their own request: wait for the fourth row, then there are no more.
    await recent.locator('tbody tr').nth(3).waitFor();
    assert.equal(await recent.locator('tbody tr').count(), 4);
    await checkPage(page, 'customer', { suite: SUITE });
  });
});

test('a new page takes the focus to its heading, but not from a field the admin is already typing in', async () => {
  await withPage(browser, {}, async (page) => {
    await signIn(page);
    // Left alone, a page's heading gets the focus, so the keyboard starts at the new content.
    await page.getByRole('link', { name: 'Outages' }).click();
    await poll(() => page.evaluate(() => document.activeElement.tagName === 'H1' && document.activeElement.textContent === 'Outages'),
      { what: 'the Outages heading to have the focus' });
    // The heading's focus comes a frame or two after the page is drawn. A search box focused
    // in that gap (a fast typist, or a test) keeps the focus, and what is typed stays in it.
    const focused = await page.evaluate(async () => {
      location.hash = '#/customers';
      let input = null;
      while (!(input = document.getElementById('c-q'))) await new Promise((r) => setTimeout(r, 0));
      input.focus();
      for (let i = 0; i < 4; i++) await new Promise((r) => requestAnimationFrame(r));
      await new Promise((r) => setTimeout(r, 250));
      return document.activeElement.id;
    });
    assert.equal(focused, 'c-q');
    await page.keyboard.type('hopper');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Grace Hopper' }).waitFor();
    assert.equal(await page.getByLabel('Name, phone, email, customer, account or premise id').inputValue(), 'hopper');
  });
});

test('the reports page draws charts whose totals are the seeded messages, and engagement from the texts received', async () => {
  const byChannel = {};
  const byType = {};
  for (const m of seeded) {
    byChannel[m.channel] = (byChannel[m.channel] || 0) + 1;
    byType[m.type] = (byType[m.type] || 0) + 1;
  }
  // Customers text in through the signed webhook: Ada opts out, Grace asks for help, reports an
  // outage and sends something Herald does not know (the menu answers).
  const texts = [
    { from: ADA_PHONE, body: 'Stop.', intent: 'opt_out' },
    { from: GRACE_PHONE, body: 'HELP', intent: 'help' },
    { from: GRACE_PHONE, body: 'out', intent: 'service' },
    { from: GRACE_PHONE, body: 'hello?', intent: 'menu' },
  ];
  for (const t of texts) {
    const r = await textFrom(stack, t.from, t.body);
    assert.equal(r.status, 200, r.twiml);
    assert.ok(r.reply, `${t.body}: ${r.twiml}`);
  }
  const byIntent = {};
  for (const t of texts) byIntent[t.intent] = (byIntent[t.intent] || 0) + 1;
  // The opt-out counts against the type of the last text the number had been sent.
  const sentStatuses = ['sent', 'delivered', 'undelivered'];
  const lastToAda = seeded.filter((m) => m.channel === 'sms' && m.address === ADA_PHONE && sentStatuses.includes(m.status)).pop();
  const delivery = {};
  for (const m of seeded) {
    const d = delivery[m.channel] || (delivery[m.channel] = { sent: 0, delivered: 0 });
    if (sentStatuses.includes(m.status)) d.sent++;
    if (m.status === 'delivered') d.delivered++;
  }
  await withPage(browser, {}, async (page) => {
    await signIn(page);
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
    const chart = page.locator('figure#by-channel');
    await chart.locator('canvas').waitFor();
    assert.equal(Number(await chart.getAttribute('data-total')), seeded.length);
    for (const [channel, count] of Object.entries(byChannel))
      assert.equal(await chart.locator(`td[data-series="${channel}"]`).innerText(), String(count), channel);
    const types = page.locator('figure#by-type');
    assert.equal(Number(await types.getAttribute('data-total')), seeded.length);
    for (const [type, count] of Object.entries(byType))
      assert.equal(await types.locator(`td[data-series="${type}"]`).innerText(), String(count), type);
    // The canvas was drawn at the figure's width.
    const size = await chart.locator('canvas').evaluate((c) => ({ w: c.width, h: c.height }));
    assert.ok(size.w > 200 && size.h > 100, JSON.stringify(size));

    const gateways = page.locator('section', { has: page.getByRole('heading', { name: 'Gateways' }) });
    await gateways.getByText('twilio').waitFor();
    assert.match(await gateways.innerText(), /50\.0 %/);  // failure rate: one of two attempts was refused

    // Engagement, from GET /v1/reports/engagement over the same range.
    const engagement = page.locator('section', { has: page.getByRole('heading', { name: 'Engagement and opt-outs' }) });
    await engagement.locator('dl').waitFor();
    assert.equal(await fact(engagement, 'Replies received'), String(texts.length));
    assert.equal(await fact(engagement, 'Opt-outs'), '1');
    assert.equal(await fact(engagement, 'Outages reported by SMS'), '1 of 1');
    assert.equal(await fact(engagement, 'Questions answered'), '0 of 0 (—)');
    const rowOf = (caption, first) => engagement.locator('table', { has: page.locator('caption', { hasText: caption }) })
      .locator('tbody tr', { has: page.locator('td:first-child', { hasText: new RegExp(`^${first.replace(/[.()]/g, '\\$&')}$`) }) });
    const cells = async (row) => (await row.locator('td').allInnerTexts()).map((c) => c.trim());
    assert.equal(await engagement.locator('table', { has: page.locator('caption', { hasText: 'Opt-outs by the type' }) }).locator('tbody tr').count(), 1);
    assert.deepEqual((await cells(rowOf('Opt-outs by the type', lastToAda.type))).slice(1), ['1']);
    const replies = engagement.locator('table', { has: page.locator('caption', { hasText: 'Replies by what they matched' }) });
    const shownByIntent = {};
    for (const row of await replies.locator('tbody tr').all()) {
      const [intent, , count] = await cells(row);
      shownByIntent[intent] = (shownByIntent[intent] || 0) + Number(count);
    }
    assert.deepEqual(shownByIntent, byIntent);
    for (const [channel, d] of Object.entries(delivery)) {
      const name = { sms: 'SMS', email: 'Email', voice: 'Voice' }[channel];
      const [, sent, delivered] = await cells(rowOf('Delivery per channel', name));
      assert.deepEqual([Number(sent), Number(delivered)], [d.sent, d.delivered], channel);
    }

    // The CSV of what is shown.
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download messages CSV' }).click()]);
    const body = await (await file.createReadStream()).toArray();
    const lines = Buffer.concat(body).toString('utf8').trim().split(/\r\n/);
    assert.equal(lines[0], 'bucket,channel,type,count');
    assert.equal(lines.slice(1).reduce((s, l) => s + Number(l.split(',').pop()), 0), seeded.length);
    await checkPage(page, 'reports', { suite: SUITE, ready: () => chart.locator('canvas').waitFor() });
  });
});

// Last in the file: the outage's messages would change the counts the tests above check.
test('the outages tab lists current outages with their counts and opens one with its history', async () => {
  await putCustomer(stack, 'linus', { name: 'Linus Pauling', phone: '+12175550177' });
  const put = await stack.cis('PUT', '/v1/outages/O-web-1',
    { status: 'confirmed', kind: 'unplanned', cause: 'storm', affected: { premise_ids: ['P-linus'] } });
  assert.equal(put.status, 201, put.text);
  await withPage(browser, {}, async (page) => {
    await signIn(page);
    await page.getByRole('link', { name: 'Outages' }).click();
    await page.getByRole('heading', { level: 1, name: 'Outages' }).waitFor();
    const row = page.locator('table tbody tr', { has: page.getByRole('link', { name: 'O-web-1' }) });
    await row.waitFor();
    const api = (await stack.admin('GET', '/v1/outages/O-web-1')).json;
    assert.equal(api.counts.affected, 1);
    assert.equal(await row.locator('td[data-label="Customers affected"]').innerText(), '1');
    assert.equal(await row.locator('td[data-label="Reports"]').innerText(), '0');
    assert.equal(await row.locator('td[data-label="Cause"]').innerText(), 'storm');
    await checkPage(page, 'outages', { suite: SUITE });

    await row.getByRole('link', { name: 'O-web-1' }).click();
    await page.getByRole('heading', { level: 1, name: 'Outage O-web-1' }).waitFor();
    // The heading shows at once; the outage's sections once it has been read.
    const history = page.locator('section', { has: page.getByRole('heading', { name: 'History' }) });
    await history.locator('tbody tr').first().waitFor();
    assert.equal(await history.locator('tbody tr').count(), api.history.length);
    assert.match(await history.innerText(), /confirmed/);
    await checkPage(page, 'outage', { suite: SUITE });
  });
});
