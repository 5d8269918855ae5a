package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/event"
)

// yamlBlocks reads go-libaudit's aucoalesce test files: "tests:" then
// "  NAME: |" blocks of raw lines indented by four spaces.
func yamlBlocks(t *testing.T, path string) map[string][]string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head := regexp.MustCompile(`^  ([^\s#].*?):\s*[|>]\s*$`)
	out := map[string][]string{}
	cur := ""
	for _, l := range strings.Split(string(data), "\n") {
		if m := head.FindStringSubmatch(l); m != nil {
			cur = strings.Trim(m[1], `"'`)
			continue
		}
		if cur != "" && strings.HasPrefix(l, "    ") {
			out[cur] = append(out[cur], strings.TrimPrefix(l, "    "))
		}
	}
	return out
}

// normalizeLines runs lines through parse → reassemble → normalise.
func normalizeLines(t *testing.T, lines []string) []event.Event {
	n := NewNormalizer("test")
	var out []event.Event
	ra := NewReassembler(64, 5000, func(g *Group) {
		var e event.Event
		n.Normalize(g, &e)
		out = append(out, *e.Clone()) // the normaliser reuses what e points to
	})
	for _, l := range lines {
		r := ra.Record()
		if err := r.Parse([]byte(l)); err != nil {
			ra.Release(r)
			continue
		}
		ra.Push(r, r.TimeMsec())
	}
	ra.Flush()
	return out
}

type goldenEvent struct {
	TestName string `json:"test_name"`
	Event    struct {
		Sequence  uint32 `json:"sequence"`
		Result    string `json:"result"`
		Session   string `json:"session"`
		Timestamp string `json:"@timestamp"`
		Summary   struct {
			Action string `json:"action"`
		} `json:"summary"`
		User struct {
			IDs map[string]string `json:"ids"`
		} `json:"user"`
		Process struct {
			PID   string   `json:"pid"`
			PPID  string   `json:"ppid"`
			Title string   `json:"title"`
			Name  string   `json:"name"`
			Exe   string   `json:"exe"`
			CWD   string   `json:"cwd"`
			Args  []string `json:"args"`
		} `json:"process"`
		Data map[string]string `json:"data"`
		ECS  struct {
			Event struct {
				Category []string `json:"category"`
				Type     []string `json:"type"`
			} `json:"event"`
		} `json:"ecs"`
	} `json:"event"`
}

// TestExecMatchesAucoalesce compares our exec events with go-libaudit's
// aucoalesce golden output for every execve test case.
func TestExecMatchesAucoalesce(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "testdata/public/go-libaudit/aucoalesce/testdata")
	goldens, _ := filepath.Glob(filepath.Join(dir, "*.json.golden"))
	execs, syscalls := 0, 0
	for _, gp := range goldens {
		blocks := yamlBlocks(t, strings.TrimSuffix(gp, ".json.golden")+".yaml")
		data, err := os.ReadFile(gp)
		if err != nil {
			t.Fatal(err)
		}
		var golden []goldenEvent
		if err := json.Unmarshal(data, &golden); err != nil {
			t.Fatalf("%s: %v", gp, err)
		}
		for _, g := range golden {
			w := g.Event
			sc := w.Data["syscall"]
			if sc == "" {
				continue
			}
			isExec := sc == "execve" || sc == "execveat"
			where := filepath.Base(gp) + ": " + g.TestName
			lines, ok := blocks[g.TestName]
			if !ok {
				t.Errorf("%s: no yaml block", where)
				continue
			}
			evs := normalizeLines(t, lines)
			var e *event.Event
			for i := range evs {
				if evs[i].Audit.Sequence == w.Sequence {
					e = &evs[i]
				}
			}
			if e == nil {
				t.Errorf("%s: no event with sequence %d", where, w.Sequence)
				continue
			}
			if isExec {
				execs++
			}
			syscalls++
			check := func(field string, got, want any) {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: %s = %#v, aucoalesce %#v", where, field, got, want)
				}
			}
			// Every syscall event: the subject and the outcome.
			check("executable", e.Process.Executable, w.Process.Exe)
			check("working_directory", e.Process.WorkingDirectory, w.Process.CWD)
			check("title", e.Process.Title, w.Process.Title)
			check("name", e.Process.Name, w.Process.Name)
			check("pid", strconv.Itoa(e.Process.PID), w.Process.PID)
			check("ppid", strconv.Itoa(e.Process.PPID), w.Process.PPID)
			check("syscall", e.Audit.Syscall, sc)
			if isExec {
				check("args", e.Process.Args, w.Process.Args)
				check("action", string(e.Action), w.Summary.Action)
				check("category", []string{string(e.Category)}, w.ECS.Event.Category)
				check("type", []string{string(e.Type)}, w.ECS.Event.Type)
			}
			check("result", e.Audit.Result, w.Result)
			check("session", e.Audit.Session, w.Session)
			check("uid", e.User.ID, w.User.IDs["uid"])
			check("euid", e.User.EffectiveID, w.User.IDs["euid"])
			check("auid", e.User.AuditID, w.User.IDs["auid"])
			check("tty", e.Process.TTY, strings.TrimPrefix(w.Data["tty"], "(none)")) // we omit "(none)"
		}
	}
	if execs < 3 || syscalls < 20 {
		t.Fatalf("compared only %d exec events of %d syscall events", execs, syscalls)
	}
	t.Logf("%d syscall events (%d exec) match aucoalesce", syscalls, execs)
}

