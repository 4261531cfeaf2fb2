// The preference center: one customer's topics and channels, quiet hours, language, contacts
// (add with a code, remove) and consent history, read and changed through the API with the
// customer token from the link's fragment.
(function () {
  'use strict';

  const { h, render } = window.preact;
  const { useState, useEffect, useRef } = window.preactHooks;
  const html = window.htm.bind(h);
  const TEXT = window.heraldPortalText;

  const TOPICS = ['billing', 'outage', 'other'];
  const CHANNELS = ['sms', 'email', 'voice'];
  const TOKEN_KEY = 'herald.portal.token';

  // ------------------------------------------------------------------ the token

  // The link carries the token in its fragment, which browsers never send to a server. It is
  // moved to this tab's sessionStorage (so a reload still works) and taken out of the address
  // bar, so it stays out of history, bookmarks and screenshots. The link in a verification email
  // also carries the contact and its code (&verify=email&address=...&code=...).
  function takeLink() {
    const params = new URLSearchParams(location.hash.slice(1));
    const fromLink = params.get('token');
    if (fromLink) {
      sessionStorage.setItem(TOKEN_KEY, fromLink);
      history.replaceState(null, '', location.pathname + location.search);
      const channel = params.get('verify');
      const verify = channel && params.get('address') ? { channel, address: params.get('address'), code: params.get('code') || '' } : null;
      return { token: fromLink, verify };
    }
    return { token: sessionStorage.getItem(TOKEN_KEY), verify: null };
  }

  // The customer the token names. Only a hint for building paths: the server checks the
  // signature and expiry, and answers 401/404 for anything not this customer's.
  function customerOf(token) {
    try {
      const payload = token.split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
      const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      return typeof claims.sub === 'string' && claims.sub ? claims.sub : null;
    } catch (e) {
      return null;
    }
  }

  // Calls the API as the customer; a 401 (the token expired while the page was open) ends the
  // session through onExpired instead of showing an error the customer cannot fix.
  function api(token, onExpired) {
    return async function call(method, path, body) {
      const headers = { Authorization: 'Bearer ' + token };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const r = await fetch(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
      });
      let data = null;
      try {
        data = await r.json();
      } catch (e) { /* an empty or non-JSON answer */ }
      if (r.status === 401 && onExpired) onExpired();
      return { status: r.status, ok: r.ok, data };
    };
  }

  // ------------------------------------------------------------------ language and formats

  function pickLanguage(wanted) {
    return wanted === 'es' || wanted === 'en' ? wanted : null;
  }
  function browserLanguage() {
    return (navigator.language || 'en').toLowerCase().startsWith('es') ? 'es' : 'en';
  }
  function useDocumentLanguage(lang, title) {
    useEffect(() => {
      document.documentElement.lang = lang;
      document.title = title;
    }, [lang, title]);
  }

  function formatDateTime(t, iso, timeZone) {
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    return new Intl.DateTimeFormat(t.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(d);
  }
  function formatTime(t, date, timeZone) {
    return new Intl.DateTimeFormat(t.locale, { timeStyle: 'short', timeZone }).format(date);
  }
  function zoneName(t, timeZone) {
    try {
      const parts = new Intl.DateTimeFormat(t.locale, { timeZone, timeZoneName: 'longGeneric' }).formatToParts(new Date());
      const name = parts.find((p) => p.type === 'timeZoneName');
      return name ? `${name.value}, ${timeZone}` : timeZone;
    } catch (e) {
      return timeZone;
    }
  }

  // An API error in the page's language: a Spanish text for the codes that have one, else the
  // server's own message.
  function errorText(t, error) {
    if (!error) return '';
    return t.errors[error.code] || error.message || error.code;
  }

  // ------------------------------------------------------------------ preferences <-> form

  function formFromPreferences(prefs) {
    const topics = {};
    for (const topic of TOPICS) topics[topic] = new Set(((prefs.topics || {})[topic] || {}).channels || []);
    const quiet = prefs.quiet_hours || {};
    return {
      topics,
      quiet: { enabled: !!quiet.enabled, start: quiet.start || '21:00', end: quiet.end || '08:00' },
      language: pickLanguage(prefs.language) || 'en',
    };
  }

  function preferencesFromForm(form) {
    const topics = {};
    for (const topic of TOPICS) topics[topic] = { channels: CHANNELS.filter((c) => form.topics[topic].has(c)) };
    return { topics, quiet_hours: { ...form.quiet }, language: form.language };
  }

  // Which input an error's field names ("topics.outage.channels[0]" -> the outage fieldset).
  function fieldKey(field) {
    if (!field) return null;
    const topic = /^topics\.(\w+)/.exec(field);
    if (topic) return 'topic-' + topic[1];
    if (field.startsWith('quiet_hours.start')) return 'quiet-start';
    if (field.startsWith('quiet_hours.end')) return 'quiet-end';
    if (field.startsWith('quiet_hours')) return 'quiet-enabled';
    if (field.startsWith('language')) return 'language';
    return null;
  }

  function contactState(contact) {
    if (contact.consent === 'opted_out') return 'opted_out';
    return contact.verified ? 'verified' : 'pending';
  }

  // ------------------------------------------------------------------ pages

  function Expired({ t }) {
    useDocumentLanguage(t === TEXT.es ? 'es' : 'en', t.expiredTitle);
    return html`
      <main id="main" class="page narrow">
        <h1>${t.expiredTitle}</h1>
        <p>${t.expiredBody}</p>
      </main>`;
  }

  function Failed({ t, retry }) {
    useDocumentLanguage(t === TEXT.es ? 'es' : 'en', t.failedTitle);
    return html`
      <main id="main" class="page narrow">
        <h1>${t.failedTitle}</h1>
        <p>${t.failedBody}</p>
        <button type="button" class="primary" onClick=${retry}>${t.retry}</button>
      </main>`;
  }

  function Loading({ t }) {
    return html`<main id="main" class="page narrow"><p role="status">${t.loading}</p></main>`;
  }

  function FieldError({ id, text }) {
    return text ? html`<p id=${id} class="field-error">${text}</p>` : null;
  }

  function Accounts({ t, customer }) {
    const now = new Date();
    return html`
      <section aria-labelledby="accounts-heading">
        <h2 id="accounts-heading">${t.accountsHeading}</h2>
        <ul class="cards">
          ${customer.accounts.map((a) => {
            const addr = a.service_address || {};
            const cityLine = [addr.city, [addr.state, addr.zip].filter(Boolean).join(' ')].filter(Boolean).join(', ');
            return html`
              <li class="card" key=${a.account_id}>
                <h3>${t.account(a.account_id)}</h3>
                <dl>
                  <dt>${t.serviceAddress}</dt>
                  <dd>${[addr.line1, addr.line2, cityLine].filter(Boolean).map((l) => html`<span class="line">${l}</span>`)}</dd>
                  <dt>${t.timeZone}</dt>
                  <dd>${zoneName(t, a.timezone)} <span class="muted">(${t.localTime(formatTime(t, now, a.timezone))})</span></dd>
                </dl>
              </li>`;
          })}
        </ul>
      </section>`;
  }

  function Topics({ t, form, setForm, reachable, optedOut, errors }) {
    const toggle = (topic, channel, on) => {
      const next = new Set(form.topics[topic]);
      if (on) next.add(channel);
      else next.delete(channel);
      setForm({ ...form, topics: { ...form.topics, [topic]: next } });
    };
    return html`
      <section aria-labelledby="topics-heading">
        <h2 id="topics-heading">${t.topicsHeading}</h2>
        <p class="muted">${t.topicsIntro}</p>
        ${TOPICS.map((topic) => {
          const errorId = `error-topic-${topic}`;
          const error = errors['topic-' + topic];
          return html`
            <fieldset key=${topic} id=${'topic-' + topic} class="topic" aria-describedby=${error ? errorId : undefined}>
              <legend>${t.topics[topic]}</legend>
              <div class="switches">
                ${CHANNELS.map((channel) => {
                  const id = `switch-${topic}-${channel}`;
                  const usable = reachable.has(channel);
                  const why = optedOut.has(channel) ? t.optedOutHint[channel] : t.needsContact[channel];
                  const hintId = `${id}-hint`;
                  const name = t.switchName(t.topics[topic], t.channelsInSentence[channel]);
                  return html`
                    <div class="switch-row" key=${channel}>
                      <input type="checkbox" class="switch" id=${id} checked=${form.topics[topic].has(channel)}
                        disabled=${!usable && !form.topics[topic].has(channel)}
                        aria-invalid=${error ? 'true' : undefined}
                        aria-describedby=${usable ? undefined : hintId}
                        onChange=${(e) => toggle(topic, channel, e.currentTarget.checked)} />
                      <label for=${id}><span class="visually-hidden">${name}</span><span aria-hidden="true">${t.channels[channel]}</span></label>
                      ${usable ? null : html`<p class="hint" id=${hintId}>${why}</p>`}
                    </div>`;
                })}
              </div>
              <${FieldError} id=${errorId} text=${error} />
            </fieldset>`;
        })}
        <div class="regulatory">
          <input type="checkbox" class="switch" id="switch-regulatory" checked disabled aria-describedby="regulatory-why" />
          <label for="switch-regulatory">${t.regulatoryName} (${t.regulatoryState})</label>
          <p id="regulatory-why" class="hint">${t.regulatoryWhy}</p>
        </div>
      </section>`;
  }

  function QuietHours({ t, form, setForm, customer, errors }) {
    const quiet = form.quiet;
    const set = (patch) => setForm({ ...form, quiet: { ...quiet, ...patch } });
    const zones = [...new Set(customer.accounts.map((a) => a.timezone))].map((z) => zoneName(t, z)).join('; ');
    const described = (key, id) => [errors[key] ? `error-${id}` : null, 'quiet-zone'].filter(Boolean).join(' ');
    return html`
      <section aria-labelledby="quiet-heading">
        <h2 id="quiet-heading">${t.quietHeading}</h2>
        <div class="switch-row">
          <input type="checkbox" class="switch" id="quiet-enabled" checked=${quiet.enabled}
            aria-invalid=${errors['quiet-enabled'] ? 'true' : undefined}
            aria-describedby=${errors['quiet-enabled'] ? 'error-quiet-enabled' : undefined}
            onChange=${(e) => set({ enabled: e.currentTarget.checked })} />
          <label for="quiet-enabled">${t.quietEnabled}</label>
        </div>
        <${FieldError} id="error-quiet-enabled" text=${errors['quiet-enabled']} />
        <div class="times">
          <div class="field">
            <label for="quiet-start">${t.quietStart}</label>
            <input type="time" id="quiet-start" value=${quiet.start} disabled=${!quiet.enabled} required
              aria-invalid=${errors['quiet-start'] ? 'true' : undefined} aria-describedby=${described('quiet-start', 'quiet-start')}
              onInput=${(e) => set({ start: e.currentTarget.value })} />
            <${FieldError} id="error-quiet-start" text=${errors['quiet-start']} />
          </div>
          <div class="field">
            <label for="quiet-end">${t.quietEnd}</label>
            <input type="time" id="quiet-end" value=${quiet.end} disabled=${!quiet.enabled} required
              aria-invalid=${errors['quiet-end'] ? 'true' : undefined} aria-describedby=${described('quiet-end', 'quiet-end')}
              onInput=${(e) => set({ end: e.currentTarget.value })} />
            <${FieldError} id="error-quiet-end" text=${errors['quiet-end']} />
          </div>
        </div>
        <p id="quiet-zone" class="hint">${t.quietZone(zones)}</p>
      </section>`;
  }

  function Contacts({ t, customer, call, reload, linked }) {
    const [busy, setBusy] = useState(false);
    // What happened to a contact is said here, next to the contacts, not by the Save button.
    const [status, setStatus] = useState(null);
    const announce = (text, error) => setStatus({ text, error: !!error });
    const remove = async (contact) => {
      setBusy(true);
      const r = await call('DELETE', `/v1/customers/${encodeURIComponent(customer.customer_id)}/contacts/` +
        `${encodeURIComponent(contact.channel)}/${encodeURIComponent(contact.address)}`);
      setBusy(false);
      if (r.ok) {
        announce(t.removed(contact.address));
        await reload();
      } else {
        announce(errorText(t, r.data && r.data.error) || t.notRemoved, true);
      }
    };
    const contacts = (customer.contacts || []).filter((c) => c.active !== false);
    return html`
      <section aria-labelledby="contacts-heading">
        <h2 id="contacts-heading">${t.contactsHeading}</h2>
        ${contacts.length === 0 ? html`<p>${t.noContacts}</p>` : html`
          <ul class="contacts">
            ${contacts.map((c) => {
              const state = contactState(c);
              return html`
                <li key=${c.channel + c.address} class="contact">
                  <div>
                    <span class="contact-channel">${t.contactChannels[c.channel] || c.channel}</span>
                    <span class="contact-address">${c.address}</span>
                    <span class=${'state state-' + state}>${t.states[state]}</span>
                    ${t.addedBy[c.source] ? html`<span class="muted"> · ${t.addedBy[c.source]}</span>` : null}
                  </div>
                  ${c.source && c.source !== 'cis' ? html`
                    <button type="button" class="secondary" disabled=${busy} onClick=${() => remove(c)}>${t.remove(c.address)}</button>` : null}
                </li>`;
            })}
          </ul>`}
        <p role="status" class=${status && status.error ? 'status contact-status status-error' : 'status contact-status'}>${status ? status.text : ''}</p>
        <${AddContact} t=${t} customer=${customer} call=${call} reload=${reload} announce=${announce} linked=${linked} />
      </section>`;
  }

  function AddContact({ t, customer, call, reload, announce, linked }) {
    const [kind, setKind] = useState('sms');
    const [address, setAddress] = useState('');
    // {channel, address, expires_at}; opened from a verification email's link, the code is filled
    // in and the customer confirms it (a link scanner that opens the link confirms nothing).
    const [pending, setPending] = useState(linked ? { channel: linked.channel, address: linked.address, fromLink: true } : null);
    const [code, setCode] = useState(linked ? linked.code : '');
    const [error, setError] = useState({});
    const [busy, setBusy] = useState(false);
    const codeInput = useRef(null);
    const addressInput = useRef(null);
    const base = `/v1/customers/${encodeURIComponent(customer.customer_id)}/contacts`;
    const zone = (customer.accounts[0] || {}).timezone;

    useEffect(() => {
      if (pending && codeInput.current) codeInput.current.focus();
    }, [pending]);

    const send = async (e) => {
      e.preventDefault();
      if (!address.trim()) {
        setError({ address: t.required });
        addressInput.current && addressInput.current.focus();
        return;
      }
      setBusy(true);
      const r = await call('POST', base, { channel: kind, address: address.trim() });
      setBusy(false);
      if (r.ok) {
        setError({});
        setCode('');
        setPending({ channel: kind, address: address.trim(), expires_at: r.data && r.data.expires_at });
        await reload(); // the new contact appears in the list, waiting for confirmation
      } else {
        setError({ address: errorText(t, r.data && r.data.error) || t.notSaved });
        addressInput.current && addressInput.current.focus();
      }
    };
    const verify = async (e) => {
      e.preventDefault();
      if (!code.trim()) {
        setError({ code: t.required });
        codeInput.current && codeInput.current.focus();
        return;
      }
      setBusy(true);
      const r = await call('POST', `${base}/verify`, { channel: pending.channel, address: pending.address, code: code.trim() });
      setBusy(false);
      if (r.ok) {
        const done = pending.address;
        setPending(null);
        setAddress('');
        setCode('');
        setError({});
        announce(t.confirmed(done));
        await reload();
      } else {
        setError({ code: errorText(t, r.data && r.data.error) || t.notSaved });
        codeInput.current && codeInput.current.focus();
      }
    };
    const cancel = () => {
      setPending(null);
      setCode('');
      setError({});
    };

    if (pending) {
      const until = pending.expires_at ? formatTime(t, new Date(pending.expires_at), zone) : '';
      return html`
        <form class="add" onSubmit=${verify} noValidate>
          <h3>${t.addHeading}</h3>
          <p id="code-sent">${pending.fromLink ? t.codeFromLink(pending.address) : t.codeSent(pending.address, until)}</p>
          <div class="field">
            <label for="verify-code">${t.code}</label>
            <input id="verify-code" ref=${codeInput} value=${code} inputmode="numeric" autocomplete="one-time-code"
              maxlength="12" class="code" aria-invalid=${error.code ? 'true' : undefined}
              aria-describedby=${['code-sent', error.code ? 'error-verify-code' : null].filter(Boolean).join(' ')}
              onInput=${(e) => setCode(e.currentTarget.value)} />
            <${FieldError} id="error-verify-code" text=${error.code} />
          </div>
          <div class="actions">
            <button type="submit" class="primary" disabled=${busy}>${t.confirm}</button>
            <button type="button" class="secondary" onClick=${cancel}>${t.cancel}</button>
          </div>
        </form>`;
    }
    return html`
      <form class="add" onSubmit=${send} noValidate>
        <h3>${t.addHeading}</h3>
        <div class="field">
          <label for="add-kind">${t.addKind}</label>
          <select id="add-kind" value=${kind} onChange=${(e) => { setKind(e.currentTarget.value); setError({}); }}>
            <option value="sms">${t.addKinds.sms}</option>
            <option value="email">${t.addKinds.email}</option>
          </select>
        </div>
        <div class="field">
          <label for="add-address">${t.addKinds[kind]}</label>
          <input id="add-address" ref=${addressInput} value=${address}
            type=${kind === 'email' ? 'email' : 'tel'} autocomplete=${kind === 'email' ? 'email' : 'tel'}
            aria-invalid=${error.address ? 'true' : undefined} aria-describedby=${error.address ? 'error-add-address' : undefined}
            onInput=${(e) => setAddress(e.currentTarget.value)} />
          <${FieldError} id="error-add-address" text=${error.address} />
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled=${busy}>${busy ? t.sending : t.sendCode}</button>
        </div>
      </form>`;
  }

  function History({ t, consent, customer, call }) {
    const [older, setOlder] = useState({ items: [], cursor: undefined });
    if (!consent) return null; // this server keeps no history it can show: leave the section out
    const zone = (customer.accounts[0] || {}).timezone;
    const cursor = older.cursor === undefined ? consent.next_cursor : older.cursor;
    // Newest first, whatever order the pages come in.
    const items = [...consent.items, ...older.items].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
    const count = t.historyCount(items.length, new Intl.NumberFormat(t.locale).format(items.length));
    const more = async () => {
      const r = await call('GET', `/v1/customers/${encodeURIComponent(customer.customer_id)}/consent?cursor=${encodeURIComponent(cursor)}`);
      if (r.ok) setOlder({ items: [...older.items, ...(r.data.items || [])], cursor: r.data.next_cursor || null });
    };
    return html`
      <section aria-labelledby="history-heading">
        <h2 id="history-heading">${t.historyHeading}</h2>
        ${items.length === 0 ? html`<p>${t.noHistory}</p>` : html`
          <p class="muted">${t.historyIntro(count)}</p>
          <ol class="history">
            ${items.map((item, i) => html`
              <li key=${i}>
                <time datetime=${item.at}>${formatDateTime(t, item.at, zone)}</time>
                <span>${t.historyItem(t.consent[item.consent] || item.consent,
                  (t.channelsInSentence[item.channel] || item.channel), item.address,
                  item.topic ? (t.topics[item.topic] || item.topic) : t.allTopics,
                  t.sources[item.source] || item.source)}</span>
              </li>`)}
          </ol>`}
        ${cursor ? html`<button type="button" class="secondary" onClick=${more}>${t.olderHistory}</button>` : null}
      </section>`;
  }

  function Preferences({ state, call, reload, setLanguage, linked }) {
    const { customer, prefs, consent } = state;
    const [form, setFormState] = useState(() => formFromPreferences(prefs));
    const [errors, setErrors] = useState({});
    const [status, setStatus] = useState(null); // {text, error}
    const [saving, setSaving] = useState(false);
    const t = TEXT[form.language];
    useDocumentLanguage(form.language, t.title);

    // The form starts from the stored preferences once; reloading after a contact change updates
    // which channels can be chosen and keeps what the customer has not saved yet.
    const setForm = (next) => {
      setFormState(next);
      if (next.language !== form.language) setLanguage(next.language);
    };
    const announce = (text, error) => setStatus({ text, error: !!error });

    const contacts = prefs.contacts || [];
    const reachable = new Set(contacts.filter((c) => c.verified && c.consent !== 'opted_out').map((c) => c.channel));
    // Channels whose only verified contacts opted out: the hint says so instead of "add one".
    const optedOut = new Set(contacts.filter((c) => c.verified && c.consent === 'opted_out' && !reachable.has(c.channel)).map((c) => c.channel));

    const save = async (e) => {
      e.preventDefault();
      setSaving(true);
      setStatus(null);
      const r = await call('PUT', `/v1/customers/${encodeURIComponent(customer.customer_id)}/preferences`, preferencesFromForm(form));
      setSaving(false);
      if (r.ok) {
        setErrors({});
        announce(t.saved);
        return;
      }
      const error = r.data && r.data.error;
      const key = fieldKey(error && error.field);
      if (key) {
        setErrors({ [key]: errorText(t, error) });
        announce(t.notSavedField, true);
        requestAnimationFrame(() => {
          const target = document.getElementById(key.startsWith('topic-') ? `${key}` : key);
          const focusable = target && (target.matches('input,select') ? target : target.querySelector('input:not([disabled])'));
          if (focusable) focusable.focus();
        });
      } else {
        setErrors({});
        announce(error ? `${t.notSaved} ${errorText(t, error)}` : t.notSaved, true);
      }
    };

    return html`
      <header class="masthead">
        <div class="page">
          <p class="brand">${t.title}</p>
          <div class="field language">
            <label for="language">${t.language}</label>
            <select id="language" form="preferences" value=${form.language}
              aria-invalid=${errors.language ? 'true' : undefined}
              aria-describedby=${errors.language ? 'error-language' : undefined}
              onChange=${(e) => setForm({ ...form, language: e.currentTarget.value })}>
              <option value="en" lang="en">English</option>
              <option value="es" lang="es">Español</option>
            </select>
            <${FieldError} id="error-language" text=${errors.language} />
          </div>
        </div>
      </header>
      <main id="main" class="page">
        <h1>${t.greeting(customer.name)}</h1>
        <p>${t.intro}</p>
        <${Accounts} t=${t} customer=${customer} />
        <form id="preferences" onSubmit=${save} noValidate>
          <${Topics} t=${t} form=${form} setForm=${setForm} reachable=${reachable} optedOut=${optedOut} errors=${errors} />
          <${QuietHours} t=${t} form=${form} setForm=${setForm} customer=${customer} errors=${errors} />
          <div class="save-bar">
            <button type="submit" class="primary" disabled=${saving}>${saving ? t.saving : t.save}</button>
            <p role="status" class=${status && status.error ? 'status status-error' : 'status'}>${status ? status.text : ''}</p>
          </div>
        </form>
        <${Contacts} t=${t} customer=${customer} call=${call} reload=${reload} linked=${linked} />
        <${History} t=${t} consent=${consent} customer=${customer} call=${call} />
      </main>`;
  }

  // ------------------------------------------------------------------ the app

  function App() {
    const [{ token, verify: linked }] = useState(takeLink);
    const [phase, setPhase] = useState('loading'); // loading | ready | expired | failed
    const [state, setState] = useState(null);
    const [language, setLanguage] = useState(browserLanguage);
    const firstLoad = useRef(true);
    const customerId = token && customerOf(token);
    const call = token ? api(token, () => {
      sessionStorage.removeItem(TOKEN_KEY);
      setPhase('expired');
    }) : null;

    const load = async () => {
      if (!customerId) {
        setPhase('expired');
        return;
      }
      const base = `/v1/customers/${encodeURIComponent(customerId)}`;
      let customer, prefs, consent;
      try {
        [customer, prefs, consent] = await Promise.all([call('GET', base), call('GET', `${base}/preferences`),
          call('GET', `${base}/consent`)]);
      } catch (e) {
        setPhase('failed');
        return;
      }
      // 401: expired or not a valid token; 404: not this token's customer. Both look the same.
      if ([customer, prefs].some((r) => r.status === 401 || r.status === 403 || r.status === 404)) {
        sessionStorage.removeItem(TOKEN_KEY);
        setState(null);
        setPhase('expired');
        return;
      }
      if (!customer.ok || !prefs.ok) {
        setPhase('failed');
        return;
      }
      const lang = pickLanguage(prefs.data.language);
      if (lang && firstLoad.current) setLanguage(lang);
      firstLoad.current = false;
      setState({ customer: customer.data, prefs: prefs.data,
        consent: consent.ok ? { items: consent.data.items || [], next_cursor: consent.data.next_cursor || null } : null });
      setPhase('ready');
    };

    useEffect(() => {
      load();
      // A new link opened in this tab changes only the fragment: start over with its token.
      const onHash = () => {
        if (new URLSearchParams(location.hash.slice(1)).get('token')) location.reload();
      };
      window.addEventListener('hashchange', onHash);
      return () => window.removeEventListener('hashchange', onHash);
    }, []);

    const t = TEXT[language];
    if (phase === 'expired') return html`<${Expired} t=${t} />`;
    if (phase === 'failed') return html`<${Failed} t=${t} retry=${() => { setPhase('loading'); load(); }} />`;
    if (phase === 'loading' || !state) return html`<${Loading} t=${t} />`;
    return html`<${Preferences} state=${state} call=${call} reload=${load} setLanguage=${setLanguage} linked=${linked} />`;
  }

  const root = document.getElementById('app');
  root.textContent = '';
  render(html`<${App} />`, root);
})();
