package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/elastic/go-libaudit/v2/rule"
	"github.com/elastic/go-libaudit/v2/rule/flags"
	"go.yaml.in/yaml/v3"
)

// TestLoadPublicRuleSets: the deployed rule sets (STIG, PCI-DSS, NISPOM,
// containers, injection, module load, networking, ...) load, and each rule
// builds to the same wire bytes go-libaudit builds for the same line.
func TestLoadPublicRuleSets(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "testdata/public/go-libaudit/rule/testdata")
	files, err := RuleFiles(dir)
	if err != nil || len(files) < 10 {
		t.Fatalf("%d rule files, %v", len(files), err)
	}
	total := 0
	for _, f := range files {
		if strings.Contains(f, "70-einval") {
			continue // rules the kernel refuses: parse-level only below
		}
		rs, err := LoadRuleFiles([]string{f})
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		for _, r := range rs.Rules {
			pr, err := flags.Parse(r.Text)
			if err != nil {
				t.Fatal(err)
			}
			want, err := rule.Build(pr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, r.Wire) {
				t.Errorf("%s: wire differs", r.File)
			}
		}
		total += len(rs.Rules)
	}
	if total < 100 {
		t.Errorf("only %d rules loaded from the public sets", total)
	}
	t.Logf("%d rules from %d files", total, len(files))
}

// TestRulesAsAuditctlListsThem: each line `auditctl -l` printed for the
// public rule sets (the golden files, recorded on x86_64 with kernel
// 5.13) builds to the bytes the kernel itself returned for it. These are
// the lines the report reads back from the settings event, so both
// readers of the syntax are held to the kernel here. Watches (-w) are
// left out: building one looks at the filesystem.
func TestRulesAsAuditctlListsThem(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the golden rules were recorded on x86_64")
	}
	files, _ := filepath.Glob(filepath.Join(sharedDir(t), "testdata/public/go-libaudit/rule/testdata/*.rules.golden.yml"))
	if len(files) < 10 {
		t.Fatalf("%d golden files", len(files))
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var golden struct {
			Rules []struct {
				Flags string `yaml:"flags"`
				Bytes string `yaml:"bytes"` // !!binary, decoded
			} `yaml:"rules"`
		}
		if err := yaml.Unmarshal(data, &golden); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range golden.Rules {
			if strings.HasPrefix(g.Flags, "-w ") {
				continue
			}
			rs, err := ParseRules(filepath.Base(f), strings.NewReader(g.Flags))
			if err != nil || len(rs.Rules) != 1 {
				t.Errorf("%s: %q: %v (%d rules, skipped %v)", filepath.Base(f), g.Flags, err, len(rs.Rules), rs.Skipped)
				continue
			}
			if !bytes.Equal(rs.Rules[0].Wire, []byte(g.Bytes)) {
				t.Errorf("%s: %q: wire differs from the kernel's", filepath.Base(f), g.Flags)
			}
			n++
		}
	}
	if n < 80 {
		t.Errorf("only %d golden rules checked", n)
	}
	t.Logf("%d rules as auditctl -l printed them", n)
}

// TestRuleStrayWordRefused: a word that belongs to no option fails the
// load. go-libaudit's reader (the Go flag package) stopped there and
// loaded the rule without the rest of the line: here without the auid
// filter and the key, a rule far wider than the one written.
func TestRuleStrayWordRefused(t *testing.T) {
	for _, line := range []string{
		"-a always,exit -F arch=b64 -S execve - F auid>=1000 -k exec",
		"-a always,exit -F arch=b64 -S execve oops -F auid>=1000 -k exec",
		"-w /etc/passwd -p wa -k identity extra",
	} {
		if _, err := flags.Parse(line); err != nil {
			t.Errorf("%q: go-libaudit now refuses it too (%v): this test's premise changed", line, err)
		}
		_, err := ParseRules("10-x.rules", strings.NewReader(line+"\n"))
		if err == nil || !strings.Contains(err.Error(), "10-x.rules:1:") || !strings.Contains(err.Error(), "without an option") {
			t.Errorf("%q: %v", line, err)
		}
	}
}