// TestExecveSplitArguments: an argument longer than the kernel's budget is
// written as aN_len plus aN[i] chunks, and argument lists continue over
// several EXECVE records (kernel/auditsc.c audit_log_execve_info).
func TestExecveSplitArguments(t *testing.T) {
	long := strings.Repeat("x", 9000)
	hexPart := func(s string) string { return strings.ToUpper(hexOf(s)) }
	lines := []string{
		`type=SYSCALL msg=audit(100.000:5): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=1 pid=42 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm="sh" exe="/bin/sh" key="exec"`,
		`type=EXECVE msg=audit(100.000:5): argc=4 a0="sh" a1="-c" a2_len=9000 a2[0]=` + hexPart(long[:7000]),
		`type=EXECVE msg=audit(100.000:5): a2[1]="` + long[7000:] + `"`,
		`type=EXECVE msg=audit(100.000:5): a3=2F746D702F6120622063`,
		`type=CWD msg=audit(100.000:5): cwd="/root"`,
		`type=PATH msg=audit(100.000:5): item=0 name="/bin/sh" inode=1 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`,
		`type=PROCTITLE msg=audit(100.000:5): proctitle=7368002D63`,
	}
	evs := normalizeLines(t, lines)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	e := evs[0]
	want := []string{"sh", "-c", long, "/tmp/a b c"}
	if !reflect.DeepEqual(e.Process.Args, want) {
		t.Errorf("args = %d items, lens %v", len(e.Process.Args), lens(e.Process.Args))
	}
	if e.Action != "executed" || e.Process.Executable != "/bin/sh" || e.File == nil || e.File.Path != "/bin/sh" {
		t.Errorf("event %+v", e)
	}
	if e.Process.Title != "sh -c" {
		t.Errorf("title %q", e.Process.Title)
	}
}

func lens(s []string) []int {
	var out []int
	for _, x := range s {
		out = append(out, len(x))
	}
	return out
}

func hexOf(s string) string {
	const digits = "0123456789ABCDEF"
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, digits[s[i]>>4], digits[s[i]&15])
	}
	return string(b)
}

