/**
 * The `/ops` page: static HTML shells (dashboard and login form), a stylesheet and a script that
 * polls `GET /ops/api/state` every 2 s and renders it. Data is only ever inserted with
 * `textContent` (tenant and workspace names are user input), and the page runs under a strict
 * Content-Security-Policy (no inline script or style).
 */

/** Content-Security-Policy of every `/ops` HTML answer. */
export const OPS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const head = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ops/assets/ops.css">
</head>`;

/** The dashboard shell; `ops.js` fills it. */
export function dashboardPage(): string {
  const section = (id: string, title: string, extra = '') =>
    `<section class="card${extra}" id="${id}"><h2>${title}</h2><div class="body"><p class="muted">loading…</p></div></section>`;
  return `${head('Diaryx Sync · ops')}
<body>
<header>
  <h1>Diaryx Sync <span class="muted">cluster</span></h1>
  <div id="status" data-state="loading">connecting…</div>
  <form method="post" action="/ops/logout"><button type="submit">Log out</button></form>
</header>
<div id="warnings" hidden></div>
<div id="summary" class="summary"></div>
<main>
  ${section('gateways', 'Gateways', ' wide')}
  ${section('doc-services', 'Doc services', ' wide')}
  ${section('shards', 'Shard ownership', ' wide')}
  ${section('tenants', 'Connections per tenant')}
  ${section('busiest-docs', 'Busiest docs')}
  ${section('queues', 'Queues')}
  ${section('workers', 'History workers')}
  ${section('alerts', 'Validation alerts (commits stopped)', ' wide')}
  ${section('repairs', 'Repairs in place', ' wide')}
  ${section('rebuilds', 'Rebuilds of unreadable CRDTs', ' wide')}
  ${section('validations', 'Failed validations', ' wide')}
  ${section('webhook-failures', 'Webhook failures', ' wide')}
  ${section('webhook-deliveries', 'Webhook deliveries', ' wide')}
  ${section('workspaces', 'Workspace health', ' wide')}
</main>
<footer class="muted">Data: heartbeats in Redis (every 2 s) and the history worker's tables. <a href="/ops/api/state">JSON</a> · <a href="/ops/queues">queues</a></footer>
<script src="/ops/assets/ops.js"></script>
</body>
</html>`;
}

/** The login form (`POST /ops/login` with the cluster ADMIN_TOKEN). */
export function loginPage(error?: string): string {
  return `${head('Diaryx Sync · ops login')}
