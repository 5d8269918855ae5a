package auditrule

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Rule
	}{
		{"-a always,exit -F arch=b64 -S execve,execveat -F auid>=1000 -F auid!=unset -k exec",
			Rule{Kind: Syscall, List: "exit", Action: "always", Syscalls: []string{"execve", "execveat"},
				Fields: []Field{{Name: "arch", Op: "=", Value: "b64"}, {Name: "auid", Op: ">=", Value: "1000"}, {Name: "auid", Op: "!=", Value: "unset"}},
				Keys:   []string{"exec"}}},
		// auditctl -l's form: action first, -F key=.
		{"-a always,exit -F arch=b32 -S adjtimex,settimeofday,stime -F key=time-change",
			Rule{Kind: Syscall, List: "exit", Action: "always", Syscalls: []string{"adjtimex", "settimeofday", "stime"},
				Fields: []Field{{Name: "arch", Op: "=", Value: "b32"}, {Name: "key", Op: "=", Value: "time-change"}}}},
		{"-A exit,never -S 59 -S all -F exit=-EACCES -F a0&=0x1 -F a1&4 -C auid!=obj_uid -k a -k b,c",
			Rule{Kind: Syscall, Prepend: true, List: "exit", Action: "never", Syscalls: []string{"59", "all"},
				Fields: []Field{{Name: "exit", Op: "=", Value: "-EACCES"}, {Name: "a0", Op: "&=", Value: "0x1"},
					{Name: "a1", Op: "&", Value: "4"}, {Name: "auid", Op: "!=", Value: "obj_uid", Compare: true}},
				Keys: []string{"a", "b,c"}}}, // each -k one key, commas and all
		{"-a never,task", Rule{Kind: Syscall, List: "task", Action: "never"}},
		{"-a exclude,always -F msgtype=CWD", Rule{Kind: Syscall, List: "exclude", Action: "always", Fields: []Field{{Name: "msgtype", Op: "=", Value: "CWD"}}}},
		{"-w /etc/passwd -p wa -k identity", Rule{Kind: Watch, Path: "/etc/passwd", Perms: "wa", Keys: []string{"identity"}}},
		{"-k first -p x -w /sbin/insmod", Rule{Kind: Watch, Path: "/sbin/insmod", Perms: "x", Keys: []string{"first"}}},
		{"-w /etc/shadow", Rule{Kind: Watch, Path: "/etc/shadow"}},
		{`-w "/folder with space" -p wa -k path-double-quoted`, Rule{Kind: Watch, Path: "/folder with space", Perms: "wa", Keys: []string{"path-double-quoted"}}},
		{`-w '/folder with space' -p wa`, Rule{Kind: Watch, Path: "/folder with space", Perms: "wa"}},
		{`-w /folder\ with\ space -p r`, Rule{Kind: Watch, Path: "/folder with space", Perms: "r"}},
		{`-w /a\b\\c -p r`, Rule{Kind: Watch, Path: `/a\b\c`, Perms: "r"}},
		{`-w "/a \"q\" \\ \x" -p r`, Rule{Kind: Watch, Path: `/a "q" \ \x`, Perms: "r"}},
		{"\t-w\t/tmp  -p  w\t", Rule{Kind: Watch, Path: "/tmp", Perms: "w"}},
		{"-D", Rule{Kind: DeleteAll}},
		{"-D -k old", Rule{Kind: DeleteAll, Keys: []string{"old"}}},
		{"-b 8192", Rule{Kind: Control, Option: "-b", Value: "8192"}},
		{"--backlog_wait_time 0", Rule{Kind: Control, Option: "--backlog_wait_time", Value: "0"}},
		{"-e 2", Rule{Kind: Control, Option: "-e", Value: "2"}},
		{"--loginuid-immutable", Rule{Kind: Control, Option: "--loginuid-immutable"}},
		{"-i", Rule{Kind: Control, Option: "-i"}},
	} {
		got, err := Parse(tc.line)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.line, got, tc.want)
		}
		back, err := Parse(got.String())
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("String %q of %q reads back as %+v, %v", got.String(), tc.line, back, err)
		}
	}
}

