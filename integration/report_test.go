package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// reportDoc is the part of report.json this test reads.
type reportDoc struct {
	AlertsTotal int `json:"alerts_total"`
	Alerts      []struct {
		ID         string `json:"event_id"`
		RuleID     string `json:"rule_id"`
		Executable string `json:"executable"`
		Tree       *struct {
			Kind string `json:"kind"`
		} `json:"tree"`
	} `json:"alerts"`
	PCI []struct {
		ID    string `json:"id"`
		Count int    `json:"count"`
	} `json:"pci_dss"`
	CIS []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"cis_rhel7"`
	Rules []string `json:"rules_in_force"`
}

// checkScenarioReport is the report part of TestIntegrationDetect: the
// recorded audit.log is replayed (every event, not only alerts) against
// the baseline as learned, `lineaged report` turns that into HTML,
// Markdown and JSON with the rules the live agent had in force, and
// headless Chromium renders the HTML: every scenario's alert must be on
// the page with its process tree drawn, and the PCI DSS and CIS sections
// with it. The report and a screenshot stay in integration/out.
func checkScenarioReport(t *testing.T, dir, baseline string, alogs []string, liveOut string, scratchOf map[string]string) {
	t.Helper()
	replayed := filepath.Join(dir, "replay.jsonl")
	cmd := exec.Command(lineagedBin, append([]string{"replay", "--host", "it", "--baseline", baseline, "--run-id", "rp", "--output", replayed}, alogs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	// The rules in force: the live agent's settings event says them (a
	// replay's output has no such event).
	var rules []string
	for _, e := range readEvents(t, liveOut) {
		if str(e, "event.action") == "settings" {
			rules = nil
			for _, r := range get(e, "lineaged.config.rules").([]any) {
				rules = append(rules, r.(string))
			}
		}
	}
	if len(rules) == 0 {
		t.Fatal("the live run's settings event lists no audit rules")
	}
	rulesFile := filepath.Join(dir, "rules.txt")
	os.WriteFile(rulesFile, []byte(strings.Join(rules, "\n")+"\n"), 0o600)

	outDir := testOut(t, "report-scenarios")
	os.RemoveAll(outDir)
	cmd = exec.Command(lineagedBin, "report", "--format", "html,md,json", "--rules", rulesFile,
		"--title", "lineaged scenario suite (replayed)", "--out", outDir, replayed)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	t.Logf("report: %s", strings.TrimSpace(string(out)))

	var rep reportDoc
	data, err := os.ReadFile(filepath.Join(outDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.AlertsTotal == 0 || len(rep.Alerts) != rep.AlertsTotal {
		t.Fatalf("report lists %d of %d alerts", len(rep.Alerts), rep.AlertsTotal)
	}
	for _, a := range rep.Alerts {
		if a.Tree == nil {
			t.Errorf("alert %s (%s) has no tree", a.ID, a.RuleID)
		}
	}
	if len(rep.Rules) != len(rules) {
		t.Errorf("report has %d rules in force, want %d", len(rep.Rules), len(rules))
	}

	// What Chromium renders.
	html := filepath.Join(outDir, "report.html")
	dom := browse(t, "file://"+html, 2*time.Second, testOut(t, "report-scenarios.png"), 1280, 3000)
	for _, s := range scenarios {
		scratch := scratchOf[s.script]
		var id, exe string
		for _, a := range rep.Alerts {
			m := map[string]any{"event": map[string]any{"kind": "alert"}, "rule": map[string]any{"id": a.RuleID},
				"process": map[string]any{"executable": a.Executable}}
			if s.matches(m, scratch) {
				id, exe = a.ID, a.Executable
				break
			}
		}
		if id == "" {
			t.Errorf("%s: no %s alert in the report", s.script, s.rule)
			continue
		}
		svg := regexp.MustCompile(`(?s)<svg class="tree" data-alert="` + regexp.QuoteMeta(id) + `".*?</svg>`).FindString(dom)
		if svg == "" {
			t.Errorf("%s: the page has no tree for alert %s", s.script, id)
			continue
		}
		focus := regexp.MustCompile(`(?s)<g class="node process[^"]*focus"[^>]*>.*?</g>`).FindString(svg)
		label := path.Base(exe)
		if len([]rune(label)) > 24 {
			label = string([]rune(label)[:23])
		}
		if focus == "" || !strings.Contains(focus, ">"+label) {
			t.Errorf("%s: alert %s's tree does not show its process %s as the focus: %.300s", s.script, id, label, focus)
		}
		if strings.Count(svg, `<g class="node process`) < 2 {
			t.Errorf("%s: alert %s's tree has no ancestor", s.script, id)
		}
	}
	for _, id := range []string{"pci-10.2.1", "pci-10.2.1.1", "pci-10.2.1.2", "pci-10.2.1.3", "pci-10.2.1.4", "pci-10.2.1.5",
		"pci-10.2.1.6", "pci-10.2.1.7", "pci-10.2.2", "cis-4.1.3", "cis-4.1.4", "cis-4.1.16", "cis-4.1.17"} {
		if !strings.Contains(dom, `id="`+id+`"`) {
			t.Errorf("the rendered report has no section %s", id)
		}
	}
	for _, c := range rep.CIS {
		// The built-in rules watch the identity files and sudoers.
		if (c.ID == "4.1.14") && c.Status != "covered" {
			t.Errorf("CIS %s = %s with lineaged's built-in rules, want covered", c.ID, c.Status)
		}
	}
	for _, p := range rep.PCI {
		if p.ID == "10.2.1.5" && p.Count == 0 {
			t.Error("PCI 10.2.1.5 found no evidence, but account-create.sh ran useradd")
		}
	}
}