func TestNormalizeNetworkFileSetuid(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		check func(t *testing.T, e event.Event)
	}{
		{"connect ipv4", []string{
			`type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=1 pid=9 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=2 comm="curl" exe="/usr/bin/curl" key="net"`,
			`type=SOCKADDR msg=audit(1.000:1): saddr=02000050A9FEA9FE0000000000000000`,
		}, func(t *testing.T, e event.Event) {
			if e.Action != "connected-to" || e.Dest == nil || e.Dest.IP != "169.254.169.254" || e.Dest.Port != 80 || e.Network.Family != "ipv4" {
				t.Errorf("%+v dest %+v", e, e.Dest)
			}
			if len(e.Audit.Keys) != 1 || e.Audit.Keys[0] != "net" {
				t.Errorf("keys %v", e.Audit.Keys)
			}
		}},
		{"bind ipv6 and unix", []string{
			`type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=49 success=yes exit=0 a0=3 items=0 ppid=1 pid=9 uid=0 comm="nc" exe="/usr/bin/nc"`,
			`type=SOCKADDR msg=audit(1.000:2): saddr=0A001F90000000000000000000000000000000000000000100000000`,
		}, func(t *testing.T, e event.Event) {
			if e.Action != "bound-socket" || e.Source == nil || e.Source.IP != "::1" || e.Source.Port != 8080 {
				t.Errorf("%+v src %+v", e, e.Source)
			}
		}},
		{"unix connect", []string{
			`type=SYSCALL msg=audit(1.000:3): arch=c000003e syscall=42 success=yes exit=0 items=0 ppid=1 pid=9 uid=0 comm="x" exe="/x"`,
			`type=SOCKADDR msg=audit(1.000:3): saddr=01002F72756E2F646F636B65722E736F636B00`,
		}, func(t *testing.T, e event.Event) {
			if e.Dest == nil || e.Dest.Path != "/run/docker.sock" || e.Network.Family != "unix" {
				t.Errorf("dest %+v", e.Dest)
			}
		}},
		{"openat write relative path", []string{
			`type=SYSCALL msg=audit(1.000:4): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55 a2=241 a3=1b6 items=2 ppid=1 pid=9 uid=0 comm="bash" exe="/usr/bin/bash" key="cron"`,
			`type=CWD msg=audit(1.000:4): cwd="/var/spool/cron"`,
			`type=PATH msg=audit(1.000:4): item=0 name="/var/spool/cron" inode=2 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`,
			`type=PATH msg=audit(1.000:4): item=1 name="crontabs/root" inode=3 dev=fe:00 mode=0100600 ouid=0 ogid=0 rdev=00:00 nametype=CREATE`,
		}, func(t *testing.T, e event.Event) {
			if e.Category != "file" || e.File == nil || e.File.Path != "/var/spool/cron/crontabs/root" || e.File.Operation != "create" {
				t.Errorf("%+v file %+v", e, e.File)
			}
		}},
		{"setresuid", []string{
			`type=SYSCALL msg=audit(1.000:5): arch=c000003e syscall=117 success=yes exit=0 a0=0 a1=0 a2=ffffffff a3=0 items=0 ppid=1 pid=9 uid=1000 euid=1000 comm="sudo" exe="/usr/bin/sudo"`,
		}, func(t *testing.T, e event.Event) {
			if e.Category != "iam" || e.Target == nil || e.Target.ID != "0" || e.Target.EffectiveID != "0" || e.Target.SavedID != "" {
				t.Errorf("%+v target %+v", e, e.Target)
			}
		}},
		{"exit_group", []string{
			`type=SYSCALL msg=audit(1.000:6): arch=c00000b7 syscall=94 success=yes exit=0 a0=2 items=0 ppid=1 pid=9 uid=0 comm="false" exe="/usr/bin/false"`,
		}, func(t *testing.T, e event.Event) {
			if e.Action != "exited" || e.Process.ExitCode == nil || *e.Process.ExitCode != 2 || e.Audit.Arch != "aarch64" || e.Audit.Syscall != "exit_group" {
				t.Errorf("%+v", e)
			}
		}},
		{"failed ssh login", []string{
			`type=USER_LOGIN msg=audit(1493046015.752:42120): pid=18981 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct="root" exe="/usr/sbin/sshd" hostname=? addr=46.160.144.250 terminal=ssh res=failed'`,
		}, func(t *testing.T, e event.Event) {
			if e.Action != "logged-in" || e.Outcome != "failure" || e.Target == nil || e.Target.Name != "root" || e.User.ID != "0" || e.Source == nil || e.Source.IP != "46.160.144.250" || e.User.AuditID != "unset" || e.Process.Executable != "/usr/sbin/sshd" {
				t.Errorf("%+v", e)
			}
		}},
		{"audit rule removed", []string{
			`type=CONFIG_CHANGE msg=audit(1492749467.018:1209): auid=1000 ses=4 op=remove_rule key="pam" list=4 res=1`,
		}, func(t *testing.T, e event.Event) {
			if e.Category != "configuration" || e.Action != "changed-audit-configuration" || e.Outcome != "success" || len(e.Audit.Data) == 0 || e.Audit.Data[0].Value != "remove_rule" {
				t.Errorf("%+v", e)
			}
		}},
		{"auditctl rule change rides on a sendto", []string{
			`type=CONFIG_CHANGE msg=audit(1795750472.922:1004): auid=4294967295 ses=4294967295 op=add_rule key="lineaged-it" list=4 res=1`,
			`type=SYSCALL msg=audit(1795750472.922:1004): arch=c000003e syscall=44 success=yes exit=1084 a0=3 items=0 ppid=17 pid=18 auid=4294967295 uid=0 tty=(none) ses=4294967295 comm="auditctl" exe="/usr/sbin/auditctl" key=(null)`,
			`type=SOCKADDR msg=audit(1795750472.922:1004): saddr=100000000000000000000000`,
			`type=PROCTITLE msg=audit(1795750472.922:1004): proctitle=617564697463746C`,
		}, func(t *testing.T, e event.Event) {
			if e.Action != "changed-audit-configuration" || e.Process.Executable != "/usr/sbin/auditctl" || len(e.Audit.Keys) != 1 || e.Audit.Keys[0] != "lineaged-it" {
				t.Errorf("%+v keys %v", e, e.Audit.Keys)
			}
		}},
		{"thread exit is not process exit", []string{
			`type=SYSCALL msg=audit(1.000:20): arch=c000003e syscall=60 success=yes exit=0 a0=0 items=0 ppid=1 pid=9 uid=0 comm="java" exe="/usr/bin/java"`,
		}, func(t *testing.T, e event.Event) {
			if e.Action != "thread-exited" || e.Type == "end" {
				t.Errorf("%+v", e)
			}
		}},
		{"exec with a permissive AVC stays an exec", []string{
			`type=AVC msg=audit(1.000:21): avc:  denied  { execute } for  pid=9 comm="bash" name="evil" dev="sda1" ino=5 scontext=u:r:t:s0 tcontext=u:o:tmp_t:s0 tclass=file permissive=1`,
			`type=SYSCALL msg=audit(1.000:21): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=9 uid=0 comm="evil" exe="/tmp/evil"`,
			`type=EXECVE msg=audit(1.000:21): argc=1 a0="/tmp/evil"`,
			`type=PROCTITLE msg=audit(1.000:21): proctitle="/tmp/evil"`,
		}, func(t *testing.T, e event.Event) {
			if e.Action != "executed" || len(e.Audit.Data) == 0 {
				t.Errorf("%+v data %v", e, e.Audit.Data)
			}
		}},
		{"O_CREAT on an existing file is a write", []string{
			`type=SYSCALL msg=audit(1.000:22): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55 a2=441 a3=1b6 items=1 ppid=1 pid=9 uid=0 comm="tee" exe="/usr/bin/tee"`,
			`type=CWD msg=audit(1.000:22): cwd="/"`,
			`type=PATH msg=audit(1.000:22): item=0 name="/etc/hosts" inode=3 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`,
		}, func(t *testing.T, e event.Event) {
			if e.File == nil || e.File.Operation != "write" || e.Action != "wrote-to-file" {
				t.Errorf("%+v file %+v", e, e.File)
			}
		}},
		{"rename names its destination", []string{
			`type=SYSCALL msg=audit(1.000:23): arch=c000003e syscall=82 success=yes exit=0 items=4 ppid=1 pid=9 uid=0 comm="usermod" exe="/usr/sbin/usermod"`,
			`type=CWD msg=audit(1.000:23): cwd="/"`,
			`type=PATH msg=audit(1.000:23): item=0 name="/etc/" inode=1 nametype=PARENT`,
			`type=PATH msg=audit(1.000:23): item=1 name="/etc/" inode=1 nametype=PARENT`,
			`type=PATH msg=audit(1.000:23): item=2 name="/etc/passwd+" inode=7 nametype=DELETE`,
			`type=PATH msg=audit(1.000:23): item=3 name="/etc/passwd" inode=7 nametype=CREATE`,
		}, func(t *testing.T, e event.Event) {
			if e.File == nil || e.File.Path != "/etc/passwd" || e.File.Operation != "rename" {
				t.Errorf("file %+v", e.File)
			}
			found := false
			for _, kv := range e.Audit.Data {
				found = found || kv.Key == "old_path" && kv.Value == "/etc/passwd+"
			}
			if !found {
				t.Errorf("no old_path in %v", e.Audit.Data)
			}
		}},
		{"unlinkat relative to a directory fd is not joined to the cwd", []string{
			`type=SYSCALL msg=audit(1.000:24): arch=c000003e syscall=263 success=yes exit=0 a0=4 a1=55 a2=0 items=2 ppid=1 pid=9 uid=0 comm="rm" exe="/usr/bin/rm"`,
			`type=CWD msg=audit(1.000:24): cwd="/home/u"`,
			`type=PATH msg=audit(1.000:24): item=0 name="payload" inode=1 nametype=PARENT`,
			`type=PATH msg=audit(1.000:24): item=1 name="payload" inode=9 nametype=DELETE`,
		}, func(t *testing.T, e event.Event) {
			if e.File == nil || e.File.Path != "payload" {
				t.Errorf("file %+v", e.File)
			}
		}},
		{"huge argc with few arguments", []string{
			`type=SYSCALL msg=audit(1.000:25): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=9 uid=0 comm="x" exe="/bin/x"`,
			`type=EXECVE msg=audit(1.000:25): argc=1048575 a0="x" a2="z"`,
		}, func(t *testing.T, e event.Event) {
			if len(e.Process.Args) != 3 || e.Process.Args[2] != "z" {
				t.Errorf("args %q", e.Process.Args)
			}
			var miss string
			for _, kv := range e.Audit.Data {
				if kv.Key == "args_missing" {
					miss = kv.Value
				}
			}
			if miss != "1048573" {
				t.Errorf("args_missing = %q", miss)
			}
		}},
		{"i386 setuid32 and socketcall connect", []string{
			`type=SYSCALL msg=audit(1.000:26): arch=40000003 syscall=213 success=yes exit=0 a0=0 items=0 ppid=1 pid=9 uid=1000 comm="x" exe="/bin/x"`,
		}, func(t *testing.T, e event.Event) {
			if e.Category != "iam" || e.Target == nil || e.Target.ID != "0" || e.Audit.Syscall != "setuid32" {
				t.Errorf("%+v target %+v", e, e.Target)
			}
		}},
		{"i386 socketcall connect", []string{
			`type=SYSCALL msg=audit(1.000:27): arch=40000003 syscall=102 success=yes exit=0 a0=3 a1=ffd0 items=0 ppid=1 pid=9 uid=1000 comm="nc" exe="/bin/nc"`,
			`type=SOCKADDR msg=audit(1.000:27): saddr=02000050A9FEA9FE0000000000000000`,
		}, func(t *testing.T, e event.Event) {
			if e.Action != "connected-to" || e.Dest == nil || e.Dest.Port != 80 || e.Network.Direction != "egress" {
				t.Errorf("%+v dest %+v", e, e.Dest)
			}
		}},
		{"unknown type kept", []string{
			`type=UNKNOWN[1999] msg=audit(1.000:9): foo=bar`,
			`type=BRAND_NEW msg=audit(1.000:10): foo=bar`,
		}, func(t *testing.T, e event.Event) {
			if len(e.Audit.Unparsed) != 1 || !strings.Contains(e.Audit.Unparsed[0], "BRAND_NEW") {
				t.Errorf("%+v", e.Audit)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs := normalizeLines(t, tc.lines)
			if len(evs) == 0 {
				t.Fatal("no event")
			}
			tc.check(t, evs[len(evs)-1])
		})
	}
}

// TestKernelModuleName: finit_module's KERN_MODULE record (type 1330)
// names the module.
func TestKernelModuleName(t *testing.T) {
	lines := []string{
		`type=SYSCALL msg=audit(1764230400.123:4242): arch=c000003e syscall=313 success=yes exit=0 a0=3 a1=5610a3c4f2a0 a2=0 a3=0 items=0 ppid=4100 pid=4101 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="insmod" exe="/usr/bin/kmod" key="module"`,
		`type=KERN_MODULE msg=audit(1764230400.123:4242): name="lineaged_rootkit"`,
		`type=PROCTITLE msg=audit(1764230400.123:4242): proctitle=696E736D6F64002F746D702F782E6B6F`,
	}
	evs := normalizeLines(t, lines)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	e := evs[0]
	if e.Action != "loaded-kernel-module" || e.File == nil || e.File.Path != "lineaged_rootkit" || e.Process.Executable != "/usr/bin/kmod" {
		t.Fatalf("event %+v file %+v", e, e.File)
	}
}
