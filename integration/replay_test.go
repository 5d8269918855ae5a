package integration

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// runReplay runs lineaged replay with args and returns the decoded output
// lines and standard error.
func runReplay(t *testing.T, stdin []byte, args ...string) ([]map[string]any, string) {
	t.Helper()
	cmd := exec.Command(lineagedBin, append([]string{"replay", "--host", "it"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("lineaged replay %v: %v\n%s", args, err, errb.String())
	}
	var evs []map[string]any
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !utf8.Valid(line) {
			t.Fatalf("output line is not valid UTF-8: %q", line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("output line is not JSON: %v: %s", err, line)
		}
		checkECS(t, line)
		evs = append(evs, m)
	}
	return evs, errb.String()
}

// get walks a dotted path through decoded JSON.
func get(m any, path string) any {
	for _, k := range strings.Split(path, ".") {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

// ancestry is an event's lineaged.ancestry, nearest parent first, with
// the parent's members (which compact and ids modes write only in
// process.parent) filled in from process.parent.
func ancestry(e any) []any {
	anc, _ := get(e, "lineaged.ancestry").([]any)
	if len(anc) == 0 {
		return anc
	}
	out := append([]any(nil), anc...)
	first, _ := anc[0].(map[string]any)
	parent, _ := get(e, "process.parent").(map[string]any)
	if first != nil && parent != nil && first["entity_id"] == parent["entity_id"] {
		m := map[string]any{}
		for k, v := range parent {
			m[k] = v
		}
		for k, v := range first {
			m[k] = v
		}
		out[0] = m
	}
	return out
}

func str(m any, path string) string {
	s, _ := get(m, path).(string)
	return s
}

// TestIntegrationReplayPublicLogs: every public log replays with exit 0,
// every line is valid JSON with a unique event.id, and the summary event
// accounts for every line.
func TestIntegrationReplayPublicLogs(t *testing.T) {
	root := sharedDir(t)
	var logs []string
	for _, g := range []string{
		"testdata/public/go-libaudit/auparse/testdata/*.log",
		"testdata/public/go-libaudit/testdata/*.log",
		"testdata/public/audit-userspace/auparse/test/*",
	} {
		m, _ := filepath.Glob(filepath.Join(root, g))
		logs = append(logs, m...)
	}
	if len(logs) < 10 {
		t.Fatalf("only %d logs found", len(logs))
	}
	for _, log := range logs {
		t.Run(filepath.Base(log), func(t *testing.T) {
			evs, stderr := runReplay(t, nil, log)
			if len(evs) < 2 {
				t.Fatalf("%d events; stderr: %s", len(evs), stderr)
			}
			ids := map[string]bool{}
			for _, e := range evs {
				id := str(e, "event.id")
				if id == "" || ids[id] {
					t.Fatalf("missing or duplicate event.id %q", id)
				}
				ids[id] = true
				if str(e, "@timestamp") == "" || str(e, "event.action") == "" {
					t.Fatalf("event without @timestamp or action: %v", e)
				}
			}
			sum := evs[len(evs)-1]
			if str(sum, "event.action") != "replay-summary" {
				t.Fatalf("last event is not the summary: %v", sum)
			}
			data, _ := os.ReadFile(log)
			nonblank := 0
			for _, l := range strings.Split(string(data), "\n") {
				if strings.TrimSpace(l) != "" {
					nonblank++
				}
			}
			if got := str(sum, "labels.lines"); got == "" {
				t.Errorf("summary without line count: %v", sum)
			}
			// Every event is written, and every alert the detections
			// raised (no baseline: the rules that need none) beside them.
			if str(sum, "labels.events") == "" || len(evs)-1 != atoi(str(sum, "labels.events"))+atoi(str(sum, "labels.alerts"))+atoi(str(sum, "labels.alert_repeats")) {
				t.Errorf("summary says %s events, %s alerts and %s repeats, %d written", str(sum, "labels.events"), str(sum, "labels.alerts"), str(sum, "labels.alert_repeats"), len(evs)-1)
			}
			if recs, bad := atoi(str(sum, "labels.records")), atoi(str(sum, "labels.malformed_lines")); recs+bad != nonblank {
				t.Errorf("records %d + malformed %d != %d non-blank lines", recs, bad, nonblank)
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestIntegrationReplayRecordedLineage: on the recorded benign log, ≥ 95 %
// of EXECVE records come out as exec events with executable and args, and
// ≥ 75 % of those name their parent's executable in process.ancestry.
// Reading it gzip-compressed from standard input also covers both paths.
func TestIntegrationReplayRecordedLineage(t *testing.T) {
	raw, err := exec.Command("xz", "-dc", filepath.Join(sharedDir(t), "testdata/recorded/devbox.log.xz")).Output()
	if err != nil {
		t.Fatalf("xz: %v", err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	evs, _ := runReplay(t, gz.Bytes(), "-")
	execveRecords := bytes.Count(raw, []byte("type=EXECVE "))
	withExeArgs, withParentExe := 0, 0
	chains := map[string]bool{}
	for _, e := range evs {
		if str(e, "event.action") != "executed" || str(e, "event.outcome") != "success" {
			continue
		}
		args, _ := get(e, "process.args").([]any)
		if str(e, "process.executable") == "" || len(args) == 0 {
			continue
		}
		withExeArgs++
		anc := ancestry(e)
		if len(anc) > 0 && str(anc[0], "executable") != "" {
			withParentExe++
			chains[filepath.Base(str(anc[0], "executable"))+">"+filepath.Base(str(e, "process.executable"))] = true
		}
		for _, a := range anc {
			if get(a, "unknown") == true && str(a, "executable") != "" {
				t.Fatalf("an unknown ancestor carries an executable: %v", a)
			}
		}
	}
	t.Logf("%d EXECVE records, %d exec events with executable+args, %d with the parent's executable", execveRecords, withExeArgs, withParentExe)
	if withExeArgs*100 < execveRecords*95 {
		t.Errorf("only %d of %d EXECVE records became exec events with executable and args", withExeArgs, execveRecords)
	}
	if withParentExe*100 < withExeArgs*75 {
		t.Errorf("only %d of %d exec events name their parent's executable", withParentExe, withExeArgs)
	}
	// The workload's known lineages (README of the recording): make → cc
	// (gcc) → cc1/as/collect2 → ld, git → git, bash → curl.
	for _, c := range [][2]string{{"make", "gcc"}, {"gcc", "cc1"}, {"gcc", "-as"}, {"collect2", "ld"}, {"git", "git"}, {"bash", "curl"}} {
		found := false
		for k := range chains {
			p, ch, _ := strings.Cut(k, ">")
			if strings.Contains(p, c[0]) && strings.Contains(ch, c[1]) {
				found = true
			}
		}
		if !found {
			t.Errorf("no exec event shows the lineage %s → %s", c[0], c[1])
		}
	}
}

// TestIntegrationReplayMalformedLines: bad lines inside a real log are
// counted and reported with file:line; everything else is processed.
func TestIntegrationReplayMalformedLines(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(sharedDir(t), "testdata/public/go-libaudit/auparse/testdata/audit-rhel7.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(src), "\n"), "\n")
	bad := []string{"this is not audit", "type=SYSCALL msg=audit(garbage", "\xff\xfe binary \x00 junk"}
	var mixed []string
	mixed = append(mixed, lines[:5]...)
	mixed = append(mixed, bad[0])
	mixed = append(mixed, lines[5:10]...)
	mixed = append(mixed, bad[1], bad[2])
	mixed = append(mixed, lines[10:]...)
	path := filepath.Join(t.TempDir(), "mixed.log")
	if err := os.WriteFile(path, []byte(strings.Join(mixed, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clean, _ := runReplay(t, nil, filepath.Join(sharedDir(t), "testdata/public/go-libaudit/auparse/testdata/audit-rhel7.log"))
	evs, stderr := runReplay(t, nil, path)
	for _, want := range []string{"mixed.log:6:", "mixed.log:12:", "mixed.log:13:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not report %s:\n%s", want, stderr)
		}
	}
	sum := evs[len(evs)-1]
	cleanBad := atoi(str(clean[len(clean)-1], "labels.malformed_lines"))
	if atoi(str(sum, "labels.malformed_lines")) != cleanBad+3 || !strings.Contains(str(sum, "message"), "mixed.log:12") {
		t.Errorf("summary event: %v", sum)
	}
	if str(sum, "event.outcome") != "failure" {
		t.Errorf("summary outcome %q with malformed lines", str(sum, "event.outcome"))
	}
	if len(evs) != len(clean) {
		t.Errorf("%d events with bad lines mixed in, %d without: good lines were lost", len(evs), len(clean))
	}
}

// TestIntegrationReplayNodePrefixAndOutputFile: node= prefixes name the
// host; --output writes a file; version prints.
func TestIntegrationReplayNodePrefixAndOutputFile(t *testing.T) {
	log := "node=web1 type=SYSCALL msg=audit(1700000000.000:10): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=100 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm=\"sh\" exe=\"/bin/sh\" key=\"exec\"\n" +
		"node=web1 type=EXECVE msg=audit(1700000000.000:10): argc=1 a0=\"sh\"\n" +
		"node=web1 type=PROCTITLE msg=audit(1700000000.000:10): proctitle=\"sh\"\n" +
		"node=db1 type=SYSCALL msg=audit(1700000000.001:11): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=100 pid=101 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=1 comm=\"id\" exe=\"/usr/bin/id\" key=\"exec\"\n" +
		"node=db1 type=EXECVE msg=audit(1700000000.001:11): argc=1 a0=\"id\"\n" +
		"node=db1 type=PROCTITLE msg=audit(1700000000.001:11): proctitle=\"id\"\n"
	out := filepath.Join(t.TempDir(), "events.jsonl")
	cmd := exec.Command(lineagedBin, "replay", "--output", out, "-")
	cmd.Stdin = strings.NewReader(log)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %s", len(lines), data)
	}
	var a, b map[string]any
	json.Unmarshal([]byte(lines[0]), &a)
	json.Unmarshal([]byte(lines[1]), &b)
	if str(a, "host.name") != "web1" || str(b, "host.name") != "db1" {
		t.Errorf("hosts %q %q", str(a, "host.name"), str(b, "host.name"))
	}
	// pid 100 on web1 is not the parent of pid 101 on db1: other host.
	anc := ancestry(b)
	if len(anc) != 1 || get(anc[0], "unknown") != true {
		t.Errorf("db1's process got ancestry from another host: %v", anc)
	}
	v, err := exec.Command(lineagedBin, "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "lineaged ") {
		t.Errorf("version: %q %v", v, err)
	}
}

// TestIntegrationReplayProgress: with --progress always, a large input
// shows a progress bar on standard error, and the bar is erased at the end.
func TestIntegrationReplayProgress(t *testing.T) {
	raw, err := exec.Command("xz", "-dc", filepath.Join(sharedDir(t), "testdata/recorded/devbox.log.xz")).Output()
	if err != nil {
		t.Fatalf("xz: %v", err)
	}
	path := filepath.Join(t.TempDir(), "big.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ { // ~25 MB, well past the 4 MiB progress step
		f.Write(raw)
	}
	f.Close()
	cmd := exec.Command(lineagedBin, "replay", "--progress", "always", "--output", os.DevNull, path)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	s := errb.String()
	if !strings.Contains(s, "\r[#") || !strings.Contains(s, "%") || !strings.Contains(s, "MiB/s") {
		t.Errorf("no progress bar on stderr: %q", s)
	}
	if !strings.Contains(s, "\r\033[K") {
		t.Errorf("progress bar not erased at the end: %q", s)
	}
	// Without a terminal, auto mode draws nothing.
	cmd = exec.Command(lineagedBin, "replay", "--output", os.DevNull, path)
	errb.Reset()
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errb.String(), "\r[") {
		t.Errorf("progress bar drawn on a non-terminal: %q", errb.String())
	}
}

// TestIntegrationReplayRotatedFilesNewestFirst: `replay audit.log
// audit.log.1` (the shell's order, newest first) gives the same events as
// the log in one piece: inputs are replayed in time order.
func TestIntegrationReplayRotatedFilesNewestFirst(t *testing.T) {
	raw, err := exec.Command("xz", "-dc", filepath.Join(sharedDir(t), "testdata/recorded/devbox.log.xz")).Output()
	if err != nil {
		t.Fatalf("xz: %v", err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	dir := t.TempDir()
	older, newer := filepath.Join(dir, "audit.log.1"), filepath.Join(dir, "audit.log")
	os.WriteFile(older, []byte(strings.Join(lines[:12000], "")), 0o600)
	os.WriteFile(newer, []byte(strings.Join(lines[12000:], "")), 0o600)
	whole, _ := runReplay(t, raw, "-")
	split, stderr := runReplay(t, nil, newer, older)
	if !strings.Contains(stderr, "replaying in time order: "+older+", "+newer) {
		t.Errorf("no reorder notice: %s", stderr)
	}
	if len(whole) != len(split) {
		t.Errorf("%d events from the whole log, %d from its rotated parts", len(whole), len(split))
	}
	count := func(evs []map[string]any) (execs, withParent int) {
		for _, e := range evs {
			if str(e, "event.action") == "executed" {
				execs++
				if anc := ancestry(e); len(anc) > 0 && str(anc[0], "executable") != "" {
					withParent++
				}
			}
		}
		return
	}
	we, wp := count(whole)
	se, sp := count(split)
	if we != se || wp != sp {
		t.Errorf("execs %d/%d with parent, rotated parts %d/%d", we, wp, se, sp)
	}
}
