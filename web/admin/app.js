// The console's shared parts: the admin key (sessionStorage only), API calls, hash routes,
// formatting, and small components every page uses. Pages add themselves to window.heraldAdmin.
(function () {
  'use strict';

  const { h } = window.preact;
  const html = window.htm.bind(h);
  const KEY = 'herald.admin.key';

  // The key lives in this tab's sessionStorage: gone when the tab closes, never in a cookie,
  // never in the address bar.
  const key = {
    get: () => sessionStorage.getItem(KEY),
    set: (k) => sessionStorage.setItem(KEY, k),
    clear: () => sessionStorage.removeItem(KEY),
  };

  // GET path (with query) -> {status, ok, data}. A 401 means the key stopped working: the
  // console forgets it and asks again.
  async function api(path, token) {
    const r = await fetch(path, {
      headers: { Authorization: 'Bearer ' + (token || key.get()) },
      cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
    });
    let data = null;
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (r.status === 401 && !token) {
      key.clear();
      window.dispatchEvent(new Event('herald-signed-out'));
    }
    return { status: r.status, ok: r.ok, data };
  }

  function errorText(r) {
    if (r.data && r.data.error) {
      const e = r.data.error;
      return (e.field ? e.field + ': ' : '') + e.message;
    }
    return 'The server answered ' + r.status + '.';
  }

  // Routes live in the fragment: #/messages?status=failed, #/messages/42, #/customers/C-1, ...
  function parseRoute() {
    const raw = location.hash.replace(/^#/, '') || '/messages';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params };
  }
  function href(path, params) {
    const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null)).toString() : '';
    return '#' + path + (query ? '?' + query : '');
  }
  function go(path, params) { location.hash = href(path, params); }

  const numberFormat = new Intl.NumberFormat(undefined);
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  function when(iso) { return iso ? dateTimeFormat.format(new Date(iso)) : '—'; }
  function num(n) { return n == null ? '—' : numberFormat.format(n); }
  function ms(n) { return n == null ? '—' : numberFormat.format(Math.round(n)) + ' ms'; }
  function percent(r) { return r == null ? '—' : (r * 100).toFixed(1) + ' %'; }

  // A <input type="datetime-local"> value (local time) <-> RFC 3339 UTC.
  function localToIso(v) { return v ? new Date(v).toISOString().replace(/\.\d{3}Z$/, 'Z') : ''; }
  function isoToLocal(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  // CSV of rows (arrays of cells), quoted where needed; offered as a file download.
  function csv(rows) {
    const cell = (v) => {
      const s = v == null ? '' : String(v);
      return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    };
    return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
  }
  function download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  const STATUSES = ['scheduled', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'suppressed'];
  const CHANNELS = ['sms', 'email', 'voice'];
  const CHANNEL_NAMES = { sms: 'SMS', email: 'Email', voice: 'Voice' };
  const TOPICS = ['billing', 'outage', 'other'];
  const TYPES = ['bill.ready', 'bill.due_soon', 'payment.received', 'payment.declined', 'payment.scheduled',
    'account.past_due', 'disconnection.scheduled', 'card.expiring', 'meter.read', 'usage.high', 'leak.detected',
    'service.order_updated', 'appointment.scheduled', 'notice.broadcast', 'outage.confirmed', 'outage.restored'];

  function Status({ value }) {
    return html`<span class=${'status status-' + value}>${value}</span>`;
  }

  // A page's loading / error / empty states, announced to screen readers.
  function Notice({ state }) {
    if (!state) return null;
    if (state.error) return html`<p class="error" role="alert">${state.error}</p>`;
    if (state.loading) return html`<p role="status">Loading…</p>`;
    return null;
  }

  // Moves focus to the page's heading after a route change, so keyboard and screen-reader
  // users start at the new content. It lands a frame or two after the page is drawn: a user
  // who has already put the cursor in one of the page's fields (or submitted a search from
  // one) keeps it there, or what they type next would go to the heading.
  function focusHeading() {
    requestAnimationFrame(() => {
      const active = document.activeElement;
      if (active && active.matches('input, select, textarea') && active.closest('main')) return;
      const h1 = document.querySelector('main h1');
      if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: true }); }
    });
  }

  window.heraldAdmin = {
    html, api, key, errorText, parseRoute, href, go, when, num, ms, percent, localToIso, isoToLocal, csv, download,
    STATUSES, CHANNELS, CHANNEL_NAMES, TOPICS, TYPES, Status, Notice, focusHeading, pages: {},
  };
})();
