// Messages: the filtered log with keyset pages and an audited reveal, and one message in full
// (content, decision, attempts, receipts, conversation).
(function () {
  'use strict';

  const A = window.heraldAdmin;
  const { html, api, href, go, when, num, Status, Notice } = A;
  const { useState, useEffect, useRef } = window.preactHooks;

  const FILTERS = ['customer_id', 'account_id', 'address', 'channel', 'type', 'topic', 'status', 'from', 'to', 'q'];

  function Select({ id, label, value, options, names, onChange }) {
    return html`<div>
      <label for=${id}>${label}</label>
      <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        ${options.map((o) => html`<option value=${o}>${names ? names[o] : o}</option>`)}
      </select>
    </div>`;
  }

  function Text({ id, label, value, onChange, type = 'text', hint, autocomplete = 'off' }) {
    return html`<div>
      <label for=${id}>${label}</label>
      <input id=${id} type=${type} value=${value} autocomplete=${autocomplete} aria-describedby=${hint ? id + '-hint' : undefined}
             onInput=${(e) => onChange(e.target.value)} />
      ${hint && html`<p class="hint" id=${id + '-hint'}>${hint}</p>`}
    </div>`;
  }

  // The table of summaries; each row's time links to the message.
  function MessageTable({ items, caption }) {
    return html`<table class="cards">
      <caption>${caption}</caption>
      <thead><tr><th>Time</th><th>Customer</th><th>Channel</th><th>Address</th><th>Type</th><th>Status</th><th>Preview</th></tr></thead>
      <tbody>
        ${items.map((m) => html`<tr key=${m.id}>
          <td data-label="Time"><a href=${href('/messages/' + m.id)} aria-label=${'Message ' + m.id + ', ' + when(m.created_at)}>${when(m.created_at)}</a></td>
          <td data-label="Customer"><a href=${href('/customers/' + encodeURIComponent(m.customer_id))}>${m.customer_id}</a></td>
          <td data-label="Channel">${A.CHANNEL_NAMES[m.channel] || m.channel}</td>
          <td data-label="Address"><code>${m.address}</code></td>
          <td data-label="Type">${m.type}</td>
          <td data-label="Status"><${Status} value=${m.status} />${m.suppression_reason ? ' (' + m.suppression_reason + ')' : ''}</td>
          <td data-label="Preview" class="preview">${m.body_preview}</td>
        </tr>`)}
      </tbody>
    </table>`;
  }

  function MessagesPage({ params }) {
    // The filters as typed (form) and as applied (from the address, so a search can be linked).
    const applied = {};
    for (const f of FILTERS) applied[f] = params.get(f) || '';
    const [form, setForm] = useState(applied);
    const [state, setState] = useState({ loading: true });
    const [cursors, setCursors] = useState([]);  // the cursors of the pages before this one
    const cursor = params.get('cursor') || '';
    const reveal = params.get('reveal') === '1';
    const query = params.toString();

    // The form follows the address when it changes (back, a link), not on the first render:
    // that would wipe what was typed before the effect ran.
    const shownQuery = useRef(query);
    useEffect(() => {
      if (shownQuery.current !== query) { shownQuery.current = query; setForm(applied); }
    }, [query]);
    useEffect(() => {
      let live = true;
      setState({ loading: true });
      const q = new URLSearchParams();
      for (const f of FILTERS) if (applied[f]) q.set(f, applied[f]);
      if (cursor) q.set('cursor', cursor);
      if (reveal) q.set('reveal', '1');
      api('/v1/messages?' + q.toString()).then((r) => {
        if (!live) return;
        setState(r.ok ? { page: r.data } : { error: A.errorText(r) });
      });
      return () => { live = false; };
    }, [query]);

    const set = (name) => (v) => setForm({ ...form, [name]: v });
    const submit = (e) => {
      e.preventDefault();
      setCursors([]);
      go('/messages', form);
    };
    const next = () => {
      setCursors([...cursors, cursor]);
      go('/messages', { ...applied, cursor: state.page.next_cursor, reveal: reveal ? '1' : '' });
    };
    const previous = () => {
      const before = cursors.slice(0, -1);
      const back = cursors[cursors.length - 1] || '';
      setCursors(before);
      go('/messages', { ...applied, cursor: back, reveal: reveal ? '1' : '' });
    };
    const toggleReveal = () => go('/messages', { ...applied, cursor, reveal: reveal ? '' : '1' });

    return html`<div>
      <h1>Messages</h1>
      <form class="card" role="search" aria-label="Filter messages" onSubmit=${submit}>
        <div class="filters">
          <${Text} id="f-address" label="Phone or email" value=${form.address} onChange=${set('address')} hint="Any format" />
          <${Text} id="f-customer" label="Customer id" value=${form.customer_id} onChange=${set('customer_id')} />
          <${Text} id="f-account" label="Account id" value=${form.account_id} onChange=${set('account_id')} />
          <${Select} id="f-channel" label="Channel" value=${form.channel} options=${A.CHANNELS} names=${A.CHANNEL_NAMES} onChange=${set('channel')} />
          <${Select} id="f-type" label="Type" value=${form.type} options=${A.TYPES} onChange=${set('type')} />
          <${Select} id="f-topic" label="Topic" value=${form.topic} options=${A.TOPICS} onChange=${set('topic')} />
          <${Select} id="f-status" label="Status" value=${form.status} options=${A.STATUSES} onChange=${set('status')} />
          <${Text} id="f-from" label="From" type="datetime-local" value=${A.isoToLocal(form.from)} onChange=${(v) => set('from')(A.localToIso(v))} />
          <${Text} id="f-to" label="Until" type="datetime-local" value=${A.isoToLocal(form.to)} onChange=${(v) => set('to')(A.localToIso(v))} />
          <${Text} id="f-q" label="Text in subject or body" value=${form.q} onChange=${set('q')} />
        </div>
        <div class="actions">
          <button type="submit">Search</button>
          <a class="button secondary" href=${href('/messages')}>Clear filters</a>
        </div>
      </form>
      <${Notice} state=${state} />
      ${state.page && html`<section aria-label="Results">
        <div class="actions">
          <button type="button" class="secondary" aria-pressed=${reveal ? 'true' : 'false'} onClick=${toggleReveal}>
            ${reveal ? 'Mask addresses' : 'Reveal addresses'}
          </button>
          <span class="hint">${reveal ? 'Addresses shown: this was recorded in the audit log.' : 'Revealing addresses is recorded in the audit log.'}</span>
        </div>
        ${state.page.items.length === 0
          ? html`<p role="status">No message matches these filters.</p>`
          : html`<${MessageTable} items=${state.page.items} caption=${num(state.page.items.length) + ' messages, newest first'} />`}
        <nav class="pager" aria-label="Pages">
          ${cursor && html`<button type="button" class="secondary" onClick=${previous}>Newer</button>`}
          ${state.page.next_cursor && html`<button type="button" onClick=${next}>Older</button>`}
        </nav>
      </section>`}
    </div>`;
  }

  function Facts({ rows }) {
    return html`<dl class="facts">
      ${rows.filter(([, v]) => v !== undefined).map(([k, v]) => html`<dt>${k}</dt><dd>${v == null || v === '' ? '—' : v}</dd>`)}
    </dl>`;
  }

  // The decision as stored: scalars as facts, anything nested as JSON.
  function Decision({ message }) {
    const d = message.decision || {};
    const why = message.status === 'suppressed'
      ? 'Not sent: ' + (message.suppression_reason || 'suppressed') + '.'
      : message.status === 'scheduled' ? 'Held until ' + when(message.not_before) + '.' : 'Sent because the customer is subscribed to this topic on this channel.';
    const scalars = Object.entries(d).filter(([, v]) => v === null || typeof v !== 'object');
    const nested = Object.entries(d).filter(([, v]) => v !== null && typeof v === 'object');
    return html`<section class="card" aria-labelledby="decision-h">
      <h2 id="decision-h">Decision</h2>
      <p>${why}</p>
      <${Facts} rows=${scalars.map(([k, v]) => [k, String(v)])} />
      ${nested.map(([k, v]) => html`<h3>${k}</h3><pre class="json">${JSON.stringify(v, null, 2)}</pre>`)}
    </section>`;
  }

  function Content({ message }) {
    if (message.channel === 'email') {
      return html`<section class="card" aria-labelledby="content-h">
        <h2 id="content-h">Email</h2>
        <${Facts} rows=${[['Subject', message.subject]]} />
        <h3>Text</h3>
        <pre class="body">${message.body}</pre>
        ${message.html && html`<h3>HTML</h3>
          <iframe class="email" title="Email HTML preview" sandbox="" referrerpolicy="no-referrer" srcdoc=${message.html}></iframe>`}
      </section>`;
    }
    const encoding = message.encoding || (message.channel === 'sms' ? 'unknown' : '');
    return html`<section class="card" aria-labelledby="content-h">
      <h2 id="content-h">${message.channel === 'voice' ? 'Voice message' : 'Text message'}</h2>
      <pre class="body">${message.body}</pre>
      ${message.channel === 'sms' && html`<p>${num(message.segments)} ${message.segments === 1 ? 'segment' : 'segments'}, ${encoding} encoding, ${num([...message.body].length)} characters</p>`}
    </section>`;
  }

  function Attempts({ attempts }) {
    return html`<section class="card" aria-labelledby="attempts-h">
      <h2 id="attempts-h">Attempts</h2>
      ${attempts.length === 0 ? html`<p>No attempt yet.</p>` : html`<table class="cards">
        <thead><tr><th>#</th><th>Gateway</th><th>Started</th><th class="num">Duration</th><th>Outcome</th><th>HTTP</th><th>Error</th><th>Gateway reply</th><th>Provider id</th></tr></thead>
        <tbody>${attempts.map((a) => html`<tr>
          <td data-label="#">${a.attempt}</td>
          <td data-label="Gateway">${a.gateway}</td>
          <td data-label="Started">${when(a.started_at)}</td>
          <td data-label="Duration" class="num">${A.ms(a.duration_ms)}</td>
          <td data-label="Outcome">${a.outcome}</td>
          <td data-label="HTTP">${a.http_status == null ? '—' : a.http_status}</td>
          <td data-label="Error">${a.error_code || '—'}</td>
          <td data-label="Gateway reply">${a.detail || '—'}</td>
          <td data-label="Provider id"><code>${a.provider_id || '—'}</code></td>
        </tr>`)}</tbody>
      </table>`}
    </section>`;
  }

  function Receipts({ receipts }) {
    return html`<section class="card" aria-labelledby="receipts-h">
      <h2 id="receipts-h">Delivery receipts</h2>
      ${receipts.length === 0 ? html`<p>No receipt.</p>` : html`<table class="cards">
        <thead><tr><th>Received</th><th>Status</th><th>Error</th><th>Gateway</th><th>Payload</th></tr></thead>
        <tbody>${receipts.map((r) => html`<tr>
          <td data-label="Received">${when(r.received_at)}</td>
          <td data-label="Status"><${Status} value=${r.status} /></td>
          <td data-label="Error">${r.error_code || '—'}</td>
          <td data-label="Gateway">${r.gateway}</td>
          <td data-label="Payload"><details><summary>Show</summary><pre class="json">${JSON.stringify(r.raw, null, 2)}</pre></details></td>
        </tr>`)}</tbody>
      </table>`}
    </section>`;
  }

  // The conversation the message opened (two-way SMS): what Herald expected, each reply with
  // what it matched and what Herald answered, and the conversations that followed from it.
  function Thread({ conversation, level }) {
    const c = conversation;
    const replies = c.replies || [];
    const H = level === 0 ? 'h3' : 'h4';
    return html`<div>
      <${H}>Conversation ${c.id != null ? c.id : ''} · ${c.state || ''}</${H}>
      <p class="hint">Opened ${when(c.opened_at)}${c.closed_at ? ', closed ' + when(c.closed_at) : c.expires_at ? ', expires ' + when(c.expires_at) : ''}${Array.isArray(c.expected) && c.expected.length ? ' · expects ' + c.expected.join(', ') : ''}</p>
      ${replies.length === 0 ? html`<p>No reply yet.</p>` : html`<ul class="plain">
        ${replies.map((e) => html`<li>
          <div class="in"><strong>Customer</strong> · ${when(e.received_at)}: ${e.body}</div>
          ${(e.matched || e.keyword) && html`<div class="hint">Matched ${[e.matched, e.keyword, e.action].filter(Boolean).join(' · ')}</div>`}
          ${e.reply && html`<div class="out"><strong>Herald</strong>: ${e.reply}</div>`}
        </li>`)}
      </ul>`}
      ${(c.follow_ups || []).map((f) => html`<${Thread} conversation=${f} level=${level + 1} />`)}
    </div>`;
  }

  function Conversation({ conversation }) {
    if (!conversation) return null;
    return html`<section class="card conversation" aria-labelledby="conversation-h">
      <h2 id="conversation-h">Conversation</h2>
      <${Thread} conversation=${conversation} level=${0} />
    </section>`;
  }

  function MessagePage({ id, params }) {
    const [state, setState] = useState({ loading: true });
    const reveal = params.get('reveal') === '1';
    useEffect(() => {
      let live = true;
      setState({ loading: true });
      api('/v1/messages/' + encodeURIComponent(id) + (reveal ? '?reveal=1' : '')).then((r) => {
        if (live) setState(r.ok ? { message: r.data } : { error: r.status === 404 ? 'No message ' + id + '.' : A.errorText(r) });
      });
      return () => { live = false; };
    }, [id, reveal]);
    const m = state.message;
    return html`<div>
      <p><a href=${href('/messages')}>← Messages</a></p>
      <h1>Message ${id}</h1>
      <${Notice} state=${state} />
      ${m && html`<div>
        <section class="card" aria-labelledby="summary-h">
          <h2 id="summary-h">Summary</h2>
          <${Facts} rows=${[
            ['Status', html`<${Status} value=${m.status} />${m.suppression_reason ? ' (' + m.suppression_reason + ')' : ''}`],
            ['Customer', html`<a href=${href('/customers/' + encodeURIComponent(m.customer_id))}>${m.customer_id}</a>`],
            ['Account', m.account_id],
            ['Channel', A.CHANNEL_NAMES[m.channel] || m.channel],
            ['Address', html`<code>${m.address}</code> <a href=${href('/messages/' + id, reveal ? {} : { reveal: '1' })}>${reveal ? 'Mask' : 'Reveal (audited)'}</a>`],
            ['Type', m.type], ['Topic', m.topic], ['Language', m.language],
            ['Created', when(m.created_at)], ['Sent', when(m.sent_at)], ['Delivered', when(m.delivered_at)],
            ['Gateway', m.gateway], ['Provider id', m.provider_id], ['Attempts', num(m.attempt_count)],
            ['Last error', m.last_error], ['Event', m.event_id],
          ]} />
        </section>
        <${Content} message=${m} />
        <${Decision} message=${m} />
        <${Attempts} attempts=${m.attempts || []} />
        <${Receipts} receipts=${m.receipts || []} />
        <${Conversation} conversation=${m.conversation} />
      </div>`}
    </div>`;
  }

  A.pages.messages = MessagesPage;
  A.pages.message = MessagePage;
  A.MessageTable = MessageTable;
  A.Facts = Facts;
})();
