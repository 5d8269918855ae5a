package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/output"
)

// t0 is the fixture's first second.
var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func ms(sec int) int64 { return t0.Add(time.Duration(sec) * time.Second).UnixMilli() }

func ref(ent string, pid int, exe string, args ...string) event.ProcRef {
	return event.ProcRef{EntityID: ent, PID: pid, Executable: exe, Args: args, UserID: "0"}
}

// fixture writes events through lineaged's own encoder, so the report is
// tested against the field names output really writes.
func fixture(t testing.TB) (string, []*event.Event) {
	t.Helper()
	sshd := ref("e-sshd", 700, "/usr/sbin/sshd", "sshd: root@pts/0")
	bash := ref("e-bash", 800, "/usr/bin/bash", "-bash")
	root := event.User{ID: "0", AuditID: "1000"}
	exit0 := 0
	settingsEv := &event.Event{ID: "f-1", TimeMsec: ms(0), Category: "configuration", Type: "info", Action: "settings", Outcome: "success", Module: "lineaged",
		Message: "lineaged settings in force", Config: &event.ConfigInfo{Source: "/etc/lineaged/lineaged.yml",
			Settings: []event.KV{{Key: "audit.mode", Value: "own"}, {Key: "audit.backlog_limit", Value: "8192"}, {Key: "proc.enabled", Value: "true"},
				{Key: "output.file", Value: "/var/log/lineaged/events.jsonl"}, {Key: "output.max_size", Value: "104857600"}, {Key: "output.keep", Value: "5"},
				{Key: "kernel.audit_enabled", Value: "1"}, {Key: "kernel.cmdline_audit", Value: "absent"}},
			Rules: []string{
				"-a never,exit -S all -F pid=42 -F key=lineaged-self",
				"-a always,exit -F arch=b64 -S execve,execveat -F key=exec",
				"-w /etc/passwd -p wa -k identity", "-w /etc/group -p wa -k identity",
				"-w /etc/sudoers -p wa -k sudoers", "-w /etc/sudoers.d -p wa -k sudoers",
				"-a always,exit -F arch=b64 -S init_module,delete_module,finit_module -F key=module",
			}}}
	evs := []*event.Event{
		settingsEv,
		// The shell that will be alerted, and its parent's other child.
		{ID: "f-2", TimeMsec: ms(10), Category: "process", Type: "start", Action: "executed", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-sh", PID: 900, Executable: "/usr/bin/bash", Args: []string{"bash", "-i"}},
			Parent:  &bash, Ancestry: []event.ProcRef{bash, sshd, ref("e-init", 1, "/usr/lib/systemd/systemd")}, User: root},
		{ID: "f-3", TimeMsec: ms(11), Category: "network", Type: "connection", Action: "connected-to", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-sh", PID: 900, Executable: "/usr/bin/bash"}, Parent: &bash, User: root,
			Dest: &event.Endpoint{IP: "203.0.113.9", Port: 4444}, Network: &event.Network{Family: "ipv4", Transport: "tcp", Direction: "egress"}},
		{ID: "f-4", TimeMsec: ms(12), Kind: event.KindAlert, Category: "network", Type: "connection", Action: "connected-to", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-sh", PID: 900, Executable: "/usr/bin/bash", Args: []string{"bash", "-i"}},
			Parent:  &bash, Ancestry: []event.ProcRef{bash, sshd, ref("e-init", 1, "/usr/lib/systemd/systemd")}, User: root,
			Dest: &event.Endpoint{IP: "203.0.113.9", Port: 4444},
			Alert: &event.Alert{RuleID: "lineaged.reverse-shell", RuleName: "Reverse shell", Ruleset: "lineaged", Techniques: []string{"T1059.004"},
				Severity: 4, RiskScore: 99, Reason: "the shell /usr/bin/bash connected out to 203.0.113.9:4444", Key: "connect|/usr/bin/bash|public:4444",
				Novel: []string{"connect|/usr/bin/bash|public:4444"}, Count: 1, Evidence: []event.Evidence{{ID: "f-3", Summary: "connected-to 203.0.113.9:4444"}}}},
		// A child of the alerted shell (comes after the alert), which
		// writes a file and exits.
		{ID: "f-5", TimeMsec: ms(13), Category: "process", Type: "start", Action: "executed", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-cat", PID: 901, Executable: "/usr/bin/cat", Args: []string{"cat", "/etc/shadow"}},
			Parent:  &event.ProcRef{EntityID: "e-sh", PID: 900, Executable: "/usr/bin/bash"}, User: root},
		{ID: "f-6", TimeMsec: ms(13), Category: "file", Type: "access", Action: "opened-file", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-cat", PID: 901, Executable: "/usr/bin/cat"},
			Parent:  &event.ProcRef{EntityID: "e-sh", PID: 900}, User: root, File: &event.File{Path: "/etc/shadow", Operation: "read"}},
		{ID: "f-7", TimeMsec: ms(14), Category: "process", Type: "end", Action: "exited", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-cat", PID: 901, Executable: "/usr/bin/cat", ExitCode: &exit0},
			Parent:  &event.ProcRef{EntityID: "e-sh", PID: 900}, User: root},
		// A sibling that touched nothing (not drawn) and one that wrote
		// a file (drawn).
		{ID: "f-8", TimeMsec: ms(15), Category: "process", Type: "start", Action: "executed", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-ls", PID: 902, Executable: "/usr/bin/ls"}, Parent: &bash, User: root},
		{ID: "f-9", TimeMsec: ms(16), Category: "process", Type: "start", Action: "executed", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-vi", PID: 903, Executable: "/usr/bin/vi", Args: []string{"vi", "/etc/passwd"}}, Parent: &bash, User: root},
		{ID: "f-10", TimeMsec: ms(17), Category: "file", Type: "change", Action: "wrote-to-file", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-vi", PID: 903, Executable: "/usr/bin/vi"}, Parent: &bash, User: root,
			File: &event.File{Path: "/etc/passwd", Operation: "write"}, Audit: &event.Audit{Keys: []string{"identity"}}},
		// A failed login, an account created, a module loaded, an
		// audit log read, and sudo.
		{ID: "f-11", TimeMsec: ms(3600 + 5), Category: "authentication", Type: "start", Action: "logged-in", Outcome: "failure", Host: "web1",
			Process: event.Process{PID: 700, Executable: "/usr/sbin/sshd"}, User: event.User{ID: "0", Name: "admin"}},
		{ID: "f-12", TimeMsec: ms(3600 + 6), Category: "iam", Type: "creation", Action: "added-user-account", Outcome: "success", Host: "web1",
			Process: event.Process{PID: 950, Executable: "/usr/sbin/useradd"}, User: root},
		{ID: "f-13", TimeMsec: ms(3600 + 7), Category: "driver", Type: "start", Action: "loaded-kernel-module", Outcome: "success", Host: "web1",
			Process: event.Process{PID: 960, Executable: "/usr/bin/kmod"}, User: root, File: &event.File{Path: "rootkit", Operation: "module"},
			Audit: &event.Audit{Keys: []string{"module"}}},
		{ID: "f-14", TimeMsec: ms(3600 + 8), Category: "file", Type: "access", Action: "opened-file", Outcome: "success", Host: "web1",
			Process: event.Process{PID: 970, Executable: "/usr/bin/less"}, User: event.User{ID: "1000"}, File: &event.File{Path: "/var/log/audit/audit.log", Operation: "read"}},
		{ID: "f-15", TimeMsec: ms(3600 + 9), Category: "process", Type: "start", Action: "executed", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-sudo", PID: 980, Executable: "/usr/bin/sudo", Args: []string{"sudo", "id"}}, User: event.User{ID: "1000", EffectiveID: "0", AuditID: "1000"}},
		// Loss: a heartbeat with running totals, and an overflow.
		{ID: "f-16", TimeMsec: ms(3600 + 10), Category: "host", Type: "info", Action: "heartbeat", Outcome: "success", Module: "lineaged", Host: "web1",
			Labels: []event.KV{{Key: "proc_overruns", Value: "3"}, {Key: "fanotify_overflows", Value: "1"}, {Key: "audit_sequence_gaps", Value: "0"}}},
		{ID: "f-17", TimeMsec: ms(3600 + 11), Category: "host", Type: "info", Action: "queue-overflow", Outcome: "failure", Module: "fanotify", Host: "web1",
			Labels: []event.KV{{Key: "fanotify.overflows", Value: "1"}}},
		// After --until in the period test.
		{ID: "f-18", TimeMsec: ms(3 * 3600), Category: "process", Type: "start", Action: "executed", Outcome: "success", Host: "web1",
			Process: event.Process{EntityID: "e-late", PID: 990, Executable: "/usr/bin/late"}, User: root},
		// lineaged's own start and a reload (written last, stamped early:
		// the report does not rely on the order of lines).
		{ID: "f-19", TimeMsec: ms(0), Category: "host", Type: "info", Action: "started", Outcome: "success", Module: "lineaged", Host: "web1",
			Message: "lineaged started: audit mode own"},
		{ID: "f-20", TimeMsec: ms(20), Category: "configuration", Type: "info", Action: "reloaded", Outcome: "success", Module: "lineaged", Host: "web1",
			Message: "lineaged settings in force", Config: settingsEv.Config},
	}
	var buf bytes.Buffer
	w := output.NewWriter(&buf)
	for i, e := range evs {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
		if i == 5 {
			w.Flush()
			buf.WriteString("{\"this is\": not json\n")
		}
	}
	w.Flush()
	p := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, evs
}

func section(r *Report, id string) *Section {
	for _, s := range r.PCI {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func cisItem(r *Report, id string) *CISItem {
	for _, c := range r.CIS {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func TestBuild(t *testing.T) {
	p, _ := fixture(t)
	r, err := Build([]string{p}, Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if r.AlertsTotal != 1 || len(r.Alerts) != 1 {
		t.Fatalf("alerts: %d total, %d listed; want 1", r.AlertsTotal, len(r.Alerts))
	}
	if r.Events != 19 {
		t.Errorf("events = %d, want 19", r.Events)
	}
	if r.BadLines != 1 || len(r.Bad) != 1 || r.Bad[0].Line != 7 || r.Bad[0].File != p {
		t.Errorf("bad lines = %d %+v, want one at %s:7", r.BadLines, r.Bad, p)
	}
	if len(r.Timeline) != 4 || r.Timeline[0].Alerts != 1 || r.Timeline[2].Events != 0 {
		t.Errorf("timeline = %+v, want 4 hours (the third empty), the alert in the first", r.Timeline)
	}
	if len(r.Hosts) != 1 || r.Hosts[0] != "web1" {
		t.Errorf("hosts = %v", r.Hosts)
	}
	if len(r.Novel) != 1 || r.Novel[0].Key != "connect|/usr/bin/bash|public:4444" {
		t.Errorf("novel = %+v", r.Novel)
	}
	want := map[string]int{"10.2.1": 2, "10.2.1.1": 3, "10.2.1.3": 1, "10.2.1.4": 1, "10.2.1.5": 2, "10.2.1.6": 2, "10.2.1.7": 1, "10.7.2": 1, "11.5.2": 1}
	for id, n := range want {
		if s := section(r, id); s == nil || s.Count != n {
			t.Errorf("PCI %s: count %v, want %d (rows %+v)", id, s.Count, n, s.Rows)
		}
	}
	if s := section(r, "10.2.1.2"); s.Count != 6 {
		// 5 execs by uid 0 or euid 0 (sh, cat, ls, vi, sudo) and late.
		t.Errorf("PCI 10.2.1.2: %d, want 6", s.Count)
	}
	loss := map[string]uint64{}
	for _, c := range r.Loss {
		loss[c.Name] = c.Value
	}
	if loss["proc_overruns"] != 3 || loss["fanotify_overflows"] != 1 || loss["queue-overflow"] != 1 || loss["report_bad_lines"] != 1 {
		t.Errorf("loss = %v", loss)
	}
	if len(r.Rules) != 7 || r.Settings["audit.mode"] != "own" {
		t.Errorf("rules in force = %d, settings %v", len(r.Rules), r.Settings)
	}
	cis := map[string]string{"4.1.1.1": "covered", "4.1.1.3": "missing", "4.1.2.2": "partial", "4.1.2.4": "covered",
		"4.1.3": "missing", "4.1.4": "partial", "4.1.9": "missing", "4.1.11": "compensated", "4.1.14": "covered",
		"4.1.15": "compensated", "4.1.16": "partial", "4.1.17": "missing"}
	for id, st := range cis {
		if c := cisItem(r, id); c == nil || c.Status != st {
			t.Errorf("CIS %s = %+v, want %s", id, c, st)
		}
	}
	if c := cisItem(r, "4.1.4"); c.Events != 1 {
		t.Errorf("CIS 4.1.4 events = %d, want 1 (the identity-keyed write)", c.Events)
	}
	if c := cisItem(r, "4.1.16"); c.Events != 1 {
		t.Errorf("CIS 4.1.16 events = %d, want 1 (the module-keyed load, counted once)", c.Events)
	}
	// The never rule matching -S all must not count as auditing time changes.
	if c := cisItem(r, "4.1.3"); len(c.Met) != 0 {
		t.Errorf("CIS 4.1.3 met by %v", c.Met)
	}
}

func TestTree(t *testing.T) {
	p, _ := fixture(t)
	r, err := Build([]string{p}, Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	a := r.Alerts[0]
	if a.Tree == nil {
		t.Fatal("no tree")
	}
	var lines []string
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		lines = append(lines, strings.Repeat(" ", depth)+n.Kind+" "+n.Label)
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(a.Tree, 0)
	got := strings.Join(lines, "\n")
	want := strings.Join([]string{
		"process systemd",
		" process sshd",
		"  process bash",
		"   process bash",
		"    process cat",
		"     file /etc/shadow",
		"    socket 203.0.113.9:4444",
		"   process vi",
		"    file /etc/passwd",
	}, "\n")
	if got != want {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}
	var focus *Node
	var find func(n *Node)
	find = func(n *Node) {
		if n.Focus {
			focus = n
		}
		for _, c := range n.Children {
			find(c)
		}
	}
	find(a.Tree)
	if focus == nil || focus.PID != 900 {
		t.Fatalf("focus = %+v", focus)
	}
	if !strings.Contains(focus.Children[0].Detail, "exited 0") {
		t.Errorf("child detail %q lacks its exit", focus.Children[0].Detail)
	}
	for _, s := range []string{`class="node process alerted focus"`, `data-alert="f-4"`, ">cat<", ">/etc/shadow<", ">203.0.113.9:4444<", `stroke-dasharray="5 3"`} {
		if !strings.Contains(a.SVG, s) {
			t.Errorf("SVG lacks %s", s)
		}
	}
}

func TestLongChainIsShortened(t *testing.T) {
	var anc []Ref
	for i := 0; i < 20; i++ {
		anc = append(anc, Ref{EntityID: "a" + string(rune('a'+i)), PID: 100 + i, Executable: "/bin/p" + string(rune('a'+i))})
	}
	tb := newTreeBuilder([]*Alert{{ID: "x", EntityID: "z", PID: 1, Executable: "/bin/z", Ancestry: anc, parentID: anc[0].EntityID}}, 10)
	tb.draw()
	depth := 0
	var more *Node
	for n := tb.alerts[0].Tree; n != nil; depth++ {
		if n.Kind == "more" {
			more = n
		}
		if len(n.Children) == 0 {
			break
		}
		n = n.Children[0]
	}
	if depth+1 > maxChain+1 {
		t.Errorf("chain of 20 drawn %d deep, want at most %d", depth+1, maxChain+1)
	}
	if more == nil || !strings.HasPrefix(more.Label, "+14 ancestors") {
		t.Errorf("middle node = %+v", more)
	}
}

func TestPeriod(t *testing.T) {
	p, _ := fixture(t)
	r, err := Build([]string{p}, Options{Now: t0, Since: t0.Add(30 * time.Minute), Until: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r.AlertsTotal != 0 || r.Events != 7 {
		t.Errorf("in period: %d events %d alerts, want 7 and 0", r.Events, r.AlertsTotal)
	}
	// The settings event before the period still says what was in force.
	if len(r.Rules) != 7 {
		t.Errorf("rules in force = %d, want 7 from the settings event before the period", len(r.Rules))
	}
	if len(r.Config) != 0 {
		t.Errorf("config events listed in the period: %+v", r.Config)
	}
	if s := section(r, "10.2.1"); s.Count != 0 {
		t.Errorf("10.2.1 in period: %d", s.Count)
	}
	var buf bytes.Buffer
	if err := HTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?s)10\.2\.1 Audit logs are enabled.*?No evidence found in the period`).Match(buf.Bytes()) {
		t.Error("HTML does not say 10.2.1 has no evidence")
	}
}

func TestWriteFormats(t *testing.T) {
	p, _ := fixture(t)
	r, err := Build([]string{p}, Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range Formats {
		out, err := Write(r, f, dir)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(out)
		if err != nil || st.Mode().Perm() != 0o640 {
			t.Fatalf("%s: %v mode %v, want 0640", out, err, st.Mode())
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	h, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	html := string(h)
	for _, s := range []string{`<svg class="tree" data-alert="f-4"`, "10.2.1.4 Invalid logical access attempts",
		`id="cis-4.1.17"`, "203.0.113.9:4444", "report_bad_lines", p + ":7:"} {
		if !strings.Contains(html, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
	// Self-contained: nothing fetched, no script.
	ext := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:|//)|<script|<link|@import|url\(`)
	if m := ext.FindString(html); m != "" {
		t.Errorf("HTML fetches or scripts: %q", m)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "![process tree of f-4](trees/f-4.svg)") {
		t.Error("Markdown does not link the tree")
	}
	svg, err := os.ReadFile(filepath.Join(dir, "trees", "f-4.svg"))
	if err != nil || !bytes.HasPrefix(svg, []byte("<?xml")) {
		t.Errorf("tree file: %v", err)
	}
	var back Report
	js, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(js, &back); err != nil || back.AlertsTotal != 1 || back.Alerts[0].Tree == nil {
		t.Errorf("JSON report: %v %+v", err, back.AlertsTotal)
	}
}

// TestWriteFailureKeepsOld: a report that fails half way (here the
// Markdown's trees cannot be written: "trees" is a file) leaves the
// previous report whole under its name and no temporary file.
func TestWriteFailureKeepsOld(t *testing.T) {
	p, _ := fixture(t)
	r, err := Build([]string{p}, Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	md := filepath.Join(dir, "report.md")
	os.WriteFile(md, []byte("the previous report\n"), 0o640)
	os.WriteFile(filepath.Join(dir, "trees"), nil, 0o640)
	if _, err := Write(r, "md", dir); err == nil || !strings.Contains(err.Error(), md) {
		t.Fatalf("error %v, want one naming %s", err, md)
	}
	if b, _ := os.ReadFile(md); string(b) != "the previous report\n" {
		t.Errorf("previous report changed: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("directory holds %d entries, want report.md and trees", len(ents))
	}
}

// TestEscaping: text from the events (a hostile argv) cannot become
// markup in the HTML or the SVG.
func TestEscaping(t *testing.T) {
	bad := `<script>alert(1)</script>"'&`
	a := &Alert{ID: "x<1>", EntityID: "e", PID: 1, Executable: "/tmp/" + bad, Args: []string{"x", bad}, Reason: bad,
		Ancestry: []Ref{{EntityID: "p", PID: 2, Executable: "/bin/" + bad}}}
	tb := newTreeBuilder([]*Alert{a}, 1)
	tb.draw()
	r := &Report{Alerts: []*Alert{a}, Inputs: []string{bad}}
	var buf bytes.Buffer
	if err := HTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>") {
		t.Error("HTML carries an unescaped <script>")
	}
	if strings.Contains(a.SVG, "<script") || !strings.Contains(a.SVG, "&lt;script&gt;") {
		t.Errorf("SVG escaping: %s", a.SVG)
	}
}

// TestPublicRuleSets checks the CIS section against deployed rule sets:
// the STIG set covers identity, sudoers and access items fully; the
// PCI-DSS 3.1 set lacks the network-environment rules.
func TestPublicRuleSets(t *testing.T) {
	load := func(name string) []string {
		f, err := os.Open(filepath.Join("..", "..", "shared", "testdata", "public", "go-libaudit", "rule", "testdata", name))
		if err != nil {
			t.Skip(err)
		}
		defer f.Close()
		var out []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out
	}
	stig := evaluateCIS(load("30-stig.rules"), "", nil, nil, nil)
	status := map[string]string{}
	for _, c := range stig {
		status[c.ID] = c.Status
	}
	for id, want := range map[string]string{"4.1.3": "covered", "4.1.4": "covered", "4.1.10": "covered", "4.1.14": "covered", "4.1.1.1": "manual", "4.1.7": "missing"} {
		if status[id] != want {
			t.Errorf("STIG rules: %s = %s, want %s", id, status[id], want)
		}
	}
	pci := evaluateCIS(load("30-pci-dss-v31.rules"), "", nil, nil, nil)
	for _, c := range pci {
		if c.ID == "4.1.5" && c.Status == "covered" {
			t.Errorf("PCI 3.1 rules: 4.1.5 covered by %v", c.Met)
		}
	}
}

func TestReaderLongLineAndErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.jsonl")
	long := `{"@timestamp":"2026-01-01T00:00:00Z","message":"` + strings.Repeat("a", MaxLine) + `"}`
	body := long + "\n\n[1,2]\n" + `{"@timestamp":"yesterday"}` + "\n" + `{"@timestamp":"2026-01-01T00:00:00Z","event":{"id":"ok"}}`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var rd Reader
	var ids []string
	if err := rd.Each([]string{p}, func(d *Doc) error { ids = append(ids, d.Event.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != "ok" {
		t.Errorf("read %v, want the last line only", ids)
	}
	if rd.BadCount != 3 || rd.Bad[0].Line != 1 || rd.Bad[1].Line != 3 || rd.Bad[2].Line != 4 {
		t.Errorf("bad = %+v", rd.Bad)
	}
	if err := rd.Each([]string{filepath.Join(dir, "missing")}, func(*Doc) error { return nil }); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
}
