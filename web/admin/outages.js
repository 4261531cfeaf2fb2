// Outages: the current ones (or all) with their affected and notified counts, and one outage's
// area, counts by channel and status, and history of changes.
(function () {
  'use strict';

  const A = window.heraldAdmin;
  const { html, api, href, go, when, num, Notice } = A;
  const { useState, useEffect } = window.preactHooks;

  // Messages by channel and status summed: what customers were told, whatever became of it.
  function notifiedTotal(counts) {
    let total = 0;
    for (const statuses of Object.values((counts && counts.notified) || {}))
      for (const n of Object.values(statuses)) total += n;
    return total;
  }

  // The list carries no counts: each outage on the page is read once for them (a page holds
  // few current outages).
  function ListPage({ params }) {
    const status = params.get('status') === 'all' ? 'all' : 'active';
    const [state, setState] = useState({ loading: true });
    useEffect(() => {
      let live = true;
      setState({ loading: true });
      (async () => {
        const r = await api('/v1/outages?' + new URLSearchParams({ status }).toString());
        if (!r.ok) { if (live) setState({ error: A.errorText(r) }); return; }
        const details = await Promise.all(r.data.items.map((o) => api('/v1/outages/' + encodeURIComponent(o.outage_id))));
        const items = r.data.items.map((o, i) => ({ ...o, counts: details[i].ok ? details[i].data.counts : null }));
        if (live) setState({ items });
      })();
      return () => { live = false; };
    }, [status]);
    return html`<div>
      <h1>Outages</h1>
      <form class="card" aria-label="Which outages">
        <label for="o-status">Show</label>
        <select id="o-status" value=${status} onChange=${(e) => go('/outages', { status: e.target.value })}>
          <option value="active">Current outages</option>
          <option value="all">All outages</option>
        </select>
      </form>
      <${Notice} state=${state} />
      ${state.items && (state.items.length === 0 ? html`<p role="status">No ${status === 'active' ? 'current ' : ''}outage.</p>` : html`<table class="cards">
        <caption>${num(state.items.length)} ${state.items.length === 1 ? 'outage' : 'outages'}, newest first</caption>
        <thead><tr><th>Outage</th><th>Status</th><th>Cause</th><th>Restoration estimate</th><th>Customers affected</th><th>Messages</th><th>Reports</th><th>Updated</th></tr></thead>
        <tbody>${state.items.map((o) => html`<tr key=${o.outage_id}>
          <td data-label="Outage"><a href=${href('/outages/' + encodeURIComponent(o.outage_id))}>${o.outage_id}</a></td>
          <td data-label="Status">${o.status.replace('_', ' ')}</td>
          <td data-label="Cause">${o.cause || '—'}</td>
          <td data-label="Restoration estimate">${o.etr ? when(o.etr) : '—'}</td>
          <td data-label="Customers affected">${o.counts ? num(o.counts.affected) : '—'}</td>
          <td data-label="Messages">${o.counts ? num(notifiedTotal(o.counts)) : '—'}</td>
          <td data-label="Reports">${o.counts ? num(o.counts.reports) : '—'}</td>
          <td data-label="Updated">${when(o.updated_at)}</td>
        </tr>`)}</tbody>
      </table>`)}
    </div>`;
  }

  function DetailPage({ id }) {
    const [state, setState] = useState({ loading: true });
    useEffect(() => {
      let live = true;
      api('/v1/outages/' + encodeURIComponent(id)).then((r) => {
        if (live) setState(r.ok ? { outage: r.data } : { error: A.errorText(r) });
      });
      return () => { live = false; };
    }, [id]);
    const o = state.outage;
    return html`<div>
      <p><a href=${href('/outages')}>All current outages</a></p>
      <h1>Outage ${id}</h1>
      <${Notice} state=${state} />
      ${o && html`<div>
        <dl class="card facts">
          <dt>Status</dt><dd>${o.status.replace('_', ' ')}</dd>
          <dt>Kind</dt><dd>${o.kind}</dd>
          <dt>Cause</dt><dd>${o.cause || '—'}</dd>
          <dt>Restoration estimate</dt><dd>${o.etr ? when(o.etr) : '—'}</dd>
          <dt>Area</dt><dd>${num(o.affected.premise_count)} ${o.affected.premise_count === 1 ? 'premise' : 'premises'}; feeders ${o.affected.feeders.join(', ') || '—'}; ZIP codes ${o.affected.zips.join(', ') || '—'}</dd>
          <dt>Customers affected</dt><dd>${num(o.counts.affected)} (${num(o.counts.accounts)} ${o.counts.accounts === 1 ? 'account' : 'accounts'})</dd>
          <dt>Outage reports</dt><dd>${num(o.counts.reports)}</dd>
        </dl>
        <section aria-labelledby="o-notified">
          <h2 id="o-notified">Messages</h2>
          ${Object.keys(o.counts.notified).length === 0 ? html`<p>No message yet.</p>` : html`<table class="cards">
            <thead><tr><th>Channel</th><th>Status</th><th>Messages</th></tr></thead>
            <tbody>${Object.entries(o.counts.notified).flatMap(([channel, by]) => Object.entries(by).map(([s, n]) => html`<tr>
              <td data-label="Channel">${A.CHANNEL_NAMES[channel] || channel}</td>
              <td data-label="Status"><${A.Status} value=${s} /></td>
              <td data-label="Messages">${num(n)}</td>
            </tr>`))}</tbody>
          </table>`}
        </section>
        <section aria-labelledby="o-history">
          <h2 id="o-history">History</h2>
          <table class="cards">
            <thead><tr><th>When</th><th>Status</th><th>By</th><th>Changes</th></tr></thead>
            <tbody>${o.history.map((h) => html`<tr>
              <td data-label="When">${when(h.at)}</td>
              <td data-label="Status">${h.status.replace('_', ' ')}</td>
              <td data-label="By">${h.source}</td>
              <td data-label="Changes">${Object.keys(h.changes || {}).join(', ') || '—'}</td>
            </tr>`)}</tbody>
          </table>
        </section>
      </div>`}
    </div>`;
  }

  A.pages.outages = ListPage;
  A.pages.outage = DetailPage;
})();
