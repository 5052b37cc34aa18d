/**
 * The Entrances card of the admin page: state per Entrance, and a Drain / Undrain button. Spliced into
 * ADMIN_JS's closure (page-script.ts), so it uses its helpers (el, api, confirmAction, setBusy, notice,
 * fail). The notice says what the API confirmed: how many workers of this gateway have the new state.
 * Same rules as page-script.ts: no backticks or dollar-brace.
 */
export const ENTRANCES_JS = String.raw`
  function renderEntrances(list) {
    $('entrances').tBodies[0].replaceChildren.apply($('entrances').tBodies[0], list.map(function (e) {
      var st = e.draining ? 'draining' : e.healthy ? 'healthy' : 'unhealthy';
      var button = el('button', { type: 'button', class: 'drain-entrance', text: e.draining ? 'Undrain' : 'Drain', on: { click: function () { setEntranceDraining(e, !e.draining); } } });
      return el('tr', { 'data-instance': e.name }, [el('td', {}, [el('code', { text: e.name })]), el('td', { text: e.address }), el('td', { class: 'state-' + st, text: st }), el('td', { text: String(e.inFlight) }), el('td', {}, [button])]);
    }));
    applyBusy();
  }

  function drainNotice(name, d) {
    if (d.applied < d.workers) return 'Recorded for ' + name + ', but only ' + d.applied + ' of ' + d.workers + ' workers confirmed in time; the others apply it as soon as they answer.';
    var where = d.workers === 1 ? 'this gateway (1 process)' : 'every worker (' + d.workers + ') of this gateway';
    return d.draining
      ? name + ' is draining on ' + where + ': no new submissions go to it; its running jobs are still served. Other gateway replicas are not told.'
      : name + ' takes new jobs again on ' + where + '.';
  }

  async function setEntranceDraining(e, draining) {
    if (state.busy) return;
    if (draining && !(await confirmAction('Drain ' + e.name + '? It then gets no new submissions from every worker of this gateway; jobs already on it are still served (status, logs, results, kill). Undrain it when it is back.', 'Drain'))) return;
    setBusy(true);
    try {
      var d = await api('PUT', 'entrances/' + encodeURIComponent(e.name) + '/draining', { draining: draining });
      renderEntrances((await api('GET', 'entrances')).entrances);
      notice(drainNotice(e.name, d));
    } catch (err) { fail(err); }
    finally { setBusy(false); }
  }
`;
