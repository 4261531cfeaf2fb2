// Reports: messages per channel and per type over time (charts with their tables), delivery,
// failures and latency per gateway, engagement when the server offers it; a date range, and
// CSV downloads of what is shown.
(function () {
  'use strict';

  const A = window.heraldAdmin;
  const { html, api, go, num, ms, percent, Notice } = A;
  const { useState, useEffect, useRef, useMemo } = window.preactHooks;

  const pad = (n) => String(n).padStart(2, '0');
  const dayString = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  // Days are the admin's local days: from its first instant to the first instant of the day after `to`.
  function range(fromDay, toDay) {
    const from = new Date(fromDay + 'T00:00');
    const to = new Date(toDay + 'T00:00');
    to.setDate(to.getDate() + 1);
    return { from: from.toISOString(), to: to.toISOString() };
  }

  function cssColor(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  const PALETTE_LIGHT = ['#0a58a6', '#b3261e', '#0a6630', '#7a4500', '#6a1b9a', '#00695c', '#ad1457', '#37474f'];
  const PALETTE_DARK = ['#8cc3ff', '#ff9c9c', '#7edb9e', '#f1c36c', '#d7a8ff', '#72d6c9', '#ff9ccf', '#cfd8dc'];

  // Counts per bucket for each value of one group column: {buckets: [iso...], series: {value: [n...]}}.
  // Every bucket of the range is present (empty ones count 0), cut in UTC as the server cuts them.
  function pivot(rows, column, fromIso, toIso, bucket) {
    const step = bucket === 'hour' ? 3600e3 : 86400e3;
    const start = Math.floor(new Date(fromIso).getTime() / step) * step;
    const buckets = [];
    for (let t = start; t < new Date(toIso).getTime(); t += step) buckets.push(t);
    const index = new Map(buckets.map((b, i) => [b, i]));
    const series = {};
    for (const r of rows) {
      const key = r[column] == null ? '(none)' : r[column];
      if (!series[key]) series[key] = new Array(buckets.length).fill(0);
      const i = index.get(new Date(r.bucket).getTime());
      if (i !== undefined) series[key][i] += r.count;
    }
    return { buckets, series };
  }

  // One uPlot chart; redrawn when its data, the width or the colour scheme changes. The figure
  // carries the sum of what it plots (data-total), and a table with the same numbers follows it
  // for those who do not see the chart.
  function Chart({ id, title, data }) {
    const box = useRef(null);
    const [scheme, setScheme] = useState(matchMedia('(prefers-color-scheme: dark)').matches);
    useEffect(() => {
      const mq = matchMedia('(prefers-color-scheme: dark)');
      const onChange = () => setScheme(mq.matches);
      mq.addEventListener('change', onChange);
      return () => mq.removeEventListener('change', onChange);
    }, []);
    const names = Object.keys(data.series).sort();
    const total = names.reduce((s, n) => s + data.series[n].reduce((a, b) => a + b, 0), 0);
    useEffect(() => {
      const el = box.current;
      if (!el || data.buckets.length === 0) return undefined;
      const palette = scheme ? PALETTE_DARK : PALETTE_LIGHT;
      const text = cssColor('--text');
      const grid = cssColor('--line');
      const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
      const opts = {
        width: Math.max(280, el.clientWidth),
        height: 260,
        series: [{ label: 'Time' }, ...names.map((n, i) => ({
          label: A.CHANNEL_NAMES[n] || n, stroke: palette[i % palette.length], width: 2,
          points: { show: true, size: 5 },
        }))],
        axes: [axis, { ...axis, values: (u, vals) => vals.map((v) => num(v)) }],
        scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
        legend: { live: false },
        cursor: { show: false },
      };
      const plotData = [data.buckets.map((b) => b / 1000), ...names.map((n) => data.series[n])];
      el.innerHTML = '';
      const plot = new window.uPlot(opts, plotData, el);
      const resize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height: 260 });
      const observer = new ResizeObserver(resize);
      observer.observe(el);
      return () => { observer.disconnect(); plot.destroy(); };
    }, [data, scheme]);
    return html`<figure class="chart" id=${id} data-total=${total} aria-labelledby=${id + '-caption'}>
      <figcaption id=${id + '-caption'}><strong>${title}</strong> · <span class="totals">${num(total)} messages</span></figcaption>
      <div ref=${box} role="img" aria-label=${title + ': ' + names.map((n) => (A.CHANNEL_NAMES[n] || n) + ' ' + num(data.series[n].reduce((a, b) => a + b, 0))).join(', ')}></div>
      <table class="totals">
        <thead><tr><th scope="col">${id === 'by-channel' ? 'Channel' : 'Type'}</th><th scope="col" class="num">Messages</th></tr></thead>
        <tbody>${names.map((n) => html`<tr><td>${A.CHANNEL_NAMES[n] || n}</td><td class="num" data-series=${n}>${num(data.series[n].reduce((a, b) => a + b, 0))}</td></tr>`)}</tbody>
      </table>
    </figure>`;
  }

  function Gateways({ report }) {
    if (!report || report.gateways.length === 0) return html`<p>No attempt in this range.</p>`;
    return html`<table class="cards">
      <thead><tr><th>Gateway</th><th class="num">Attempts</th><th class="num">Accepted</th><th class="num">Delivered</th>
        <th class="num">Failed</th><th class="num">Delivery rate</th><th class="num">Failure rate</th>
        <th class="num">Median latency</th><th class="num">p95 latency</th><th class="num">Median to delivery</th><th class="num">p95 to delivery</th></tr></thead>
      <tbody>${report.gateways.map((g) => html`<tr>
        <td data-label="Gateway">${g.gateway}</td>
        <td data-label="Attempts" class="num">${num(g.attempts)}</td>
        <td data-label="Accepted" class="num">${num(g.accepted)}</td>
        <td data-label="Delivered" class="num">${num(g.delivered)}</td>
        <td data-label="Failed" class="num">${num(g.failed)}</td>
        <td data-label="Delivery rate" class="num">${percent(g.delivery_rate)}</td>
        <td data-label="Failure rate" class="num">${percent(g.failure_rate)}</td>
        <td data-label="Median latency" class="num">${ms(g.median_latency_ms)}</td>
        <td data-label="p95 latency" class="num">${ms(g.p95_latency_ms)}</td>
        <td data-label="Median to delivery" class="num">${ms(g.median_delivery_ms)}</td>
        <td data-label="p95 to delivery" class="num">${ms(g.p95_delivery_ms)}</td>
      </tr>`)}</tbody>
    </table>`;
  }

  // The engagement report (GET /v1/reports/engagement): replies, opt-outs by the type of the
  // message before them, reply-to-pay, outages reported by SMS, delivery per channel. Parts it
  // does not carry are left out.
  function CountTable({ caption, head, rows }) {
    if (!rows || rows.length === 0) return null;
    return html`<table class="cards">
      <caption>${caption}</caption>
      <thead><tr>${head.map((x, i) => html`<th class=${i ? 'num' : ''}>${x}</th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr>${r.map((c, i) => html`<td data-label=${head[i]} class=${i ? 'num' : ''}>${c}</td>`)}</tr>`)}</tbody>
    </table>`;
  }

  function Engagement({ report }) {
    const r = report || {};
    const facts = [];
    if (r.inbound) facts.push(['Replies received', num(r.inbound.total)]);
    if (r.reply_rate) facts.push(['Questions answered', `${num(r.reply_rate.answered)} of ${num(r.reply_rate.questions_sent)} (${percent(r.reply_rate.rate)})`]);
    if (r.opt_outs) facts.push(['Opt-outs', num(r.opt_outs.total)]);
    for (const [k, name] of [['reply_to_pay', 'Reply to pay'], ['pay_keyword', 'PAY keyword']]) {
      const c = r[k];
      if (c) facts.push([name, `${num(c.asked)} asked, ${num(c.replied_yes)} said yes, ${num(c.paid)} paid (${percent(c.conversion_rate)})`]);
    }
    if (r.outages_reported) facts.push(['Outages reported by SMS', `${num(r.outages_reported.sms)} of ${num(r.outages_reported.total)}`]);
    const optOuts = r.opt_outs && r.opt_outs.by_preceding_type;
    const intents = r.inbound && r.inbound.by_intent;
    const delivery = r.delivery && Object.entries(r.delivery);
    return html`<div>
      <${A.Facts} rows=${facts} />
      <${CountTable} caption="Opt-outs by the type of the message before them" head=${['Type', 'Opt-outs']}
        rows=${optOuts && optOuts.map((o) => [o.type || '(none before)', num(o.count)])} />
      <${CountTable} caption="Replies by what they matched" head=${['Matched', 'Keyword', 'Replies']}
        rows=${intents && intents.map((i) => [i.intent || '—', i.keyword || '—', num(i.count)])} />
      <${CountTable} caption="Delivery per channel" head=${['Channel', 'Sent', 'Delivered', 'Undelivered', 'Delivery rate']}
        rows=${delivery && delivery.map(([ch, d]) => [A.CHANNEL_NAMES[ch] || ch, num(d.sent), num(d.delivered), num(d.undelivered), percent(d.delivery_rate)])} />
    </div>`;
  }

  function ReportsPage({ params }) {
    const today = new Date();
    const weekAgo = new Date(today);
    weekAgo.setDate(weekAgo.getDate() - 6);
    const fromDay = params.get('from') || dayString(weekAgo);
    const toDay = params.get('to') || dayString(today);
    const bucket = params.get('bucket') === 'hour' ? 'hour' : 'day';
    const [form, setForm] = useState({ from: fromDay, to: toDay, bucket });
    const [volume, setVolume] = useState({ loading: true });
    const [gateways, setGateways] = useState({ loading: true });
    const [engagement, setEngagement] = useState(null);
    const key = fromDay + toDay + bucket;

    const shownKey = useRef(key);
    useEffect(() => {
      if (shownKey.current !== key) { shownKey.current = key; setForm({ from: fromDay, to: toDay, bucket }); }
      let live = true;
      const r = range(fromDay, toDay);
      setVolume({ loading: true });
      api('/v1/reports/volume?' + new URLSearchParams({ ...r, bucket, group_by: 'channel,type' })).then((x) => {
        if (live) setVolume(x.ok ? { rows: x.data.rows } : { error: A.errorText(x) });
      });
      api('/v1/reports/gateways?' + new URLSearchParams(r)).then((x) => {
        if (live) setGateways(x.ok ? { report: x.data } : { error: A.errorText(x) });
      });
      api('/v1/reports/engagement?' + new URLSearchParams(r)).then((x) => {
        if (live) setEngagement(x.ok ? { report: x.data } : null);
      });
      return () => { live = false; };
    }, [key]);

    const submit = (e) => {
      e.preventDefault();
      go('/reports', form);
    };
    const [byChannel, byType] = useMemo(() => {
      if (!volume.rows) return [null, null];
      const shown = range(fromDay, toDay);
      return [pivot(volume.rows, 'channel', shown.from, shown.to, bucket), pivot(volume.rows, 'type', shown.from, shown.to, bucket)];
    }, [volume]);
    const volumeCsv = () => A.download(`herald-volume-${fromDay}-${toDay}.csv`,
      A.csv([['bucket', 'channel', 'type', 'count'], ...volume.rows.map((r) => [r.bucket, r.channel, r.type, r.count])]));
    const gatewaysCsv = () => A.download(`herald-gateways-${fromDay}-${toDay}.csv`, A.csv([
      ['gateway', 'attempts', 'accepted', 'delivered', 'failed', 'delivery_rate', 'failure_rate', 'median_latency_ms',
        'p95_latency_ms', 'median_delivery_ms', 'p95_delivery_ms'],
      ...gateways.report.gateways.map((g) => [g.gateway, g.attempts, g.accepted, g.delivered, g.failed, g.delivery_rate,
        g.failure_rate, g.median_latency_ms, g.p95_latency_ms, g.median_delivery_ms, g.p95_delivery_ms])]));

    return html`<div>
      <h1>Reports</h1>
      <form class="card" aria-label="Date range" onSubmit=${submit}>
        <div class="filters">
          <div><label for="r-from">From</label>
            <input id="r-from" type="date" value=${form.from} required onInput=${(e) => setForm({ ...form, from: e.target.value })} /></div>
          <div><label for="r-to">Until (included)</label>
            <input id="r-to" type="date" value=${form.to} required onInput=${(e) => setForm({ ...form, to: e.target.value })} /></div>
          <div><label for="r-bucket">Per</label>
            <select id="r-bucket" value=${form.bucket} onChange=${(e) => setForm({ ...form, bucket: e.target.value })}>
              <option value="day">day</option><option value="hour">hour</option>
            </select></div>
        </div>
        <div class="actions"><button type="submit">Show</button></div>
      </form>

      <section class="card" aria-labelledby="volume-h">
        <h2 id="volume-h">Messages</h2>
        <${Notice} state=${volume} />
        ${volume.rows && (volume.rows.length === 0 ? html`<p>No message in this range.</p>` : html`<div>
          <div class="grid2">
            <${Chart} id="by-channel" title=${'Messages per channel and ' + bucket} data=${byChannel} />
            <${Chart} id="by-type" title=${'Messages per type and ' + bucket} data=${byType} />
          </div>
          <div class="actions"><button type="button" class="secondary" onClick=${volumeCsv}>Download messages CSV</button></div>
        </div>`)}
      </section>

      <section class="card" aria-labelledby="gateways-h">
        <h2 id="gateways-h">Gateways</h2>
        <${Notice} state=${gateways} />
        ${gateways.report && html`<div>
          <${Gateways} report=${gateways.report} />
          ${gateways.report.gateways.length > 0 && html`<div class="actions">
            <button type="button" class="secondary" onClick=${gatewaysCsv}>Download gateways CSV</button></div>`}
        </div>`}
      </section>

      ${engagement && html`<section class="card" aria-labelledby="engagement-h">
        <h2 id="engagement-h">Engagement and opt-outs</h2>
        <${Engagement} report=${engagement.report} />
      </section>`}
    </div>`;
  }

  A.pages.reports = ReportsPage;
})();