// TestParseErrors: whatever auditctl would refuse on syntax is refused,
// never dropped, and the error says which option.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"", "empty rule"},
		{"   \t", "empty rule"},
		// The Go flag package stopped at a stray word and dropped the
		// rest of the line: the filters and the key would be lost.
		{"-a always,exit -S execve - F auid>=1000 -k x", `"-": a word without an option (quote a value that holds spaces)`},
		{"-a always,exit -S execve oops -F auid>=1000", `"oops": a word without an option`},
		{"-w /folder with space -p wa", `"with": a word without an option`},
		{"-a sometimes,exit -S execve", `-a "sometimes,exit": want LIST,ACTION`},
		{"-a exit", `-a "exit": want LIST,ACTION`},
		{"-a always,exit,task", `-a "always,exit,task": want LIST,ACTION`},
		{"-a always,always", `-a "always,always": want LIST,ACTION`},
		{"-a always,exit -a always,exit", "-a or -A given twice"},
		{"-a always,exit -A always,exit", "-a or -A given twice"},
		{"-S execve -F arch=b64", "a syscall rule needs -a or -A"},
		{"-a always,exit -S", "-S needs a value"},
		{"-a always,exit -S execve,,open", `-S "execve,,open": want syscall names`},
		{"-a always,exit -S exec-ve", `-S "exec-ve": want syscall names`},
		{"-a always,exit -F auid", `-F "auid": want NAME OP VALUE`},
		{"-a always,exit -F auid=", `-F "auid=": want NAME OP VALUE`},
		{"-a always,exit -F =1", `-F "=1": want NAME OP VALUE`},
		{"-a always,exit -F 'auid >= 1000'", `-F "auid >= 1000": want NAME OP VALUE`},
		{"-a always,exit -C auid>obj_uid", `-C "auid>obj_uid": want FIELD=FIELD or FIELD!=FIELD`},
		{"-a always,exit -C auid=1-2", `-C "auid=1-2": want FIELD=FIELD`},
		{"-w", "-w needs a value"},
		{"-w ''", "-w: empty path"},
		{"-w /etc -w /tmp", "-w given twice"},
		{"-w /etc -p", "-p needs a value"},
		{"-w /etc -p rwq", `-p "rwq": want some of r, w, x and a`},
		{"-p wa -k x", "-p needs -w"},
		{"-w /etc -k ''", "-k: empty key"},
		{"-w /etc -k a\x01b", `-k "a\x01b": holds the key separator`},
		{"-k x", "-k alone"},
		{"-w /etc -p wa -F arch=b64", "a syscall rule (-a, -A, -S, -F, -C) and a watch (-w, -p) cannot be on one line"},
		{"-D -w /etc", "a watch (-w, -p) and delete all (-D) cannot be on one line"},
		{"-D -D", "-D given twice"},
		{"-b 8192 -a always,exit", "a syscall rule (-a, -A, -S, -F, -C) and a control option cannot be on one line"},
		{"-b", "-b needs a value"},
		{"-b ''", "-b: empty value"},
		{"-b 1 -f 1", "-f after -b: one control option per line"},
		{"-e 1 -k x", "-e takes no -k"},
		{"-W /etc", `"-W": not an option of a rules file`},
		{"-l", `"-l": not an option of a rules file`},
		{"--reset-lost --reset-lost", "--reset-lost after --reset-lost"},
		{`-w '/etc -p wa`, "a ' is not closed"},
		{`-w "/etc -p wa`, `a " is not closed`},
		{"-w /etc\x00 -p wa", "a NUL byte in the line"},
		{"# a comment", `"#": a word without an option`},
	} {
		_, err := Parse(tc.line)
		if err == nil {
			t.Errorf("Parse(%q) accepted, want %s", tc.line, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q):\n got %v\nwant %s", tc.line, err, tc.want)
		}
	}
}

func TestAccessors(t *testing.T) {
	r, err := Parse("-a always,exit -F arch=b64 -S all -F path=/usr/bin/sudo -F perm=x -F exit=-EACCES -C uid!=euid -k priv -F key=sudo")
	if err != nil {
		t.Fatal(err)
	}
	if r.Arch() != "b64" || r.WatchedPath() != "/usr/bin/sudo" || r.Permissions() != "x" ||
		!r.HasSyscall("chmod") || !r.HasField("exit", "=", "-EACCES") || r.HasField("exit", "=", "-EPERM") ||
		!reflect.DeepEqual(r.AllKeys(), []string{"priv", "sudo"}) {
		t.Errorf("accessors of %+v", r)
	}
	if _, ok := r.Field("uid"); ok {
		t.Error("Field found a -C comparison")
	}
	w, _ := Parse("-w /etc/sudoers.d/ -p wa -k scope")
	if w.Arch() != "" || w.WatchedPath() != "/etc/sudoers.d/" || w.Permissions() != "wa" || w.HasSyscall("open") ||
		!reflect.DeepEqual(w.AllKeys(), []string{"scope"}) {
		t.Errorf("watch accessors of %+v", w)
	}
	d, _ := Parse("-a always,exit -S open -F dir=/etc -F perm=wa")
	if d.WatchedPath() != "/etc" || d.Permissions() != "wa" || !d.HasSyscall("open") || d.HasSyscall("openat") {
		t.Errorf("dir rule accessors of %+v", d)
	}
}

func sharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("LINEAGED_SHARED"); d != "" {
		return d
	}
	d, err := filepath.Abs("../../../shared")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err != nil {
		t.Skipf("shared test material not found at %s (set LINEAGED_SHARED): %v", d, err)
	}
	return d
}

// TestPublicRules: every rule of the deployed rule sets (STIG, PCI-DSS,
// NISPOM, containers, ...) and every line `auditctl -l` printed for them
// (the golden files' flags) parses, and writes back to itself.
func TestPublicRules(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "testdata/public/go-libaudit/rule/testdata")
	files, _ := filepath.Glob(filepath.Join(dir, "*.rules"))
	golden, _ := filepath.Glob(filepath.Join(dir, "*.golden.yml"))
	if len(files) < 10 || len(golden) < 10 {
		t.Fatalf("%d rule files, %d golden files in %s", len(files), len(golden), dir)
	}
	n := 0
	check := func(where, line string) {
		n++
		r, err := Parse(line)
		if err != nil {
			t.Errorf("%s: %q: %v", where, line, err)
			return
		}
		if back, err := Parse(r.String()); err != nil || !reflect.DeepEqual(back, r) {
			t.Errorf("%s: %q writes back as %q: %+v, %v", where, line, r.String(), back, err)
		}
	}
	for _, name := range files {
		eachLine(t, name, func(no int, line string) {
			if line != "" && !strings.HasPrefix(line, "#") {
				check(filepath.Base(name)+":"+strconv.Itoa(no), line)
			}
		})
	}
	for _, name := range append(golden, filepath.Join(dir, "rule_data.yml")) {
		eachLine(t, name, func(no int, line string) {
			if l, ok := strings.CutPrefix(line, "- flags: "); ok {
				check(filepath.Base(name)+":"+strconv.Itoa(no), l)
			}
		})
	}
	if n < 200 {
		t.Errorf("only %d public rules read", n)
	}
}

func eachLine(t *testing.T, name string, fn func(int, string)) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for no := 1; sc.Scan(); no++ {
		fn(no, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