func TestRuleControlLines(t *testing.T) {
	text := `# comment
-D
-b 8192
-f 1
-r 100
--backlog_wait_time 0
-a always,exit -F arch=b64 -S execve -k exec
-w /etc/passwd -p wa -k identity
-e 1
`
	rs, err := ParseRules("10-test.rules", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if !rs.DeleteAll || *rs.BacklogLimit != 8192 || *rs.Failure != 1 || *rs.RateLimit != 100 || *rs.BacklogWaitTime != 0 || *rs.Enabled != 1 {
		t.Errorf("controls %+v", rs)
	}
	if len(rs.Rules) != 2 || rs.Rules[1].File != "10-test.rules:8" {
		t.Errorf("rules %+v", rs.Rules)
	}
}

func TestRuleErrorsNameFileAndLine(t *testing.T) {
	// A syscall the architecture does not have is skipped with the reason
	// (shared rule sets name b32-only calls), never silently.
	rs, err := ParseRules("98-arch.rules", strings.NewReader("-a always,exit -S nosuchcall_xyz -F arch=b64 -k x\n"))
	if err != nil || len(rs.Skipped) != 1 || !strings.Contains(rs.Skipped[0].Error(), "98-arch.rules:1:") {
		t.Errorf("unknown syscall: err %v skipped %v", err, rs.Skipped)
	}
	for _, bad := range []string{"-f 7", "-w", "-b lots", "-a sometimes,exit -S execve", "-D -k old", "-b 1 -f 1", "-e 3",
		"-a always,exit -F arch=b64 -S execve -F nosuchfield=1", "-a always,filesystem -F fstype=debugfs"} {
		_, err := ParseRules("99-bad.rules", strings.NewReader("-D\n"+bad+"\n"))
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), "99-bad.rules:2:") {
			t.Errorf("%q: error %q does not name file:line", bad, err)
		}
	}
}

func TestRuleFilesAugenrulesOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"99-finalize.rules", "10-base.rules", "30-stig.rules", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, n), []byte("-a always,exit -F arch=b64 -S execve -k "+strings.TrimSuffix(n, ".rules")+"\n"), 0o600)
	}
	files, _ := RuleFiles(dir)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if strings.Join(names, ",") != "10-base.rules,30-stig.rules,99-finalize.rules" {
		t.Errorf("order %v", names)
	}
}

func TestRuleFileWritableByOthersRefused(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "10-base.rules")
	os.WriteFile(f, []byte("-a always,exit -F arch=b64 -S execve -k x\n"), 0o600)
	if err := os.Chmod(f, 0o646); err != nil {
		t.Fatal(err)
	}
	_, err := LoadRuleFiles([]string{f})
	if err == nil || !strings.Contains(err.Error(), "writable by others") || !strings.Contains(err.Error(), f) {
		t.Fatalf("a world-writable rule file: %v", err)
	}
	os.Chmod(f, 0o644)
	if _, err := LoadRuleFiles([]string{f}); err != nil {
		t.Fatalf("after chmod o-w: %v", err)
	}
}

// TestDefaultRules: the built-in set loads on this build, covers execve,
// network, identity, modules and both ABIs, and watches the persistence
// and credential paths.
func TestDefaultRules(t *testing.T) {
	rs, err := ParseRules("default.rules", strings.NewReader(DefaultRules))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Skipped) != 0 {
		t.Errorf("built-in rules skipped: %v", rs.Skipped)
	}
	var b32, b64 int
	text := ""
	for _, r := range rs.Rules {
		text += r.Text + "\n"
		if strings.Contains(r.Text, "arch=b32") {
			b32++
		}
		if strings.Contains(r.Text, "arch=b64") {
			b64++
		}
	}
	if b32 == 0 || b32 != b64 {
		t.Errorf("b32 rules %d, b64 rules %d: every syscall rule needs both", b32, b64)
	}
	for _, want := range []string{"execve", "connect", "setuid", "init_module", "/etc/shadow", "/etc/ld.so.preload", "/var/spool/cron", "/root/.ssh"} {
		if !strings.Contains(text, want) {
			t.Errorf("built-in rules lack %s", want)
		}
	}
}

// FuzzParseRules: any rules text is parsed or refused with file:line,
// never a panic.
func FuzzParseRules(f *testing.F) {
	f.Add(DefaultRules)
	f.Add("-D\n-b 8192\n-e 2\n--backlog_wait_time 0\n-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=unset -k x\n")
	f.Add("-w '/path with space' -p wa -k k\n-a exit,always -F dir=/etc -F perm=wa\n")
	f.Fuzz(func(t *testing.T, text string) {
		rs, err := ParseRules("f.rules", strings.NewReader(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.rules:") {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		for _, r := range rs.Rules {
			if len(r.Wire) == 0 || !strings.HasPrefix(r.File, "f.rules:") {
				t.Fatalf("bad rule %+v", r)
			}
		}
	})
}

// TestDefaultRuleSetConnector: with the proc connector running the
// built-in set leaves out exactly its exit_group rules (the connector
// reports exits), and keeps everything else.
func TestDefaultRuleSetConnector(t *testing.T) {
	all, err := DefaultRuleSet(false)
	if err != nil {
		t.Fatal(err)
	}
	with, err := DefaultRuleSet(true)
	if err != nil {
		t.Fatal(err)
	}
	exits := 0
	for _, r := range all.Rules {
		if strings.Contains(r.Text, "exit_group") {
			exits++
		}
	}
	if exits != 2 || len(with.Rules) != len(all.Rules)-exits {
		t.Fatalf("%d rules, %d exit_group; with the connector %d", len(all.Rules), exits, len(with.Rules))
	}
	for _, r := range with.Rules {
		if strings.Contains(r.Text, "exit_group") {
			t.Errorf("with the connector: %s", r.Text)
		}
	}
}
