package fanotify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	paths := map[string]Watch{}
	for _, w := range p.Watches {
		paths[w.Path] = w
		if w.Recursive {
			t.Errorf("%s is recursive by default: filesystem-wide marks must be opted into", w.Path)
		}
	}
	for _, want := range []string{
		"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d",
		"/etc/ld.so.preload", "/etc/ssh", "/root", "/root/.ssh", "/home/*/.ssh",
		"/etc/cron*", "/var/spool/cron", "/etc/systemd/system", "/usr/lib/systemd/system",
		"/etc/rc.local", "/etc/init.d", "/etc/profile", "/etc/profile.d", "/etc/bash.bashrc",
		"/home/*/.bashrc", "/home/*/.profile",
		"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin",
		"/tmp", "/var/tmp", "/dev/shm",
	} {
		if _, ok := paths[want]; !ok {
			t.Errorf("default policy does not watch %s", want)
		}
	}
	checks := []struct {
		path string
		ops  Op
	}{
		{"/etc/shadow", OpOpen | OpModify | OpCloseWrite}, // reading it is the signal
		{"/etc/passwd", OpModify | OpCloseWrite},          // reading it is constant
		{"/usr/bin", OpModify | OpCloseWrite},             // execs come from audit and the proc connector
		{"/tmp", OpCloseWrite | OpExec},
	}
	for _, c := range checks {
		if got := paths[c.path].Ops; got != c.ops {
			t.Errorf("%s: ops %s, want %s", c.path, got, c.ops)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Watch{Path: "/etc", Ops: OpModify}
	cases := []struct {
		name string
		p    Policy
		err  string // substring; "" for valid
	}{
		{"valid", Policy{Watches: []Watch{ok}, Exclude: []string{"/var/log/lineaged"}}, ""},
		{"glob", Policy{Watches: []Watch{{Path: "/home/*/.ssh", Ops: OpOpen}}}, ""},
		{"no watches", Policy{}, "watches: no path"},
		{"relative", Policy{Watches: []Watch{ok, {Path: "etc/passwd", Ops: OpOpen}}}, `watches[1].path "etc/passwd": not absolute`},
		{"empty", Policy{Watches: []Watch{{Path: "", Ops: OpOpen}}}, "empty"},
		{"unclean", Policy{Watches: []Watch{{Path: "/etc/../etc/passwd", Ops: OpOpen}}}, `not clean (write "/etc/passwd")`},
		{"trailing slash", Policy{Watches: []Watch{{Path: "/etc/", Ops: OpOpen}}}, `not clean (write "/etc")`},
		{"root", Policy{Watches: []Watch{{Path: "/", Ops: OpOpen, Recursive: true}}}, "/ itself cannot be watched"},
		{"nul", Policy{Watches: []Watch{{Path: "/etc/\x00x", Ops: OpOpen}}}, "NUL"},
		{"bad glob", Policy{Watches: []Watch{{Path: "/etc/[", Ops: OpOpen}}}, "syntax error in pattern"},
		{"no ops", Policy{Watches: []Watch{{Path: "/etc"}}}, "watches[0].ops: no file operation"},
		{"unknown ops", Policy{Watches: []Watch{{Path: "/etc", Ops: 0x80}}}, "unknown operation bits"},
		{"exclude relative", Policy{Watches: []Watch{ok}, Exclude: []string{"out"}}, `exclude[0] "out": not absolute`},
		{"exclude pattern", Policy{Watches: []Watch{ok}, Exclude: []string{"/var/log/*"}}, "patterns are not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate()
			switch {
			case c.err == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}

func TestParseOps(t *testing.T) {
	cases := []struct {
		in   string
		want Op
		err  bool
	}{
		{"open", OpOpen, false},
		{"open,modify, close-write exec", OpAll, false},
		{"all", OpAll, false},
		{"close-write", OpCloseWrite, false},
		{"", 0, true},
		{"read", 0, true},
		{"open,,", OpOpen, false},
	}
	for _, c := range cases {
		got, err := ParseOps(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseOps(%q) = %s, %v; want %s, err %v", c.in, got, err, c.want, c.err)
		}
	}
	for o := Op(1); o <= OpAll; o++ {
		back, err := ParseOps(o.String())
		if err != nil || back != o {
			t.Errorf("%s does not round-trip: %s, %v", o, back, err)
		}
	}
}

// The config layer fills a Policy by decoding; Op decodes from its text.
func TestPolicyFromJSON(t *testing.T) {
	var p Policy
	in := `{"watches":[{"path":"/etc/shadow","ops":"open,modify","class":"credential"},
		{"path":"/srv/app","ops":"all","recursive":true}],"exclude":["/var/log/lineaged"],"unlimited_queue":true}`
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	want := Policy{
		Watches: []Watch{
			{Path: "/etc/shadow", Ops: OpOpen | OpModify, Class: "credential"},
			{Path: "/srv/app", Ops: OpAll, Recursive: true},
		},
		Exclude:        []string{"/var/log/lineaged"},
		UnlimitedQueue: true,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	if err := json.Unmarshal([]byte(`{"watches":[{"path":"/etc","ops":"read"}]}`), &p); err == nil ||
		!strings.Contains(err.Error(), `unknown file operation "read"`) {
		t.Errorf("bad ops accepted or unclear: %v", err)
	}
}

func TestResolve(t *testing.T) {
	root := t.TempDir()
	root, _ = filepath.EvalSymlinks(root)
	mk := func(rel string, dir bool) string {
		p := filepath.Join(root, rel)
		if dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	usrBin := mk("usr/bin", true)
	if err := os.Symlink("usr/bin", filepath.Join(root, "bin")); err != nil {
		t.Fatal(err)
	}
	aliceSSH := mk("home/alice/.ssh", true)
	bobSSH := mk("home/bob/.ssh", true)
	mk("home/carol", true) // no .ssh: the pattern simply does not match her
	passwd := mk("etc/passwd", false)
	out := mk("var/log/lineaged/events.jsonl", false)
	fifo := filepath.Join(root, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skip(err)
	}

	p := Policy{
		Watches: []Watch{
			{Path: filepath.Join(root, "bin"), Ops: OpExec, Class: ClassBinary},
			{Path: usrBin, Ops: OpModify, Class: ClassBinary, Recursive: true},
			{Path: filepath.Join(root, "home/*/.ssh"), Ops: OpOpen, Class: ClassCredential},
			{Path: filepath.Join(root, "nohome/*/.ssh"), Ops: OpOpen},
			{Path: passwd, Ops: OpModify, Recursive: true},
			{Path: filepath.Join(root, "etc/ld.so.preload"), Ops: OpModify},
			{Path: fifo, Ops: OpOpen},
		},
		Exclude: []string{filepath.Join(root, "var/log/lineaged"), out, filepath.Join(root, "not-yet")},
	}
	r, err := p.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{
		// /bin and /usr/bin are one directory: one target, both ops.
		{Path: filepath.Join(root, "bin"), Real: usrBin, Dir: true, Ops: OpExec | OpModify, Class: ClassBinary, Recursive: true},
		{Path: aliceSSH, Real: aliceSSH, Dir: true, Ops: OpOpen, Class: ClassCredential},
		{Path: bobSSH, Real: bobSSH, Dir: true, Ops: OpOpen, Class: ClassCredential},
		// Recursive means nothing for a file.
		{Path: passwd, Real: passwd, Ops: OpModify},
	}
	if !reflect.DeepEqual(r.Targets, want) {
		t.Errorf("targets\n got %+v\nwant %+v", r.Targets, want)
	}
	wantSkipped := []Skipped{
		{filepath.Join(root, "nohome/*/.ssh"), "no path matches the pattern"},
		{filepath.Join(root, "etc/ld.so.preload"), "does not exist"},
		{fifo, "not a regular file or directory (p---------)"},
	}
	if !reflect.DeepEqual(r.Skipped, wantSkipped) {
		t.Errorf("skipped\n got %+v\nwant %+v", r.Skipped, wantSkipped)
	}
	if !reflect.DeepEqual(r.ExcludeFiles, []string{out}) {
		t.Errorf("exclude files %v, want [%s]", r.ExcludeFiles, out)
	}
	if len(r.Exclude) != 3 {
		t.Errorf("exclude %v: every configured path kept, existing or not", r.Exclude)
	}
}

func TestResolveInvalid(t *testing.T) {
	p := Policy{Watches: []Watch{{Path: "relative", Ops: OpOpen}}}
	if _, err := p.Resolve(); err == nil {
		t.Error("Resolve accepted an invalid policy")
	}
}

func TestResolveLimit(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		if err := os.WriteFile(filepath.Join(root, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := Policy{Watches: []Watch{
		{Path: filepath.Join(root, "a"), Ops: OpOpen},
		{Path: filepath.Join(root, "a"), Ops: OpModify}, // the same target: not counted twice
		{Path: filepath.Join(root, "*"), Ops: OpOpen},
	}}
	r, err := p.resolve(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Targets) != 3 || len(r.Skipped) != 2 || r.Skipped[0].Reason != "more than 3 watched paths" {
		t.Errorf("targets %+v\nskipped %+v", r.Targets, r.Skipped)
	}
	if r.Targets[0].Ops != OpOpen|OpModify {
		t.Errorf("ops of a repeated target %s", r.Targets[0].Ops)
	}
}