<body class="login">
<form method="post" action="/ops/login" class="card" id="login">
  <h1>Diaryx Sync ops</h1>
  <p class="muted">Sign in with the cluster <code>ADMIN_TOKEN</code>.</p>
  ${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Sign in</button>
</form>
</body>
</html>`;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** `GET /ops/assets/ops.css`. */
export const OPS_CSS = `
:root { --bg:#0f1419; --card:#182029; --fg:#e6edf3; --muted:#8b98a5; --line:#2a3541; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; align-items:center; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0; flex:1; }
header form { margin:0; }
button { background:var(--line); color:var(--fg); border:1px solid #3a4753; border-radius:6px; padding:6px 12px; cursor:pointer; }
#status { font-size:12px; padding:3px 10px; border-radius:12px; background:var(--line); }
#status[data-state=ok] { background:#12361f; color:var(--ok); }
#status[data-state=error] { background:#3d1418; color:var(--bad); }
#warnings { margin:12px 20px 0; padding:8px 12px; border:1px solid var(--warn); color:var(--warn); border-radius:6px; }
.summary { display:grid; grid-template-columns:repeat(auto-fit,minmax(140px,1fr)); gap:10px; padding:16px 20px 0; }
.stat { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.stat .v { font-size:22px; font-weight:600; }
.stat .k { color:var(--muted); font-size:12px; }
main { display:grid; grid-template-columns:repeat(auto-fit,minmax(420px,1fr)); gap:16px; padding:16px 20px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; min-width:0; }
.card.wide { grid-column:1/-1; }
.card h2 { font-size:14px; margin:0 0 8px; color:var(--accent); }
.card .body { overflow-x:auto; }
table { width:100%; border-collapse:collapse; font-size:13px; }
th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); white-space:nowrap; overflow:hidden; text-overflow:ellipsis; max-width:260px; }
th { color:var(--muted); font-weight:500; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.wrap { white-space:normal; max-width:none; overflow:visible; word-break:break-word; min-width:160px; }
.details ul { margin:2px 0 4px; padding-left:18px; }
.details b { font-weight:500; color:var(--muted); }
.muted { color:var(--muted); }
.pill { display:inline-block; padding:0 8px; border-radius:10px; font-size:12px; }
.pill.healthy { background:#12361f; color:var(--ok); }
.pill.failing { background:#3d1418; color:var(--bad); }
.pill.unchecked { background:var(--line); color:var(--muted); }
.bar { height:6px; background:var(--accent); border-radius:3px; min-width:2px; }
.shardmap { display:grid; grid-template-columns:repeat(auto-fill,minmax(22px,1fr)); gap:3px; }
.shard { height:22px; border-radius:3px; font-size:9px; display:flex; align-items:center; justify-content:center; color:#0f1419; }
.shard.none { background:var(--line); color:var(--bad); }
.legend { margin-top:8px; display:flex; flex-wrap:wrap; gap:12px; font-size:12px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:middle; }
footer { padding:0 20px 20px; font-size:12px; }
footer a { color:var(--accent); }
body.login { display:flex; align-items:center; justify-content:center; min-height:100vh; }
body.login form { width:340px; display:flex; flex-direction:column; gap:8px; }
body.login h1 { font-size:18px; margin:0; }
input { background:var(--bg); color:var(--fg); border:1px solid var(--line); border-radius:6px; padding:8px; }
.error { color:var(--bad); margin:0; }
`;

/** `GET /ops/assets/ops.js`: polls the state and renders it (plain DOM, no framework). */
export const OPS_JS = `
'use strict';
(function () {
  var POLL_MS = 2000;
  function el(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = String(attrs[k]);
      else if (k === 'class') e.className = attrs[k];
      else if (k === 'style') e.style.cssText = attrs[k]; // CSSOM: allowed by the CSP, unlike style=""
      else e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i] != null) e.appendChild(arguments[i]);
    return e;
  }
  function ago(iso) {
    if (!iso) return '—';
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + 's ago';
    if (s < 3600) return Math.round(s / 60) + 'm ago';
    if (s < 86400) return Math.round(s / 3600) + 'h ago';
    return Math.round(s / 86400) + 'd ago';
  }
  function table(columns, rows, empty) {
    if (!rows.length) return el('p', { class: 'muted', text: empty || 'none' });
    var head = el('tr');
    columns.forEach(function (c) { head.appendChild(el('th', { text: c.label, class: c.num ? 'num' : '' })); });
    var body = el('tbody');
    rows.forEach(function (r) {
      var tr = el('tr');
      columns.forEach(function (c) {
        var v = c.get(r);
        var td = el('td', { class: c.num ? 'num' : c.wrap ? 'wrap' : '' });
        if (v instanceof Node) td.appendChild(v); else td.textContent = v == null ? '—' : String(v);
        if (c.title) td.title = c.title(r);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    return el('table', {}, el('thead', {}, head), body);
  }
  // Audit details as readable lines: "key: value", issue lists as "kind · file — message".
  function details(d) {
    var box = el('div', { class: 'details' });
    Object.keys(d || {}).forEach(function (k) {
      var v = d[k];
      if (Array.isArray(v) && v.length && typeof v[0] === 'object' && v[0] !== null) {
        box.appendChild(el('div', {}, el('b', { text: k + ' (' + v.length + ')' })));
        var ul = el('ul');
        v.forEach(function (item) {
          var line = 'kind' in item || 'message' in item
            ? [item.kind, item.file || item.path].filter(Boolean).join(' · ') + (item.message ? ' — ' + item.message : '')
            : Object.keys(item).map(function (ik) { return ik + '=' + (typeof item[ik] === 'object' ? JSON.stringify(item[ik]) : item[ik]); }).join(', ');
          ul.appendChild(el('li', { text: line }));
        });
        box.appendChild(ul);
      } else {
        box.appendChild(el('div', {}, el('b', { text: k + ': ' }), document.createTextNode(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))));
      }
    });
    return box;
  }
  function fill(id, node) {
    var body = document.querySelector('#' + id + ' .body');
    body.replaceChildren(node);
  }
  function ranges(nums) {
    var out = [], i = 0;
    while (i < nums.length) {
      var j = i;
      while (j + 1 < nums.length && nums[j + 1] === nums[j] + 1) j++;
      out.push(i === j ? String(nums[i]) : nums[i] + '–' + nums[j]);
      i = j + 1;
    }
    return out.join(', ') || 'none';
  }
  function colorOf(id, ids) {
    var i = ids.indexOf(id);
    return 'hsl(' + ((200 + i * 137) % 360) + ',60%,62%)';
  }
  function tenantLabel(t) { return t.name ? t.name + ' (' + t.tenant + ')' : t.tenant; }
  function pill(status) { return el('span', { class: 'pill ' + status, text: status }); }
  function bar(v, max) { return el('div', { class: 'bar', style: 'width:' + Math.max(2, Math.round((100 * v) / Math.max(1, max))) + '%' }); }

  function render(s) {
    var sum = s.summary;
    var stats = [
      ['gateways', sum.gateways], ['doc services', sum.doc_services], ['history workers', sum.history_workers],
      ['connections', sum.connections], ['docs loaded', sum.docs_loaded],
      ['shards owned', sum.shards_owned + ' / ' + sum.shard_count], ['workspaces', sum.workspaces],
      ['failing workspaces', sum.failing_workspaces]
    ];
    document.getElementById('summary').replaceChildren.apply(
      document.getElementById('summary'),
      stats.map(function (kv) { return el('div', { class: 'stat', 'data-key': kv[0] }, el('div', { class: 'v', text: kv[1] }), el('div', { class: 'k', text: kv[0] })); })
    );
    var w = document.getElementById('warnings');
    w.hidden = !s.warnings.length;
    w.textContent = s.warnings.join(' · ');

    fill('gateways', table([
      { label: 'id', get: function (g) { return g.id + (g.id === s.served_by ? ' (this)' : ''); } },
      { label: 'connections', num: true, get: function (g) { return g.connections; } },
      { label: 'tenants', num: true, get: function (g) { return g.tenants; } },
      { label: 'up since', get: function (g) { return ago(g.started_at); }, title: function (g) { return g.started_at; } },
      { label: 'heartbeat', get: function (g) { return ago(g.updated_at); } }
    ], s.gateways, 'no gateway heartbeat'));

    var owners = s.doc_services.map(function (d) { return d.id; });
    fill('doc-services', table([
      { label: 'id', get: function (d) { return el('span', {}, el('i', { class: 'dot', style: 'display:inline-block;width:8px;height:8px;border-radius:2px;margin-right:6px;background:' + colorOf(d.id, owners) }), document.createTextNode(d.id)); } },
      { label: 'shards', wrap: true, get: function (d) { return d.shards.length + ': ' + ranges(d.shards); }, title: function (d) { return d.shards.join(','); } },
      { label: 'docs', num: true, get: function (d) { return d.docs_loaded; } },
      { label: 'workspaces', num: true, get: function (d) { return d.workspaces; } },
      { label: 'heartbeat', get: function (d) { return ago(d.updated_at); } }
    ], s.doc_services, 'no doc service alive: edits cannot be applied'));

    var map = el('div', { class: 'shardmap' });
    s.shard_owners.forEach(function (o, i) {
      map.appendChild(el('div', o ? { class: 'shard', style: 'background:' + colorOf(o, owners), title: 'shard ' + i + ' → ' + o, text: i }
                                  : { class: 'shard none', title: 'shard ' + i + ' unowned', text: i }));
    });
    var legend = el('div', { class: 'legend' });
    s.doc_services.forEach(function (d) { legend.appendChild(el('span', {}, el('i', { style: 'background:' + colorOf(d.id, owners) }), document.createTextNode(d.id + ' (' + d.shards.length + ')'))); });
    var unowned = s.shard_owners.filter(function (o) { return !o; }).length;
    if (unowned) legend.appendChild(el('span', { class: 'error', text: unowned + ' unowned' }));
    fill('shards', el('div', {}, map, legend));

    var maxConn = Math.max.apply(null, [1].concat(s.connections_by_tenant.map(function (t) { return t.connections; })));
    fill('tenants', table([
      { label: 'tenant', get: tenantLabel },
      { label: 'connections', num: true, get: function (t) { return t.connections; } },
      { label: '', get: function (t) { return bar(t.connections, maxConn); } }
    ], s.connections_by_tenant, 'no connections'));

    fill('busiest-docs', table([
      { label: 'tenant', get: function (d) { return d.tenant; } },
      { label: 'doc', get: function (d) { return d.doc; }, title: function (d) { return d.doc; } },
      { label: 'frames', num: true, get: function (d) { return d.frames; } },
      { label: 'subscribers', num: true, get: function (d) { return d.subscribers; } }
    ], s.busiest_docs, 'no traffic in the last heartbeat'));

    fill('queues', table([
      { label: 'queue', get: function (q) { return q.queue; } },
      { label: 'waiting', num: true, get: function (q) { return q.waiting; } },
      { label: 'active', num: true, get: function (q) { return q.active; } },
      { label: 'delayed', num: true, get: function (q) { return q.delayed; } },
      { label: 'failed', num: true, get: function (q) { return q.failed; } },
      { label: 'source', get: function (q) { return q.source; } }
    ], s.queues, 'no queue data'));

    fill('workers', table([
      { label: 'id', get: function (x) { return x.id; } },
      { label: 'active jobs', num: true, get: function (x) { return x.active_jobs + ' / ' + x.concurrency; } },
      { label: 'heartbeat', get: function (x) { return ago(x.updated_at); } }
    ], s.history_workers, 'no history worker alive: jobs are queued but not processed'));

    var audit = [
      { label: 'when', get: function (a) { return ago(a.created_at); }, title: function (a) { return a.created_at; } },
      { label: 'tenant id', get: function (a) { return a.tenant; } },
      { label: 'workspace', get: function (a) { return a.workspace; } },
      { label: 'action', get: function (a) { return a.event; } },
      { label: 'by', get: function (a) { return a.actor; } },
      { label: 'commit', get: function (a) { return a.commit_id ? a.commit_id.slice(0, 10) : '—'; }, title: function (a) { return a.commit_id || ''; } },
      { label: 'backup', wrap: true, get: function (a) { return a.backup_key || '—'; } },
      { label: 'what changed / details', wrap: true, get: function (a) { return details(a.details); } }
    ];
    fill('alerts', table(audit, s.validation_alerts, 'no alerts'));
    fill('repairs', table(audit, s.recent_repairs, 'no repairs'));
    fill('rebuilds', table(audit, s.recent_rebuilds, 'no rebuilds'));
    fill('validations', table(audit, s.failed_validations, 'no failed validations'));

    var hookColumns = [
      { label: 'when', get: function (d) { return ago(d.created_at); }, title: function (d) { return d.created_at; } },
      { label: 'tenant id', get: function (d) { return d.tenant; } },
      { label: 'workspace', get: function (d) { return d.workspace; } },
      { label: 'hook', get: function (d) { return d.webhook_id; } },
      { label: 'event', get: function (d) { return d.event; } },
      { label: 'host', get: function (d) { return d.url_host; } },
      { label: 'attempt', num: true, get: function (d) { return d.attempt; } },
      { label: 'outcome', get: function (d) { return d.outcome; } },
      { label: 'status / error', wrap: true, get: function (d) { return d.http_status !== null ? 'HTTP ' + d.http_status + (d.error && d.error !== 'HTTP ' + d.http_status ? ' · ' + d.error : '') : d.error || '—'; } },
      { label: 'ms', num: true, get: function (d) { return d.duration_ms; } }
    ];
    fill('webhook-failures', table(hookColumns, s.webhook_failures, 'no failed webhook deliveries'));
    fill('webhook-deliveries', table(hookColumns, s.webhook_deliveries, 'no webhook deliveries'));

    var wsTable = table([
      { label: 'status', get: function (x) { return pill(x.status); } },
      { label: 'tenant id', get: function (x) { return x.tenant; }, title: function (x) { return x.tenant_name || ''; } },
      { label: 'tenant name', get: function (x) { return x.tenant_name || '—'; } },
      { label: 'workspace', get: function (x) { return x.name && x.name !== x.workspace ? x.workspace + ' · ' + x.name : x.workspace; } },
      { label: 'failures', num: true, get: function (x) { return x.consecutive_failures; } },
      { label: 'issues', num: true, get: function (x) { return x.issues; } },
      { label: 'peers', num: true, get: function (x) { return x.peers; } },
      { label: 'last check', get: function (x) { return ago(x.last_checked_at); } },
      { label: 'last ok', get: function (x) { return ago(x.last_ok_at); } },
      { label: 'last good commit', get: function (x) { return x.last_good_commit ? x.last_good_commit.slice(0, 10) : '—'; } }
    ], s.workspaces, 'no workspaces');
    var more = s.workspaces_total > s.workspaces.length ? el('p', { class: 'muted', text: 'showing ' + s.workspaces.length + ' of ' + s.workspaces_total }) : null;
    fill('workspaces', el('div', {}, wsTable, more));
  }

  var status = document.getElementById('status');
  function poll() {
    fetch('/ops/api/state', { credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) { window.location.reload(); throw new Error('signed out'); }
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (s) {
        render(s);
        status.dataset.state = 'ok';
        status.textContent = 'live · ' + new Date(s.generated_at).toLocaleTimeString() + ' · via ' + s.served_by;
      })
      .catch(function (err) {
        status.dataset.state = 'error';
        status.textContent = 'update failed: ' + err.message;
      })
      .finally(function () { setTimeout(poll, POLL_MS); });
  }
  poll();
})();
`;
