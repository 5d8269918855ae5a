package report

// htmlText is the HTML report: one file, inline CSS, no script, and a
// print stylesheet (each alert and section kept on one page when it fits).
const htmlText = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root{--fg:#1d2430;--mut:#5b6472;--line:#d9dee7;--ok:#2e7d32;--warn:#b26a00;--bad:#c62828}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);margin:24px auto;max-width:1180px;padding:0 18px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:34px}h3{font-size:15px;margin:18px 0 6px}
.mut{color:var(--mut)}code,pre,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{background:#f6f8fa;border:1px solid var(--line);padding:8px;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f5f9;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:130px}
.card b{display:block;font-size:20px}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;color:#fff}
.sev-1{background:#5b7db1}.sev-2{background:#b26a00}.sev-3{background:#d84315}.sev-4{background:#8e0000}
.ok{background:var(--ok)}.warn{background:var(--warn)}.bad{background:var(--bad)}
article.alert{border:1px solid var(--line);border-left:5px solid var(--bad);border-radius:6px;padding:8px 14px;margin:14px 0}
article.alert.s1{border-left-color:#5b7db1}article.alert.s2{border-left-color:#b26a00}
.reason{font-size:15px;margin:6px 0}
figure{margin:8px 0;overflow-x:auto}figure svg.tree{max-width:100%;height:auto}figcaption{font-size:12px;color:var(--mut)}
.none{color:var(--bad);font-weight:600}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0}dl.meta dt{color:var(--mut)}dl.meta dd{margin:0}
nav ol{columns:2}
svg.timeline{max-width:100%;height:auto}
@media print{body{margin:0;max-width:none;font-size:11px}nav{display:none}article.alert,section.item,tr{break-inside:avoid}h2{break-after:avoid}figure{overflow:visible}a{color:inherit;text-decoration:none}}
</style></head><body>
<header>
<h1>{{.Title}}</h1>
<div class="mut">Period {{period .}} · hosts: {{if .Hosts}}{{join .Hosts ", "}}{{else}}-{{end}} · generated {{time .Generated}} by lineaged report</div>
<div class="mut mono">inputs: {{join .Inputs ", "}}</div>
</header>
<div class="cards">
<div class="card"><b>{{.Events}}</b>events</div>
<div class="card"><b>{{.AlertsTotal}}</b>alerts ({{index .Severities 4}} critical, {{index .Severities 3}} high, {{index .Severities 2}} medium, {{index .Severities 1}} low)</div>
<div class="card"><b>{{len .Novel}}</b>new against the baseline</div>
<div class="card"><b>{{losstotal .}}</b>lost or bad (all counters)</div>
<div class="card"><b>{{len .Rules}}</b>audit rules in force</div>
</div>
<nav><ol>
<li><a href="#alerts">Alerts and their process trees</a></li>
<li><a href="#pci">PCI DSS v4.0 requirement 10.2</a></li>
<li><a href="#cis">CIS RHEL 7 v3.1.1 section 4.1: audit rule coverage</a></li>
<li><a href="#timeline">Timeline</a></li>
<li><a href="#top">Top executables and users</a></li>
<li><a href="#novel">New against the baseline</a></li>
<li><a href="#loss">Loss and data quality</a></li>
<li><a href="#rules">Settings and rules in force</a></li>
</ol></nav>

<section id="alerts"><h2>Alerts and their process trees</h2>
{{if not .Alerts}}<p class="none">No alerts in the period.</p>{{end}}
{{if gt .AlertsTotal (len .Alerts)}}<p class="mut">{{sub .AlertsTotal (len .Alerts)}} more alerts are counted above but not listed (the report lists at most {{len .Alerts}}).</p>{{end}}
{{if .TreesOmitted}}<p class="mut">{{.TreesOmitted}} alerts are listed without a tree (the report draws the first trees only).</p>{{end}}
{{range .Alerts}}
<article class="alert s{{.Severity}}" id="alert-{{.ID}}" data-rule="{{.RuleID}}">
<h3><span class="badge sev-{{.Severity}}">{{sev .Severity}}</span> {{.RuleName}} <span class="mut mono">{{.RuleID}}</span></h3>
<p class="reason">{{.Reason}}</p>
<dl class="meta">
<dt>time</dt><dd>{{time .Time}}{{if .Host}} on {{.Host}}{{end}}</dd>
<dt>process</dt><dd class="mono">{{.Executable}} (pid {{.PID}}){{if .Args}}: {{args .Args}}{{end}}</dd>
{{if .User}}<dt>user</dt><dd>{{.User}}</dd>{{end}}
{{if .Object}}<dt>object</dt><dd class="mono">{{.Object}}</dd>{{end}}
{{if .Techniques}}<dt>ATT&amp;CK</dt><dd>{{join .Techniques ", "}}</dd>{{end}}
<dt>risk score</dt><dd>{{.RiskScore}}{{if gt .Count 1}} · seen {{.Count}} times{{end}}</dd>
{{if .Key}}<dt>key</dt><dd class="mono">{{.Key}}</dd>{{end}}
{{if .Novel}}<dt>new</dt><dd class="mono">{{join .Novel ", "}}</dd>{{end}}
<dt>event id</dt><dd class="mono">{{.ID}}</dd>
</dl>
{{if .SVG}}<figure>{{svg .SVG}}<figcaption>Process tree: ancestry from the top down to the alerted process (red), its children, the siblings that touched files or sockets or alerted (orange), and the files and sockets it touched. Dashed: exited.</figcaption></figure>{{end}}
{{if .Evidence}}<details open><summary>Evidence</summary><ul>{{range .Evidence}}<li><span class="mono">{{.ID}}</span> {{.Summary}}</li>{{end}}</ul></details>{{end}}
</article>
{{end}}
</section>

<section id="pci"><h2>PCI DSS v4.0 requirement 10.2: audit log evidence</h2>
<p class="mut">Each item lists what lineaged's events show for it in the period: a count, the users behind it, and the first events (by event id, for lookup in the events file).</p>
{{range .PCI}}
<section class="item" id="pci-{{.ID}}"><h3>{{.ID}} {{.Title}}</h3>
<p class="mut">Evidence: {{.Shows}}</p>
{{if .Fields}}
<table><tr><th>element</th><th>field</th><th>events with it</th><th></th></tr>
{{range .Fields}}<tr><td>{{.Element}}</td><td class="mono">{{.Field}}</td><td class="num">{{.Events}} of {{.Of}}</td><td class="num">{{pct .Events .Of}}</td></tr>{{end}}
</table>
{{else if eq .Count 0}}<p class="none">No evidence found in the period.</p>
{{else}}
<p><b>{{.Count}}</b> events.{{if .Summary}} By user: {{range $i, $c := .Summary}}{{if $i}}, {{end}}{{$c.Name}} ({{$c.Count}}){{end}}.{{end}}</p>
<table><tr><th>time</th><th>user</th><th>program</th><th>action</th><th>object</th><th>outcome</th><th>event id</th></tr>
{{range .Rows}}<tr><td>{{time .Time}}</td><td>{{.User}}</td><td class="mono">{{.Exe}}</td><td>{{.Action}}</td><td class="mono">{{.Object}}</td><td>{{.Outcome}}</td><td class="mono">{{.ID}}</td></tr>{{end}}
</table>{{if gt .Count (len .Rows)}}<p class="mut">the first {{len .Rows}} of {{.Count}} shown.</p>{{end}}
{{end}}
{{if .Note}}<p>{{.Note}}</p>{{end}}
</section>
{{end}}
</section>

<section id="cis"><h2>CIS Red Hat Enterprise Linux 7 Benchmark v3.1.1, section 4.1</h2>
<p class="mut">The audit rules in force (lineaged's last settings event in the period) against the rules each item expects. "compensated": lineaged meets the item's intent another way, said in the detail. Events: events of the period under the keys of the rules that meet the item.</p>
<table><tr><th>item</th><th>control</th><th>status</th><th>detail</th><th>events</th></tr>
{{range .CIS}}<tr id="cis-{{.ID}}"><td>{{.ID}}</td><td>{{.Title}}</td><td><span class="badge {{statusClass .Status}}">{{.Status}}</span></td>
<td>{{.Detail}}{{if .Missing}}<div class="mut">missing:</div><ul class="mono">{{range .Missing}}<li>{{.}}</li>{{end}}</ul>{{end}}{{if .Met}}<div class="mut">in force:</div><ul class="mono">{{range .Met}}<li>{{.}}</li>{{end}}</ul>{{end}}</td>
<td class="num">{{.Events}}</td></tr>{{end}}
</table>
</section>

<section id="timeline"><h2>Timeline</h2>
{{if .Timeline}}<figure>{{timeline .Timeline}}</figure>
<table><tr><th>hour (UTC)</th><th>events</th><th>alerts</th></tr>{{range .Timeline}}{{if or .Events .Alerts}}<tr><td>{{time .Start}}</td><td class="num">{{.Events}}</td><td class="num">{{.Alerts}}</td></tr>{{end}}{{end}}</table>
{{else}}<p class="none">No events in the period.</p>{{end}}
<h3>Events by category</h3>
<table><tr><th>category</th><th>events</th></tr>{{range .Categories}}<tr><td>{{.Name}}</td><td class="num">{{.Count}}</td></tr>{{end}}</table>
</section>

<section id="top"><h2>Top executables and users</h2>
<h3>Programs run most</h3>
{{if .TopExecs}}<table><tr><th>executable</th><th>runs</th></tr>{{range .TopExecs}}<tr><td class="mono">{{.Name}}</td><td class="num">{{.Count}}</td></tr>{{end}}</table>{{else}}<p class="none">No executions in the period.</p>{{end}}
<h3>Users with most events</h3>
{{if .TopUsers}}<table><tr><th>user</th><th>events</th></tr>{{range .TopUsers}}<tr><td>{{.Name}}</td><td class="num">{{.Count}}</td></tr>{{end}}</table>{{else}}<p class="none">No user activity in the period.</p>{{end}}
</section>

<section id="novel"><h2>New against the baseline</h2>
{{if .Novel}}<table><tr><th>first seen</th><th>baseline key</th><th>alerts</th><th>rule</th></tr>
{{range .Novel}}<tr><td>{{time .First}}</td><td class="mono">{{.Key}}</td><td class="num">{{.Count}}</td><td class="mono">{{.Rule}}</td></tr>{{end}}</table>
<p class="mut">Approve a key that is expected with <code>lineaged baseline approve FILE KEY</code>.</p>
{{else}}<p class="none">Nothing new against the baseline was alerted in the period.</p>{{end}}
</section>

<section id="loss"><h2>Loss and data quality</h2>
<table><tr><th>counter</th><th>value</th><th>means</th><th>read from</th></tr>
{{range .Loss}}<tr><td class="mono">{{.Name}}</td><td class="num">{{.Value}}</td><td>{{.Means}}</td><td class="mut">{{.Source}}</td></tr>{{end}}</table>
{{if .Bad}}<h3>Input lines not read</h3><ul class="mono">{{range .Bad}}<li>{{.File}}:{{.Line}}: {{.Reason}}</li>{{end}}</ul>{{if gt .BadLines (len .Bad)}}<p class="mut">and {{sub .BadLines (len .Bad)}} more.</p>{{end}}{{end}}
<p class="mut">{{.Lines}} input lines read; {{.OutOfPeriod}} outside the period.</p>
</section>

<section id="rules"><h2>Settings and rules in force</h2>
{{if .Config}}<table><tr><th>time</th><th>host</th><th>event</th><th>configuration</th><th>audit rules</th><th>event id</th></tr>
{{range .Config}}<tr><td>{{time .Time}}</td><td>{{.Host}}</td><td>{{.Action}}</td><td class="mono">{{.Source}}</td><td class="num">{{.Rules}}</td><td class="mono">{{.ID}}</td></tr>{{end}}</table>{{end}}
{{if .Rules}}<h3>Audit rules in force</h3><pre>{{range .Rules}}{{.}}
{{end}}</pre>{{else}}<p class="none">No audit rules in force were found in the inputs.</p>{{end}}
</section>
<footer class="mut"><p>lineaged report · item lists: PCI DSS v4.0 10.2 and CIS RHEL 7 v3.1.1 4.1 as named in lineaged's compliance notes.</p></footer>
</body></html>
`
