/**
 * The admin page's script: vanilla JavaScript, no build step, served as /admin/app.js. It talks only to
 * /admin/api/ with the admin token as a Bearer header (kept in sessionStorage: gone when the tab closes),
 * sends the ETag of its last read with every change, and builds the DOM with textContent, never HTML
 * strings. Kept free of backticks and dollar-brace so it can live in this template string. Parts live in
 * page-script-*.ts and are spliced into this one closure (their function declarations are hoisted in it).
 */
import { AUDIT_JS } from './page-script-audit';
import { ENTRANCES_JS } from './page-script-entrances';
import { TOKENS_JS } from './page-script-tokens';

export const ADMIN_JS = String.raw`'use strict';
(function () {
  var KEY = 'linkis-gateway-admin-token';
  var $ = function (id) { return document.getElementById(id); };
  // drafts: what the admin typed and has not saved (per fingerprint), kept across reloads; busy: a change is in flight.
  var state = { etag: null, tokens: [], drafts: { add: {}, label: {} }, busy: false };

  function el(tag, props, children) {
    var e = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === 'text') e.textContent = props[k];
      else if (k === 'on') Object.keys(props.on).forEach(function (ev) { e.addEventListener(ev, props.on[ev]); });
      else e.setAttribute(k, props[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function show(id, yes) { $(id).hidden = !yes; }

  function showError(message, offerReload) {
    $('error-text').textContent = message;
    show('error-reload', !!offerReload);
    show('error', true);
    show('notice', false);
  }
  function notice(message) {
    show('error', false);
    $('notice').textContent = message;
    show('notice', true);
  }

  // Every answer is a Linkis envelope: status 0 is success, anything else carries a message for people.
  async function api(method, path, body) {
    var headers = { authorization: 'Bearer ' + sessionStorage.getItem(KEY) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') headers['if-match'] = '"' + state.etag + '"';
    var res, env;
    try {
      res = await fetch('/admin/api/' + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (e) {
      throw { message: 'The gateway could not be reached (' + e.message + ').' };
    }
    try { env = await res.json(); } catch (e) { throw { message: 'The gateway answered HTTP ' + res.status + ' with something that is not a Linkis answer.' }; }
    if (env.status !== 0) throw { message: env.message, code: env.data && env.data.errorCode };
    return env.data;
  }

  function fail(err) {
    if (err.code === 'ADMIN_UNAUTHORIZED') {
      signOut();
      showError('Sign-in refused: ' + err.message + '.');
    } else if (err.code === 'ADMIN_CONFLICT') {
      showError('Someone else changed the allowlist (another admin, or an edit of proxy.properties) since this page loaded it. Nothing was changed. Reload to see the current list, then try again.', true);
    } else {
      showError(err.message || String(err));
    }
  }

  function confirmAction(text, okLabel) {
    return new Promise(function (resolve) {
      var dlg = $('confirm');
      $('confirm-text').textContent = text;
      $('confirm-ok').textContent = okLabel;
      var done = function (answer) { return function () { dlg.close(); cleanup(); resolve(answer); }; };
      var ok = done(true), cancel = done(false);
      function cleanup() { $('confirm-ok').removeEventListener('click', ok); $('confirm-cancel').removeEventListener('click', cancel); dlg.removeEventListener('cancel', cancel); }
      $('confirm-ok').addEventListener('click', ok);
      $('confirm-cancel').addEventListener('click', cancel);
      dlg.addEventListener('cancel', cancel);
      dlg.showModal();
    });
  }

  function splitUsers(text) {
    return text.split(',').map(function (s) { return s.trim(); }).filter(function (s) { return s !== ''; });
  }

  async function change(run, message) {
    if (state.busy) return; // one change at a time: its buttons are disabled until it is done
    setBusy(true);
    try {
      await run();
      await load();
      notice(message);
    } catch (err) { fail(err); }
    finally { setBusy(false); }
  }

  function userChip(t, user) {
    if (user === '*') return el('span', { class: 'chip any', text: 'any user (*)' });
    return el('span', { class: 'chip', 'data-user': user }, [
      document.createTextNode(user),
      el('button', { type: 'button', class: 'remove-user', 'aria-label': 'Remove ' + user, title: 'Remove ' + user, text: '×', on: { click: async function () {
        if (!(await confirmAction('Remove ' + user + ' from token ' + t.fingerprint + '? Services using this token can no longer act as ' + user + '.', 'Remove'))) return;
        change(function () { return api('POST', 'tokens/' + encodeURIComponent(t.fingerprint) + '/users/remove', { remove: [user] }); }, 'Removed ' + user + ' from ' + t.fingerprint + '.');
      } } }),
    ]);
  }

  function tokenRow(t) {
    var users = t.users === '*' ? ['*'] : t.users;
    var input = draftInput(state.drafts.add, t.fingerprint, el('input', { type: 'text', placeholder: 'bob,carol', 'aria-label': 'Users to add to ' + t.fingerprint }));
    var any = t.users === '*';
    var addForm = el('form', { class: 'add-user', on: { submit: async function (ev) {
      ev.preventDefault();
      var add = splitUsers(input.value);
      if (!add.length) return;
      var path = 'tokens/' + encodeURIComponent(t.fingerprint) + '/users';
      var saved = function (d) { delete state.drafts.add[t.fingerprint]; return d; };
      if (!any) return change(function () { return api('POST', path, { add: add }).then(saved); }, 'Added ' + add.join(', ') + ' to ' + t.fingerprint + '.');
      // A token for any user (*) cannot gain users, only be restricted to a list: that takes everyone else away.
      if (!(await confirmAction('Restrict token ' + t.fingerprint + ' to ' + add.join(', ') + '? It may then act as no other user.', 'Restrict'))) return;
      change(function () { return api('PUT', path, { users: add }).then(saved); }, 'Token ' + t.fingerprint + ' now acts only as ' + add.join(', ') + '.');
    } } }, [input, el('button', { type: 'submit', text: any ? 'Restrict to' : 'Add' })]);
    var del = el('button', { type: 'button', class: 'danger delete-token', text: 'Delete', on: { click: async function () {
      if (!(await confirmAction('Delete token ' + t.fingerprint + ' (line ' + t.line + ')? Every service using it is refused at once. This cannot be undone.', 'Delete token'))) return;
      change(function () { return api('DELETE', 'tokens/' + encodeURIComponent(t.fingerprint)); }, 'Deleted token ' + t.fingerprint + '.');
    } } });
    // A weak token (short, little variety, or a Linkis default) works under gateway.token.policy=warn: say so on its row.
    var weak = t.weak ? [
      el('span', { class: 'badge weak', title: 'Weak token: ' + t.weak + '. Anyone who guesses it can act as its users.', text: 'weak' }),
      el('div', { class: 'weak-reason', text: t.weak }),
    ] : [];
    return el('tr', { 'data-fingerprint': t.fingerprint, class: t.weak ? 'weak-token' : '' }, [
      tokenCell(t, weak),
      el('td', { class: 'users' }, users.map(function (u) { return userChip(t, u); })),
      createdCell(t),
      usedCell(t),
      el('td', {}, [addForm]),
      el('td', {}, [del]),
    ]);
  }

  function render() {
    var q = $('search').value.trim().toLowerCase();
    var rows = state.tokens.filter(function (t) { return matches(t, q); });
    $('tokens').tBodies[0].replaceChildren.apply($('tokens').tBodies[0], rows.map(tokenRow));
    applyBusy();
    show('empty', rows.length === 0);
    $('count').textContent = '(' + state.tokens.length + ')';
    $('version').textContent = state.etag ? 'version ' + state.etag.slice(0, 12) : '';
  }

  async function load() {
    var data = await api('GET', 'tokens');
    state.etag = data.etag;
    state.tokens = data.tokens;
    var problems = data.problems || [];
    $('file-problems').textContent = problems.length ? 'proxy.properties on disk is refused by the gateway (the previous rules stay in force) until it is fixed by hand: ' + problems.map(function (p) { return 'line ' + p.line + ': ' + p.message; }).join('; ') : '';
    show('file-problems', problems.length > 0);
    var weak = state.tokens.filter(function (t) { return t.weak; }).length;
    $('weak-tokens').textContent = weak ? weak + ' weak token' + (weak === 1 ? '' : 's') + ' (marked below): ' + (weak === 1 ? 'it still works' : 'they still work') + ', but can be guessed. Create a new token for the service, switch the service to it, then delete the weak one.' : '';
    show('weak-tokens', weak > 0);
    render();
    loadAudit();
    api('GET', 'entrances').then(function (d) { renderEntrances(d.entrances); }, function () {});
  }

  async function signIn(token) {
    sessionStorage.setItem(KEY, token);
    try {
      var me = await api('GET', 'me');
      $('who-name').textContent = me.admin;
      show('who', true); show('signin', false); show('app', true); show('error', false);
      await load();
    } catch (err) { fail(err); }
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    state.etag = null; state.tokens = [];
    show('who', false); show('app', false); show('signin', true); show('created', false); show('notice', false);
    $('admin-token').value = '';
  }

` + TOKENS_JS + AUDIT_JS + ENTRANCES_JS + String.raw`
  $('signin-form').addEventListener('submit', function (ev) { ev.preventDefault(); signIn($('admin-token').value.trim()); });
  $('sign-out').addEventListener('click', signOut);
  $('error-close').addEventListener('click', function () { show('error', false); });
  $('error-reload').addEventListener('click', function () { show('error', false); load().catch(fail); });
  $('reload').addEventListener('click', function () { load().then(function () { notice('Reloaded.'); }, fail); });
  $('search').addEventListener('input', render);
  $('create-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var users = $('create-users').value.trim() === '*' ? '*' : splitUsers($('create-users').value);
    var label = $('create-label').value.trim();
    change(async function () {
      var c = await api('POST', 'tokens', { users: users, label: label });
      $('created-token').textContent = c.token;
      $('created-fingerprint').textContent = c.fingerprint;
      $('created-users').textContent = (c.users === '*' ? 'any user (*)' : c.users.join(', ')) + (c.label ? ' (' + c.label + ')' : '');
      show('copied', false); show('created', true);
      $('create-users').value = ''; $('create-label').value = '';
    }, 'Token created.');
  });
  $('copy-token').addEventListener('click', async function () {
    var token = $('created-token').textContent;
    try { await navigator.clipboard.writeText(token); }
    catch (e) {
      // No clipboard API (e.g. plain HTTP on a non-loopback address): select it for Ctrl+C.
      var range = document.createRange(); range.selectNodeContents($('created-token'));
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      document.execCommand('copy');
    }
    show('copied', true);
  });
  $('created-done').addEventListener('click', function () { $('created-token').textContent = ''; show('created', false); });

  if (sessionStorage.getItem(KEY)) signIn(sessionStorage.getItem(KEY)); else signOut();
})();
`;
