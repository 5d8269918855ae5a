package ui

import (
	"crypto/rand"
	"encoding/base64"
	"html"
	"strings"
)

// newNonce returns a fresh CSP nonce: 16 random bytes, base64.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// pageTemplate is the page with the host filled in, split at the nonce
// placeholders so each response only joins the parts.
type pageTemplate struct{ parts []string }

const (
	nonceMark = "{{NONCE}}"
	hostMark  = "{{HOST}}"
)

func newPageTemplate(host string) pageTemplate {
	if host == "" {
		host = "localhost"
	}
	p := strings.ReplaceAll(pageHTML, hostMark, html.EscapeString(host))
	return pageTemplate{parts: strings.Split(p, nonceMark)}
}

func (t pageTemplate) render(nonce string) []byte {
	return []byte(strings.Join(t.parts, nonce))
}

// pageHTML is the whole page: no external resource, so the CSP can be
// default-src 'none'. Everything the API returns is untrusted (argv,
// paths and reasons come from the monitored host) and is put into the
// document with textContent only, never as markup.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>lineaged — {{HOST}} live view</title>
<link rel="icon" href="data:,">
<style nonce="{{NONCE}}">
:root { --fg: #1d2125; --muted: #6a737d; --line: #e1e4e8; --bg: #fff; --head: #f6f8fa;
  --red: #c62828; --orange: #e06c00; --amber: #b58900; --green: #2e7d32; --blue: #1565c0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 12px 16px 24px; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; margin-bottom: 10px; }
h1 { font-size: 16px; margin: 0; font-weight: 600; }
h2 { font-size: 13px; margin: 0 0 6px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
#status { color: var(--muted); }
#status.err { color: var(--red); font-weight: 600; }
#summary { color: var(--muted); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
section { margin-bottom: 14px; }
.grid { display: grid; grid-template-columns: fit-content(42%) minmax(0, 1fr); gap: 18px; align-items: start; }
.grid > section { min-width: 0; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--head); font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { max-height: 38vh; overflow: auto; border: 1px solid var(--line); border-radius: 4px; }
#treebox { max-height: 72vh; }
.st-running { color: var(--green); font-weight: 600; }
.st-degraded { color: var(--amber); font-weight: 600; }
.st-failed { color: var(--red); font-weight: 600; }
.st-off { color: var(--muted); }
.sev { display: inline-block; min-width: 5.5em; padding: 0 6px; border-radius: 3px; color: #fff; font-size: 11px; font-weight: 600; text-align: center; }
.sev1 { background: var(--blue); } .sev2 { background: var(--amber); } .sev3 { background: var(--orange); } .sev4 { background: var(--red); }
#alerts tbody tr { cursor: pointer; }
#alerts tbody tr:hover { background: var(--head); }
td.time { white-space: nowrap; }
td.reason { max-width: 48em; }
.empty { color: var(--muted); font-style: italic; }
.toolbar { display: flex; gap: 10px; align-items: center; margin-bottom: 6px; }
.toolbar h2 { margin: 0; }
#filter { font: inherit; padding: 2px 6px; width: 22em; max-width: 60vw; border: 1px solid #c8ccd0; border-radius: 3px; }
#tree { padding: 4px 8px; }
#tree ul { list-style: none; margin: 0; padding-left: 18px; border-left: 1px dotted #c8ccd0; }
#tree > ul { padding-left: 0; border-left: 0; }
li.proc > .row { white-space: nowrap; padding: 1px 0; }
li.proc > .row > * { margin-right: 6px; }
.tw { display: inline-block; width: 14px; margin-right: 2px !important; border: 0; padding: 0; background: none; color: var(--muted);
  font: inherit; cursor: pointer; text-align: center; }
span.tw { cursor: default; }
li.collapsed > ul { display: none; }
.args { color: #444; }
.meta { color: var(--muted); font-variant-numeric: tabular-nums; }
li.exited > .row { color: #9aa0a6; }
li.exited > .row .args { color: #9aa0a6; }
.exitmark { font-style: italic; }
li.unknown > .row b { font-weight: normal; font-style: italic; color: var(--muted); }
li.alerted > .row > b::before { content: "\25CF\00A0"; color: var(--red); }
.nalerts { color: var(--red); font-weight: 600; }
li.flash > .row { background: #fff3c4; }
@media print {
  body { padding: 0; font-size: 10pt; }
  .scroll { max-height: none; overflow: visible; border: 0; }
  .toolbar input, .tw { display: none; }
  li.collapsed > ul { display: block; }
  li.proc > .row { white-space: normal; }
  th { position: static; }
  .grid { grid-template-columns: 1fr; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
</style>
</head>
<body>
<header>
<h1>lineaged — {{HOST}} live view</h1>
<span id="status">loading…</span>
<span id="summary"></span>
</header>
<div class="grid">
<section>
<h2>Sources</h2>
<table id="health">
<thead><tr><th>source</th><th>state</th><th>detail</th><th class="num">events</th><th class="num">lost</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section>
<h2>Alerts</h2>
<div class="scroll">
<table id="alerts">
<thead><tr><th>time</th><th>severity</th><th>rule</th><th>executable</th><th class="num">pid</th><th>reason</th></tr></thead>
<tbody></tbody>
</table>
</div>
</section>
</div>
<section>
<div class="toolbar"><h2>Process lineage</h2>
<input id="filter" type="search" placeholder="filter by executable or arguments" autocomplete="off" spellcheck="false">
</div>
<div class="scroll" id="treebox"><div id="tree"></div></div>
</section>
<script nonce="{{NONCE}}">
(function () {
  'use strict';
  // The token comes in the address once (?token=...): keep it in memory
  // and take it out of the address bar and history; the HttpOnly cookie
  // the page response set covers a reload.
  var token = new URLSearchParams(location.search).get('token') || '';
  if (token && history.replaceState) {
    history.replaceState(null, '', location.pathname);
  }
  var headers = token ? { 'Authorization': 'Bearer ' + token } : {};
  var SEV = ['', 'low', 'medium', 'high', 'critical'];
  var collapsed = new Set();   // entity ids the user folded
  var lastTreeKey = null;
  var procsByEntity = new Map();

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function iso(ms) { return ms ? new Date(ms).toISOString() : ''; }
  function base(path) {
    if (!path) { return ''; }
    var i = path.lastIndexOf('/');
    return i >= 0 && i < path.length - 1 ? path.slice(i + 1) : path;
  }
  function shorten(s, n) { return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }
  function argText(p) { return (p.args || []).slice(1).join(' '); }

  function get(path) {
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) {
        return r.text().then(function (t) {
          var msg = r.status === 401 ? 'token missing or wrong' : (t.trim() || r.statusText);
          throw new Error(r.status + ': ' + msg);
        });
      }
      return r.json();
    });
  }

  function setStatus(text, isErr) {
    var s = $('status');
    s.textContent = text;
    s.className = isErr ? 'err' : '';
  }

  function renderHealth(h) {
    var tb = $('health').tBodies[0];
    var rows = [];
    (h.sources || []).forEach(function (src) {
      var tr = el('tr');
      tr.appendChild(el('td', '', src.name));
      tr.appendChild(el('td', 'st-' + String(src.state).replace(/[^a-z]/g, ''), src.state));
      tr.appendChild(el('td', '', src.detail || ''));
      tr.appendChild(el('td', 'num', (src.events || 0).toLocaleString()));
      tr.appendChild(el('td', 'num', (src.lost || 0).toLocaleString()));
      rows.push(tr);
    });
    if (!rows.length) {
      var tr = el('tr'), td = el('td', 'empty', 'no source reported');
      td.colSpan = 5; tr.appendChild(td); rows.push(tr);
    }
    tb.replaceChildren.apply(tb, rows);
    $('summary').textContent = (h.events || 0).toLocaleString() + ' events, up ' + fmtDur(h.uptime_s || 0);
  }
  function fmtDur(s) {
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return d ? d + 'd ' + h + 'h' : h ? h + 'h ' + m + 'm' : m + 'm ' + (s % 60) + 's';
  }

  function renderAlerts(alerts) {
    var tb = $('alerts').tBodies[0];
    var rows = alerts.map(function (a) {
      var tr = el('tr', 'alert');
      tr.dataset.entity = a.entity_id || '';
      tr.appendChild(el('td', 'time mono', iso(a.time)));
      var sev = Math.min(4, Math.max(1, a.severity | 0));
      var td = el('td');
      td.appendChild(el('span', 'sev sev' + sev, SEV[sev]));
      tr.appendChild(td);
      var rule = el('td', '', a.rule_name || a.rule_id);
      rule.title = a.rule_id + ((a.techniques && a.techniques.length) ? ' (' + a.techniques.join(', ') + ')' : '');
      tr.appendChild(rule);
      var exe = el('td', 'mono', base(a.executable));
      exe.title = a.executable + ' ' + (a.args || []).join(' ');
      tr.appendChild(exe);
      tr.appendChild(el('td', 'num', a.pid || ''));
      tr.appendChild(el('td', 'reason', a.reason));
      return tr;
    });
    if (!rows.length) {
      var tr = el('tr'), td = el('td', 'empty', 'no alerts');
      td.colSpan = 6; tr.appendChild(td); rows.push(tr);
    }
    tb.replaceChildren.apply(tb, rows);
  }

  function renderTree(procs) {
    var f = $('filter').value.trim().toLowerCase();
    var key = f + '\u0000' + JSON.stringify(procs);
    if (key === lastTreeKey) { return; }   // nothing changed: leave the DOM (and any selection) alone
    lastTreeKey = key;

    var nodes = new Map();
    procs.forEach(function (p) { nodes.set(p.entity_id, { p: p, kids: [] }); });
    procsByEntity = nodes;
    var roots = [];
    nodes.forEach(function (n) {
      var par = n.p.parent_entity_id && n.p.parent_entity_id !== n.p.entity_id ? nodes.get(n.p.parent_entity_id) : null;
      if (par) { par.kids.push(n); } else { roots.push(n); }
    });
    var byStart = function (a, b) { return (a.p.start - b.p.start) || (a.p.pid - b.p.pid); };
    var seen = new Set();

    function matches(p) {
      return (p.executable + ' ' + (p.args || []).join(' ')).toLowerCase().indexOf(f) >= 0;
    }
    // build returns the li of n and its subtree, or null when the filter
    // hides all of it. A node that matches shows its whole subtree.
    function build(n, shown) {
      seen.add(n.p.entity_id);
      var self = shown || !f || matches(n.p);
      var kids = [];
      n.kids.sort(byStart).forEach(function (k) {
        if (seen.has(k.p.entity_id)) { return; }
        var li = build(k, self);
        if (li) { kids.push(li); }
      });
      if (!self && !kids.length) { return null; }
      return procItem(n.p, kids);
    }

    var top = el('ul');
    roots.sort(byStart).forEach(function (n) {
      var li = build(n, false);
      if (li) { top.appendChild(li); }
    });
    // A parent loop (pid reuse gone wrong) has no root: show it anyway.
    nodes.forEach(function (n) {
      if (!seen.has(n.p.entity_id)) {
        var li = build(n, false);
        if (li) { top.appendChild(li); }
      }
    });
    var box = $('treebox'), st = box.scrollTop, sl = box.scrollLeft;
    var tree = $('tree');
    if (!top.children.length) {
      tree.replaceChildren(el('div', 'empty', f ? 'no process matches the filter' : 'no processes yet'));
    } else {
      tree.replaceChildren(top);
    }
    box.scrollTop = st; box.scrollLeft = sl;
  }

  function procItem(p, kids) {
    var li = el('li', 'proc');
    li.dataset.pid = p.pid;
    li.dataset.entity = p.entity_id;
    var exited = !!p.exited;
    if (exited) { li.classList.add('exited'); }
    if (p.alerts > 0) { li.classList.add('alerted'); }
    if (!p.executable) { li.classList.add('unknown'); }
    var row = el('div', 'row');
    if (kids.length) {
      var folded = collapsed.has(p.entity_id);
      if (folded) { li.classList.add('collapsed'); }
      var tw = el('button', 'tw', folded ? '\u25B8' : '\u25BE');
      tw.type = 'button';
      tw.title = kids.length + (kids.length === 1 ? ' child' : ' children');
      row.appendChild(tw);
    } else {
      row.appendChild(el('span', 'tw', ''));
    }
    var name = el('b', '', p.executable ? base(p.executable) : '(unknown)');
    var tip = [p.executable || 'executable unknown'];
    if (p.start) { tip.push('started ' + iso(p.start)); }
    if (exited) { tip.push('exited ' + iso(p.exit)); }
    if (p.ppid && !p.parent_entity_id) { tip.push('parent pid ' + p.ppid + ', not seen'); }
    tip.push('entity ' + p.entity_id);
    name.title = tip.join('\n');
    row.appendChild(name);
    var args = argText(p);
    if (args) {
      var a = el('code', 'args', shorten(args, 120));
      a.title = (p.args || []).join(' ');
      row.appendChild(a);
    }
    row.appendChild(el('span', 'meta', 'pid ' + p.pid));
    if (p.user_id) { row.appendChild(el('span', 'meta', 'uid ' + p.user_id)); }
    if (exited) {
      var code = p.exit_code !== undefined && p.exit_code !== null ? ' ' + p.exit_code : '';
      row.appendChild(el('span', 'exitmark', 'exited' + code));
    }
    if (p.alerts > 0) {
      row.appendChild(el('span', 'nalerts', p.alerts + (p.alerts === 1 ? ' alert' : ' alerts')));
    }
    li.appendChild(row);
    if (kids.length) {
      var ul = el('ul');
      kids.forEach(function (k) { ul.appendChild(k); });
      li.appendChild(ul);
    }
    return li;
  }

  // Folding is done on the DOM directly and remembered by entity id, so a
  // rebuild keeps it.
  $('tree').addEventListener('click', function (ev) {
    var tw = ev.target.closest('button.tw');
    if (!tw) { return; }
    var li = tw.closest('li.proc');
    var id = li.dataset.entity;
    if (collapsed.has(id)) { collapsed.delete(id); } else { collapsed.add(id); }
    var folded = li.classList.toggle('collapsed');
    tw.textContent = folded ? '\u25B8' : '\u25BE';
  });

  // Clicking an alert unfolds the tree down to its process and shows it.
  $('alerts').addEventListener('click', function (ev) {
    var tr = ev.target.closest('tr.alert');
    if (!tr || !tr.dataset.entity) { return; }
    var li = null;
    $('tree').querySelectorAll('li.proc').forEach(function (x) {
      if (x.dataset.entity === tr.dataset.entity) { li = x; }
    });
    if (!li) { return; }
    for (var up = li.parentElement; up && up.id !== 'tree'; up = up.parentElement) {
      if (up.classList.contains('collapsed')) {
        up.classList.remove('collapsed');
        collapsed.delete(up.dataset.entity);
        var b = up.querySelector(':scope > .row > button.tw');
        if (b) { b.textContent = '\u25BE'; }
      }
    }
    li.scrollIntoView({ block: 'center' });
    li.classList.add('flash');
    setTimeout(function () { li.classList.remove('flash'); }, 1500);
  });

  var last = { procs: [] };
  $('filter').addEventListener('input', function () { renderTree(last.procs); });

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function poll() {
    Promise.all([get('/api/health'), get('/api/alerts'), get('/api/processes')]).then(function (res) {
      var alerts = res[1].alerts || [], procs = res[2].processes || [];
      last.procs = procs;
      renderHealth(res[0]);
      renderAlerts(alerts);
      renderTree(procs);
      var d = new Date();
      setStatus('updated ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) +
        ', ' + procs.length + ' processes, ' + alerts.length + ' alerts', false);
    }).catch(function (err) {
      setStatus(err && err.message ? err.message : String(err), true);
    }).then(function () {
      setTimeout(poll, 1000);   // after the answer, so slow answers never pile up
    });
  }
  poll();
})();
</script>
</body>
</html>
`
