/**
 * Part of the admin page's script (spliced into ADMIN_JS's closure, see page-script.ts): what tells tokens
 * apart (the label with its editor, when a token was created and last used), the search over them, drafts
 * that survive a reload, and the busy state that disables buttons while a change is in flight. Same rules:
 * no backticks, no dollar-brace, DOM through textContent only.
 */
export const TOKENS_JS = String.raw`
  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  /** Local time, minutes: 2026-11-28 12:19. */
  function localTime(iso) {
    var d = new Date(iso);
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + pad2(d.getHours()) + ':' + pad2(d.getMinutes());
  }
  function ago(iso) {
    var s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return 'just now';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    var days = Math.floor(s / 86400);
    return days + (days === 1 ? ' day ago' : ' days ago');
  }

  function matches(t, q) {
    if (!q) return true;
    var users = t.users === '*' ? ['*'] : t.users;
    return [t.fingerprint, t.label || '', t.createdBy || ''].concat(users).some(function (s) { return s.toLowerCase().indexOf(q) !== -1; });
  }

  /** An input whose text is kept in drafts[key] until saved, so a Reload (e.g. after a conflict) keeps it. */
  function draftInput(drafts, key, input) {
    if (drafts[key] !== undefined) input.value = drafts[key];
    input.addEventListener('input', function () { drafts[key] = input.value; });
    return input;
  }

  // Only the buttons this disabled are enabled again: others may be disabled for their own reasons.
  function applyBusy() {
    document.querySelectorAll('#app button').forEach(function (b) {
      if (state.busy && !b.disabled) { b.disabled = true; b.setAttribute('data-busy', ''); }
      else if (!state.busy && b.hasAttribute('data-busy')) { b.disabled = false; b.removeAttribute('data-busy'); }
    });
  }
  function setBusy(yes) {
    state.busy = yes;
    document.body.classList.toggle('busy', yes);
    applyBusy();
  }

  function tokenCell(t, weak) {
    var fp = t.fingerprint;
    var editing = state.drafts.label[fp] !== undefined;
    var label = el('span', { class: 'token-label' + (t.label ? '' : ' none'), text: t.label || 'no label' });
    var edit = el('button', { type: 'button', class: 'link edit-label', 'aria-label': 'Edit the label of ' + fp, text: t.label ? 'edit' : 'add label', on: { click: function () {
      state.drafts.label[fp] = t.label || '';
      render();
      var i = document.querySelector('tr[data-fingerprint="' + fp + '"] .label-form input');
      if (i) i.focus();
    } } });
    var input = draftInput(state.drafts.label, fp, el('input', { type: 'text', maxlength: '100', placeholder: 'who uses this token', 'aria-label': 'Label of ' + fp }));
    var form = el('form', { class: 'label-form', on: { submit: function (ev) {
      ev.preventDefault();
      var text = input.value.trim();
      change(function () {
        return api('PUT', 'tokens/' + encodeURIComponent(fp) + '/label', { label: text }).then(function (d) { delete state.drafts.label[fp]; return d; });
      }, text ? 'Label of ' + fp + ' set to "' + text + '".' : 'Label of ' + fp + ' removed.');
    } } }, [input, el('button', { type: 'submit', text: 'Save' }), el('button', { type: 'button', text: 'Cancel', on: { click: function () { delete state.drafts.label[fp]; render(); } } })]);
    var meta = el('div', { class: 'token-meta' }, [
      el('code', { class: 'fingerprint', text: fp }), document.createTextNode(' '),
      el('code', { class: 'masked', title: 'The first characters of the token', text: t.masked }),
      document.createTextNode(' · line ' + t.line),
    ]);
    return el('td', { class: 'token' }, [editing ? form : el('div', {}, [label, edit]), meta].concat(weak));
  }

  function createdCell(t) {
    if (!t.created) return el('td', { class: 'when created-at never', title: 'Not recorded: the token was written into proxy.properties by hand', text: 'unknown' });
    return el('td', { class: 'when created-at', title: new Date(t.created).toString() }, [
      document.createTextNode(localTime(t.created)),
      t.createdBy ? el('span', { class: 'muted', text: 'by ' + t.createdBy }) : null,
    ]);
  }

  function usedCell(t) {
    if (!t.lastUsed) return el('td', { class: 'when used-at never', title: 'No request with this token since the gateway started recording (recorded every few seconds)', text: 'never' });
    return el('td', { class: 'when used-at', title: new Date(t.lastUsed).toString() }, [document.createTextNode(ago(t.lastUsed)), el('span', { class: 'muted', text: localTime(t.lastUsed) })]);
  }
`;
