/**
 * Part of the admin page's script (spliced into ADMIN_JS's closure, see page-script.ts): the recent audit
 * records, newest first, each in words: who (an admin, the CLI, or a hand edit of the file) and which
 * tokens appeared, disappeared or changed users. Tokens are shown by fingerprint and, where the current
 * list knows it, by label. Same rules: no backticks, no dollar-brace, DOM through textContent only.
 */
export const AUDIT_JS = String.raw`
  var AUDIT_LIMIT = 15;

  function loadAudit() {
    return api('GET', 'audit?limit=' + AUDIT_LIMIT).then(function (d) { renderAudit(d.records || []); }, function () {});
  }

  function tokenName(fp) {
    var t = state.tokens.filter(function (x) { return x.fingerprint === fp; })[0];
    return fp + (t && t.label ? ' (' + t.label + ')' : '');
  }
  function userList(u) { return u === '*' ? 'any user (*)' : u.join(', '); }

  /** The record's tokens in words, from appeared/disappeared/usersChanged (every writer's records have them). */
  function changeParts(r) {
    var parts = [];
    // A created token's label is in its record: the token may be gone from the list by now.
    (r.appeared || []).forEach(function (a) { parts.push(el('div', { class: 'diff-added', text: '+ ' + (r.label ? a.token + ' (' + r.label + ')' : tokenName(a.token)) + ' appeared, for ' + userList(a.users) })); });
    (r.disappeared || []).forEach(function (a) { parts.push(el('div', { class: 'diff-removed', text: '− ' + tokenName(a.token) + ' disappeared (it could act as ' + userList(a.users) + ')' })); });
    (r.usersChanged || []).forEach(function (c) {
      var words = [];
      if (c.added.length) words.push('+' + c.added.join(', +'));
      if (c.removed.length) words.push('−' + c.removed.join(', −'));
      parts.push(el('div', { text: tokenName(c.token) + ': users ' + words.join(' ') }));
    });
    if (r.totals) parts.push(el('div', { class: 'muted', text: 'In all: ' + r.totals.appeared + ' appeared, ' + r.totals.disappeared + ' disappeared, ' + r.totals.usersChanged + ' changed users (see the audit file).' }));
    // Draining records (src/admin/api.ts, ops/cluster-draining.ts) name an Entrance, not a token.
    if (r.instance) parts.push(el('div', { text: 'Entrance ' + r.instance + (r.operation === 'undrain' ? ' takes new jobs again' : ' drained: no new jobs') + (r.workers ? ' (' + r.workers + ' workers)' : '') }));
    if (r.operation === 'set-label') parts.push(el('div', { text: tokenName(r.token) + ': label "' + (r.labelBefore || '') + '" → "' + (r.labelAfter || '') + '"' }));
    return parts;
  }

  function auditRow(r) {
    var hand = r.operation === 'hand-edit';
    var who = hand ? 'edit by hand' : r.admin + (r.via === 'cli' ? ' (CLI)' : '');
    var what = changeParts(r);
    if (hand && r.lost) what.unshift(el('div', { class: 'refused', text: 'Overwritten by an admin write made at the same instant: re-apply it by hand.' }));
    else if (hand && r.applied === false) what.unshift(el('div', { class: 'refused', text: 'Refused by the gateway: the previous rules stay in force until the file is fixed.' }));
    if (!what.length) what.push(el('div', { class: 'muted', text: hand ? 'no token changed (comments or layout only)' : r.operation }));
    return el('tr', { 'data-operation': r.operation }, [
      el('td', { class: 'when', title: new Date(r.time).toString() }, [document.createTextNode(ago(r.time)), el('span', { class: 'muted', text: localTime(r.time) })]),
      el('td', {}, [el('strong', { text: who }), el('span', { class: 'muted', text: ' ' + r.operation })]),
      el('td', {}, what),
    ]);
  }

  function renderAudit(records) {
    $('audit').tBodies[0].replaceChildren.apply($('audit').tBodies[0], records.map(auditRow));
    show('audit-empty', records.length === 0);
  }
`;
