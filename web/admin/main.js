// The console's frame: the admin key asked once per tab, the navigation, and the page of the
// current route.
(function () {
  'use strict';

  const A = window.heraldAdmin;
  const { html, api, key, href, parseRoute, focusHeading } = A;
  const { render } = window.preact;
  const { useState, useEffect } = window.preactHooks;

  // The key is checked with a one-row message search: 401 is a wrong key, 403 a key without the
  // admin role. Only a working key is kept.
  function SignIn({ onSignedIn, reason }) {
    const [value, setValue] = useState('');
    const [error, setError] = useState(reason || '');
    const [busy, setBusy] = useState(false);
    useEffect(() => { document.title = 'Sign in · Herald admin'; }, []);
    const submit = async (e) => {
      e.preventDefault();
      setBusy(true);
      const r = await api('/v1/messages?limit=1', value.trim());
      setBusy(false);
      if (r.ok) {
        key.set(value.trim());
        onSignedIn();
      } else {
        setError(r.status === 401 ? 'This key was not accepted.' : r.status === 403 ? 'This key is not an admin key.' : A.errorText(r));
      }
    };
    return html`<main class="narrow" id="main">
      <h1>Herald admin</h1>
      <form class="card" onSubmit=${submit}>
        <label for="admin-key">Admin API key</label>
        <input id="admin-key" type="password" autocomplete="off" value=${value} required
               aria-describedby="key-hint${error ? ' key-error' : ''}" aria-invalid=${error ? 'true' : 'false'}
               onInput=${(e) => setValue(e.target.value)} />
        <p class="hint" id="key-hint">Kept in this browser tab only, until you close it or sign out.</p>
        ${error && html`<p class="error" id="key-error" role="alert">${error}</p>`}
        <div class="actions"><button type="submit" disabled=${busy}>Sign in</button></div>
      </form>
    </main>`;
  }

  const TABS = [['/messages', 'Messages'], ['/customers', 'Customers'], ['/reports', 'Reports'], ['/outages', 'Outages']];

  function Console() {
    const [route, setRoute] = useState(parseRoute());
    const [signedIn, setSignedIn] = useState(!!key.get());
    const [reason, setReason] = useState('');
    useEffect(() => {
      const onHash = () => setRoute(parseRoute());
      const onSignedOut = () => { setSignedIn(false); setReason('Your key is no longer accepted: sign in again.'); };
      window.addEventListener('hashchange', onHash);
      window.addEventListener('herald-signed-out', onSignedOut);
      return () => {
        window.removeEventListener('hashchange', onHash);
        window.removeEventListener('herald-signed-out', onSignedOut);
      };
    }, []);
    const [section, id] = route.parts;
    const title = { messages: 'Messages', customers: 'Customers', reports: 'Reports', outages: 'Outages' }[section] || 'Messages';
    useEffect(() => {
      document.title = (id ? title.replace(/s$/, '') + ' ' + id : title) + ' · Herald admin';
      if (signedIn) focusHeading();
    }, [route, signedIn]);
    if (!signedIn) return html`<${SignIn} reason=${reason} onSignedIn=${() => { setReason(''); setSignedIn(true); }} />`;

    let page;
    if (section === 'customers') page = id ? html`<${A.pages.customer} id=${id} params=${route.params} />` : html`<${A.pages.customers} params=${route.params} />`;
    else if (section === 'reports') page = html`<${A.pages.reports} params=${route.params} />`;
    else if (section === 'outages') page = id ? html`<${A.pages.outage} id=${id} />` : html`<${A.pages.outages} params=${route.params} />`;
    else page = id ? html`<${A.pages.message} id=${id} params=${route.params} />` : html`<${A.pages.messages} params=${route.params} />`;
    const current = '/' + (section || 'messages');
    const signOut = () => { key.clear(); setReason(''); setSignedIn(false); };
    return html`<div>
      <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); focusHeading(); }}>Skip to content</a>
      <header class="top">
        <p class="brand">Herald admin</p>
        <nav aria-label="Sections"><ul>
          ${TABS.map(([path, name]) => html`<li><a href=${href(path)} aria-current=${current === path ? 'page' : undefined}>${name}</a></li>`)}
        </ul></nav>
        <div class="end"><button type="button" class="secondary" onClick=${signOut}>Sign out</button></div>
      </header>
      <main id="main">${page}</main>
    </div>`;
  }

  render(html`<${Console} />`, document.getElementById('app'));
})();
