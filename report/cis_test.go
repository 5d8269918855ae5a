package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestCISReadsAuditctlListing: the rules in force reach the report as
// auditctl -l prints them (the settings event), which is not how the
// rule files write them (-F key= for -k, the action first, -S all made
// explicit). The CIS items that rest on syscall rules come out the same
// from a public rule set and from auditctl's listing of it, recorded in
// the golden files (whose watch paths were moved under /tmp/audit-test,
// so the items on watches are left out).
func TestCISReadsAuditctlListing(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "testdata", "public", "go-libaudit", "rule", "testdata")
	for _, name := range []string{"30-stig.rules", "30-pci-dss-v31.rules", "30-nispom.rules"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Skip(err)
		}
		var file []string
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				file = append(file, l)
			}
		}
		data, err = os.ReadFile(filepath.Join(dir, name+".golden.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var golden struct {
			Rules []struct {
				Flags string `yaml:"flags"`
			} `yaml:"rules"`
		}
		if err := yaml.Unmarshal(data, &golden); err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, r := range golden.Rules {
			listed = append(listed, r.Flags)
		}
		if len(parseRules(listed)) != len(parseRules(file)) {
			t.Errorf("%s: %d rules read from the file, %d from auditctl's listing", name, len(parseRules(file)), len(parseRules(listed)))
		}
		fromFile := map[string]*CISItem{}
		for _, it := range evaluateCIS(file, "", nil, nil, nil) {
			fromFile[it.ID] = it
		}
		for _, it := range evaluateCIS(listed, "", nil, nil, nil) {
			switch it.ID {
			case "4.1.9", "4.1.10", "4.1.12", "4.1.13":
			default:
				continue
			}
			if f := fromFile[it.ID]; f.Status != it.Status || len(f.Met) != len(it.Met) {
				t.Errorf("%s: CIS %s from the file: %s %v\nfrom auditctl -l: %s %v", name, it.ID, f.Status, f.Missing, it.Status, it.Missing)
			}
		}
	}
}

// TestCISPathRuleIsNoSyscallRule: a rule on one path audits the
// syscalls made on that path, not the syscall everywhere. auditctl -l
// prints the privileged-command rules with -S all, which must not make
// the chmod, mount or unlink items covered.
func TestCISPathRuleIsNoSyscallRule(t *testing.T) {
	rules := []string{
		"-a always,exit -S all -F path=/usr/bin/passwd -F perm=x -F auid>=1000 -F auid!=-1 -F key=privileged-passwd",
		"-a always,exit -F arch=b64 -S all -F dir=/etc/ssh -F perm=wa -F key=sshd",
	}
	status := map[string]*CISItem{}
	for _, it := range evaluateCIS(rules, "", nil, nil, nil) {
		status[it.ID] = it
	}
	for _, id := range []string{"4.1.3", "4.1.9", "4.1.10", "4.1.12", "4.1.13"} {
		if it := status[id]; it.Status != "missing" {
			t.Errorf("CIS %s = %s by %v, want missing: path rules audit no syscall at large", id, it.Status, it.Met)
		}
	}
	if it := status["4.1.11"]; it.Status != "partial" || len(it.Met) != 1 || it.Met[0] != "/usr/bin/passwd" {
		t.Errorf("CIS 4.1.11 = %+v, want partial by the passwd rule", it)
	}
	// The same syscalls on every path do count.
	all := evaluateCIS([]string{"-a always,exit -S all -F key=everything"}, "", nil, nil, nil)
	for _, it := range all {
		if it.ID == "4.1.12" && it.Status != "covered" {
			t.Errorf("-S all without a path: 4.1.12 = %s", it.Status)
		}
	}
}
