/**
 * The dashboard's client script, inlined into the page (no build step, no external assets). It
 * reads GET /stats and GET /stats/:infoHash every few seconds and builds the table and the chart
 * with DOM calls only (`textContent`, `setAttribute`): names and info-hashes come from
 * publishers and clients and are never parsed as HTML. Plain ES2020, kept free of backticks,
 * `${` and backslashes so that it sits in a template string as written.
 */
export const DASHBOARD_SCRIPT = `
'use strict';
(function () {
  var REFRESH_MS = 4000;
  var TOKEN_KEY = 'edge-dashboard-token';
  var SVG = 'http://www.w3.org/2000/svg';
  var byId = function (id) { return document.getElementById(id); };
  var query = new URLSearchParams(location.search);
  var selected = query.get('swarm');
  var refreshes = 0;
  var timer;

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

  async function getJson(url, withToken) {
    var headers = {};
    if (withToken && token()) headers.authorization = 'Bearer ' + token();
    var response = await fetch(url, { headers: headers, cache: 'no-store' });
    var body;
    try { body = await response.json(); } catch (e) { body = { error: 'HTTP ' + response.status + ' without a JSON body' }; }
    return { ok: response.ok, status: response.status, body: body };
  }

  function formatBytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
  }

  function formatShare(x) { return x === null || x === undefined ? '-' : (x * 100).toFixed(1) + ' %'; }

  function formatLayers(layers) {
    if (!layers) return '-';
    var keys = Object.keys(layers.byLayer);
    if (keys.length === 0) return 'none active';
    return keys.map(function (k) { return 'L' + k + ': ' + layers.byLayer[k]; }).join(', ');
  }

  function formatClients(clients) {
    return Object.keys(clients).map(function (k) { return k + ' x' + clients[k]; }).join(', ') || '-';
  }

  function cell(row, field, value, text) {
    var td = document.createElement('td');
    td.dataset.field = field;
    if (value !== undefined && value !== null) td.dataset.value = String(value);
    td.textContent = text === undefined ? String(value) : text;
    row.appendChild(td);
    return td;
  }

  function showMessage(id, text, status) {
    var el = byId(id);
    el.textContent = text || '';
    el.hidden = !text;
    if (status) el.dataset.status = String(status); else delete el.dataset.status;
  }

  function select(hex) {
    selected = hex;
    var url = new URL(location.href);
    url.searchParams.set('swarm', hex);
    history.pushState(null, '', url);
    refresh();
  }

  function renderTable(data) {
    var publisher = data.publisher === true;
    document.body.dataset.view = publisher ? 'publisher' : 'public';
    byId('view').textContent = publisher ? 'publisher view' : 'public view';
    var head = ['Torrent', 'Seeds', 'Leechers', 'Downloaders', 'Completed', 'Active layers', 'Edge bytes', 'Peer bytes', 'Offload'];
    if (publisher) head.push('Peers and access (publisher)');
    var headRow = document.createElement('tr');
    head.forEach(function (h) { var th = document.createElement('th'); th.textContent = h; headRow.appendChild(th); });
    byId('swarms-head').replaceChildren(headRow);
    var rows = data.swarms.map(function (s) {
      var tr = document.createElement('tr');
      tr.dataset.infoHash = s.infoHash;
      if (s.infoHash === selected) tr.className = 'selected';
      var name = cell(tr, 'torrent', s.infoHash, '');
      var link = document.createElement('a');
      link.href = '?swarm=' + s.infoHash;
      link.dataset.field = 'name';
      link.textContent = s.name !== undefined ? s.name : s.infoHash.slice(0, 12) + '...';
      link.addEventListener('click', function (event) { event.preventDefault(); select(s.infoHash); });
      var hash = document.createElement('code');
      hash.textContent = s.infoHash;
      name.append(link, document.createElement('br'), hash);
      cell(tr, 'seeds', s.seeds, String(s.seeds) + (s.edgeSeeding ? ' + edge' : ''));
      cell(tr, 'leechers', s.leechers);
      cell(tr, 'downloaders', s.downloaders);
      cell(tr, 'completed', s.completed);
      cell(tr, 'layers', s.layers ? JSON.stringify(s.layers.byLayer) : '', formatLayers(s.layers));
      cell(tr, 'edge-bytes', s.edgeBytes, formatBytes(s.edgeBytes));
      cell(tr, 'peer-bytes', s.peerBytes, formatBytes(s.peerBytes));
      cell(tr, 'offload', s.offload, formatShare(s.offload));
      if (publisher && s.publisher) {
        var p = s.publisher;
        var box = cell(tr, 'publisher', undefined, '');
        var fact = function (field, label, value, text) {
          var span = document.createElement('span');
          span.dataset.field = field;
          span.dataset.value = String(value);
          var b = document.createElement('b');
          b.textContent = label + ' ';
          span.append(b, text === undefined ? String(value) : text);
          box.append(span, ' ');
        };
        fact('private', 'private', s.private, s.private ? 'yes' : 'no');
        fact('registered', 'registered', p.registered, p.registered ? 'yes' : 'no');
        fact('families', 'IPv4/IPv6', p.peers.ipv4 + '/' + p.peers.ipv6);
        fact('users', 'passkey users', p.peers.users);
        fact('partial-seeds', 'partial seeds', p.peers.partialSeeds);
        fact('clients', 'clients', JSON.stringify(p.peers.clients), formatClients(p.peers.clients));
      }
      return tr;
    });
    byId('swarms-body').replaceChildren.apply(byId('swarms-body'), rows);
    byId('empty').hidden = rows.length > 0;
    var t = data.totals;
    var foot = document.createElement('tr');
    cell(foot, 'total-swarms', t.shown, t.shown + ' shown of ' + t.listed + ' listed');
    cell(foot, 'total-seeds', t.seeds);
    cell(foot, 'total-leechers', t.leechers);
    cell(foot, 'total-downloaders', t.downloaders);
    cell(foot, 'total-completed', t.completed);
    cell(foot, 'total-layers', '', '');
    cell(foot, 'total-edge-bytes', t.edgeBytes, formatBytes(t.edgeBytes));
    cell(foot, 'total-peer-bytes', t.peerBytes, formatBytes(t.peerBytes));
    cell(foot, 'total-offload', t.offload, formatShare(t.offload));
    for (var i = foot.children.length; i < head.length; i++) foot.appendChild(document.createElement('td'));
    byId('swarms-foot').replaceChildren(foot);
  }

  function svg(name, attributes) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (k) { el.setAttribute(k, String(attributes[k])); });
    return el;
  }

  function renderChart(swarm, now) {
    var chart = byId('chart');
    var W = 720, H = 240, L = 70, R = 10, T = 10, B = 30;
    var points = (swarm.series || []).map(function (s) { return { t: s.t, edge: s.edgeBytes, peer: s.peerBytes }; });
    // The line runs on to now at the current figures (samples are written as things change).
    points.push({ t: now, edge: swarm.edgeBytes, peer: swarm.peerBytes });
    if (points.length === 1) points.unshift({ t: now - 10000, edge: swarm.edgeBytes, peer: swarm.peerBytes });
    var t0 = points[0].t, t1 = Math.max(points[points.length - 1].t, t0 + 1);
    var top = Math.max(1, Math.max.apply(null, points.map(function (p) { return Math.max(p.edge, p.peer); })));
    var x = function (t) { return (L + (t - t0) / (t1 - t0) * (W - L - R)).toFixed(1); };
    var y = function (v) { return (T + (1 - v / top) * (H - T - B)).toFixed(1); };
    var line = function (key) { return points.map(function (p, i) { return (i === 0 ? 'M' : 'L') + x(p.t) + ' ' + y(p[key]); }).join(' '); };
    var parts = [
      svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }),
      svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }),
      svg('path', { d: line('edge'), class: 'edge', 'data-series': 'edge' }),
      svg('path', { d: line('peer'), class: 'peer', 'data-series': 'peer' }),
    ];
    var label = function (text, lx, ly, anchor) { var el = svg('text', { x: lx, y: ly, 'text-anchor': anchor }); el.textContent = text; return el; };
    parts.push(label(formatBytes(top), L - 6, T + 10, 'end'), label('0', L - 6, H - B, 'end'));
    parts.push(label(new Date(t0).toLocaleTimeString(), L, H - 8, 'start'), label(new Date(t1).toLocaleTimeString(), W - R, H - 8, 'end'));
    chart.replaceChildren.apply(chart, parts);
    chart.dataset.points = String(points.length);
  }

  function renderDetail(answer) {
    var s = answer.swarm;
    byId('detail').hidden = false;
    byId('detail-name').textContent = s.name !== undefined ? s.name : s.infoHash;
    byId('detail-hash').textContent = s.infoHash;
    byId('detail-edge').textContent = formatBytes(s.edgeBytes);
    byId('detail-edge').dataset.value = String(s.edgeBytes);
    byId('detail-peer').textContent = formatBytes(s.peerBytes);
    byId('detail-peer').dataset.value = String(s.peerBytes);
    byId('detail-offload').textContent = formatShare(s.offload);
    renderChart(s, Date.parse(answer.generatedAt) || Date.now());
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      var list = await getJson('/stats?limit=200', true);
      if (!list.ok && (list.status === 401 || list.status === 403)) {
        // The token was refused: say so, and show what anyone may see.
        showMessage('error', 'publisher view refused (' + list.status + '): ' + list.body.error, list.status);
        list = await getJson('/stats?limit=200', false);
      } else {
        showMessage('error', list.ok ? '' : 'GET /stats failed (' + list.status + '): ' + list.body.error, list.ok ? 0 : list.status);
      }
      if (list.ok) renderTable(list.body);
      if (selected) {
        var one = await getJson('/stats/' + encodeURIComponent(selected), true);
        if (!one.ok && (one.status === 401 || one.status === 403) && token()) one = await getJson('/stats/' + encodeURIComponent(selected), false);
        if (one.ok) {
          showMessage('swarm-message', '');
          renderDetail(one.body);
        } else {
          byId('detail').hidden = true;
          showMessage('swarm-message', one.body.error, one.status);
        }
      }
      byId('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (err) {
      showMessage('error', 'cannot reach the edge: ' + err, 0);
    }
    refreshes++;
    document.body.dataset.refreshes = String(refreshes);
    timer = setTimeout(refresh, REFRESH_MS);
  }

  byId('token').value = token();
  byId('token-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var value = byId('token').value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
    refresh();
  });
  byId('lock').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY);
    byId('token').value = '';
    refresh();
  });
  window.addEventListener('popstate', function () { selected = new URLSearchParams(location.search).get('swarm'); refresh(); });
  refresh();
})();
`;
