// Customers: search by name, phone, email or id, then one customer's accounts, contacts,
// consent history, preferences and recent messages on one page.
(function () {
  'use strict';

  const A = window.heraldAdmin;
  const { html, api, href, go, when, Notice } = A;
  const { useState, useEffect, useRef } = window.preactHooks;

  function Contacts({ contacts }) {
    if (!contacts || contacts.length === 0) return html`<p>No contact.</p>`;
    return html`<table class="cards">
      <thead><tr><th>Channel</th><th>Address</th><th>Verified</th><th>Consent</th><th>Source</th></tr></thead>
      <tbody>${contacts.map((c) => html`<tr>
        <td data-label="Channel">${A.CHANNEL_NAMES[c.channel] || c.channel}</td>
        <td data-label="Address"><code>${c.address}</code></td>
        <td data-label="Verified">${c.verified ? 'yes' : 'no'}</td>
        <td data-label="Consent">${c.consent}</td>
        <td data-label="Source">${c.source || '—'}</td>
      </tr>`)}</tbody>
    </table>`;
  }

  function SearchPage({ params }) {
    const q = params.get('q') || '';
    const cursor = params.get('cursor') || '';
    const [text, setText] = useState(q);
    const [state, setState] = useState(null);
    // The box follows the address when it changes (back, a link), not on the first render:
    // that would wipe what was typed before the effect ran.
    const shownQ = useRef(q);
    useEffect(() => {
      if (shownQ.current !== q) { shownQ.current = q; setText(q); }
      if (!q) { setState(null); return undefined; }
      let live = true;
      setState({ loading: true });
      api('/v1/customers?' + new URLSearchParams({ q, ...(cursor ? { cursor } : {}) }).toString()).then((r) => {
        if (live) setState(r.ok ? { page: r.data } : { error: A.errorText(r) });
      });
      return () => { live = false; };
    }, [q, cursor]);
    const submit = (e) => { e.preventDefault(); go('/customers', { q: text.trim() }); };
    return html`<div>
      <h1>Customers</h1>
      <form class="card" role="search" aria-label="Find a customer" onSubmit=${submit}>
        <label for="c-q">Name, phone, email, customer, account or premise id</label>
        <input id="c-q" type="search" value=${text} autocomplete="off" onInput=${(e) => setText(e.target.value)} />
        <div class="actions"><button type="submit">Find</button></div>
      </form>
      <${Notice} state=${state} />
      ${state && state.page && html`<section aria-label="Customers found">
        ${state.page.items.length === 0 ? html`<p role="status">No customer matches “${q}”.</p>` : html`<ul class="plain card">
          ${state.page.items.map((c) => html`<li key=${c.customer_id}>
            <a href=${href('/customers/' + encodeURIComponent(c.customer_id))}><strong>${c.name}</strong></a>
            <span class="hint"> · ${c.customer_id}</span>
            <div>${c.matched_by.map((m) => html`<span class="tag">matched ${m.replace('_', ' ')}</span>`)}</div>
            <div class="hint">${c.accounts.map((a) => a.account_id + ' (' + [a.service_address.line1, a.service_address.city].filter(Boolean).join(', ') + ')').join('; ')}</div>
          </li>`)}
        </ul>`}
        ${state.page.next_cursor && html`<nav class="pager" aria-label="Pages">
          <a class="button" href=${href('/customers', { q, cursor: state.page.next_cursor })}>More customers</a>
        </nav>`}
      </section>`}
    </div>`;
  }

  function ConsentHistory({ state }) {
    if (!state || state.loading) return html`<p role="status">Loading…</p>`;
    if (state.unavailable) return html`<p>Consent history is not available from this server.</p>`;
    if (state.error) return html`<p class="error">${state.error}</p>`;
    if (state.items.length === 0) return html`<p>No consent recorded.</p>`;
    return html`<table class="cards">
      <thead><tr><th>When</th><th>Channel</th><th>Address</th><th>Consent</th><th>Topic</th><th>Source</th><th>Evidence</th></tr></thead>
      <tbody>${state.items.map((e) => html`<tr>
        <td data-label="When">${when(e.at)}</td>
        <td data-label="Channel">${A.CHANNEL_NAMES[e.channel] || e.channel}</td>
        <td data-label="Address"><code>${e.address}</code></td>
        <td data-label="Consent">${e.consent}</td>
        <td data-label="Topic">${e.topic || 'all topics'}</td>
        <td data-label="Source">${e.source}</td>
        <td data-label="Evidence">${e.evidence || '—'}</td>
      </tr>`)}</tbody>
    </table>`;
  }

  function Preferences({ prefs }) {
    if (!prefs) return html`<p>No preferences recorded.</p>`;
    const topics = prefs.topics || {};
    const quiet = prefs.quiet_hours || {};
    return html`<div>
      <table class="cards">
        <thead><tr><th>Topic</th><th>Channels</th></tr></thead>
        <tbody>${Object.keys(topics).map((t) => html`<tr>
          <td data-label="Topic">${t}</td>
          <td data-label="Channels">${(topics[t].channels || []).map((c) => A.CHANNEL_NAMES[c] || c).join(', ') || 'none'}</td>
        </tr>`)}</tbody>
      </table>
      <p>Quiet hours: ${quiet.enabled ? quiet.start + '–' + quiet.end : 'off'} · Language: ${prefs.language}</p>
    </div>`;
  }

  function CustomerPage({ id, params }) {
    const reveal = params.get('reveal') === '1';
    const [customer, setCustomer] = useState({ loading: true });
    const [consent, setConsent] = useState({ loading: true });
    const [prefs, setPrefs] = useState(null);
    const [messages, setMessages] = useState({ loading: true });
    useEffect(() => {
      let live = true;
      const path = encodeURIComponent(id);
      // The search answers with masked contacts (and an audited reveal): it is the console's
      // way to read one customer.
      api('/v1/customers?' + new URLSearchParams({ q: id, limit: '50', ...(reveal ? { reveal: '1' } : {}) })).then((r) => {
        if (!live) return;
        const found = r.ok && r.data.items.find((c) => c.customer_id === id);
        setCustomer(found ? { customer: found } : { error: r.ok ? 'No customer ' + id + '.' : A.errorText(r) });
      });
      api('/v1/customers/' + path + '/consent').then((r) => {
        if (!live) return;
        if (r.ok) setConsent({ items: r.data.items || [] });
        else if (r.status === 404 && r.data && r.data.error && r.data.error.code === 'not_found') setConsent({ unavailable: true });
        else setConsent({ error: A.errorText(r) });
      });
      api('/v1/customers/' + path + '/preferences').then((r) => { if (live) setPrefs(r.ok ? r.data : null); });
      api('/v1/messages?' + new URLSearchParams({ customer_id: id, limit: '20', ...(reveal ? { reveal: '1' } : {}) })).then((r) => {
        if (live) setMessages(r.ok ? { page: r.data } : { error: A.errorText(r) });
      });
      return () => { live = false; };
    }, [id, reveal]);
    const c = customer.customer;
    return html`<div>
      <p><a href=${href('/customers')}>← Customers</a></p>
      <h1>${c ? c.name : 'Customer ' + id}</h1>
      <${Notice} state=${customer} />
      ${c && html`<div>
        <section class="card" aria-labelledby="accounts-h">
          <h2 id="accounts-h">Accounts</h2>
          <p class="hint">Customer id ${c.customer_id} · language ${c.language}</p>
          <table class="cards">
            <thead><tr><th>Account</th><th>Premise</th><th>Service address</th><th>Time zone</th><th>Feeder</th></tr></thead>
            <tbody>${c.accounts.map((a) => html`<tr>
              <td data-label="Account"><a href=${href('/messages', { account_id: a.account_id })}>${a.account_id}</a></td>
              <td data-label="Premise">${a.premise_id || '—'}</td>
              <td data-label="Service address">${[a.service_address.line1, a.service_address.line2, a.service_address.city, a.service_address.state, a.service_address.zip].filter(Boolean).join(', ')}</td>
              <td data-label="Time zone">${a.timezone}</td>
              <td data-label="Feeder">${a.feeder || '—'}</td>
            </tr>`)}</tbody>
          </table>
        </section>
        <section class="card" aria-labelledby="contacts-h">
          <h2 id="contacts-h">Contacts</h2>
          <${Contacts} contacts=${c.contacts} />
          <div class="actions">
            <a class="button secondary" href=${href('/customers/' + encodeURIComponent(id), reveal ? {} : { reveal: '1' })}>${reveal ? 'Mask addresses' : 'Reveal addresses (audited)'}</a>
          </div>
        </section>
      </div>`}
      <section class="card" aria-labelledby="consent-h">
        <h2 id="consent-h">Consent history</h2>
        <${ConsentHistory} state=${consent} />
      </section>
      <section class="card" aria-labelledby="prefs-h">
        <h2 id="prefs-h">Preferences</h2>
        <${Preferences} prefs=${prefs} />
      </section>
      <section class="card" aria-labelledby="recent-h">
        <h2 id="recent-h">Recent messages</h2>
        <${Notice} state=${messages} />
        ${messages.page && (messages.page.items.length === 0 ? html`<p>No message yet.</p>`
          : html`<${A.MessageTable} items=${messages.page.items} caption="The 20 newest" />`)}
        <p><a href=${href('/messages', { customer_id: id })}>All messages of this customer</a></p>
      </section>
    </div>`;
  }

  A.pages.customers = SearchPage;
  A.pages.customer = CustomerPage;
})();
