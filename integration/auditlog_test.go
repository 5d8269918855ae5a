package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/auditlog"
)

// alogRun runs one of auditd's tools and returns stdout, stderr and the
// exit code (ausearch exits 1 with "<no matches>" when nothing matched).
func alogRun(t *testing.T, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

func alogWrite(t *testing.T, path string, lines []string) {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func alogLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// alogTypeCounts reads aureport -e --summary: "COUNT  TYPE" lines.
func alogTypeCounts(out string) map[int]int {
	m := map[int]int{}
	for _, l := range alogLines(out) {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		n, err1 := strconv.Atoi(f[0])
		typ, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil {
			m[typ] = n
		}
	}
	return m
}

func alogIsDaemon(line string) bool {
	return strings.HasPrefix(line, "type=DAEMON_") || strings.Contains(line, " type=DAEMON_")
}

// alogNoDaemon drops the daemons' own records and the ENRICHED part
// (after 0x1D) of each line.
func alogNoDaemon(lines []string) []string {
	var out []string
	for _, l := range lines {
		if i := strings.IndexByte(l, 0x1d); i >= 0 {
			l = l[:i]
		}
		if !alogIsDaemon(l) {
			out = append(out, l)
		}
	}
	return out
}

// TestIntegrationAuditLogRecordedThroughAusearch writes the kernel records
// of a real auditd log (shared/testdata/recorded, recorded by Debian's
// auditd 3.0.9) through auditlog.Writer, with a small MaxFileSize so the
// log rotates a dozen times and one forced rotation in the middle, then
// asks Debian's own ausearch and aureport about the result and about the
// original log:
//
//   - the kernel records come out byte for byte as auditd wrote them
//     (the original's lines without their ENRICHED part);
//   - ausearch --format raw finds the same records, ausearch -k KEY -i
//     gives the same output for every key of the rules, aureport's
//     summary, executable, key and file summaries are identical once the
//     daemons' own records are set aside, and with them differ only by
//     those records;
//   - ausearch reads our DAEMON_START/ROTATE/END without a complaint;
//   - each rotated file is readable on its own (ausearch -if audit.log.N
//     finds every record in it, without errors).
func TestIntegrationAuditLogRecordedThroughAusearch(t *testing.T) {
	for _, tool := range []string{"ausearch", "aureport", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install auditd xz-utils)", tool)
		}
	}
	src := filepath.Join(sharedDir(t), "testdata/recorded/devbox.log.xz")
	raw, err := exec.Command("xz", "-dc", src).Output()
	if err != nil {
		t.Fatalf("xz -dc %s: %v", src, err)
	}
	dir := t.TempDir()
	orig := filepath.Join(dir, "original.log")
	if err := os.WriteFile(orig, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	// The kernel's records: every line but auditd's own DAEMON_* records,
	// split into the netlink type and payload the kernel sent.
	type rec struct {
		typ     uint16
		payload string
		t       time.Time
	}
	var recs []rec
	origAll := alogLines(string(raw))
	kernelLines := alogNoDaemon(origAll)
	origDaemon := len(origAll) - len(kernelLines)
	var r audit.Record
	for _, l := range kernelLines {
		if err := r.Parse([]byte(l)); err != nil || r.Type == 0 {
			t.Fatalf("recorded line %q: type %d, %v", l, r.Type, err)
		}
		_, payload, ok := strings.Cut(l, " msg=")
		if !ok {
			t.Fatalf("no msg= in %q", l)
		}
		recs = append(recs, rec{r.Type, payload, time.UnixMilli(r.TimeMsec())})
	}
	if len(recs) < 10000 || origDaemon != 1 {
		t.Fatalf("recorded log: %d kernel records, %d daemon records", len(recs), origDaemon)
	}

	// Write them. The clock follows the records, so the daemon records
	// fall inside the log's time range.
	now := recs[0].t
	logPath := filepath.Join(dir, "var", "log", "lineaged", "audit.log")
	w, err := auditlog.Open(auditlog.Config{
		Path: logPath, MaxFileSize: 384 << 10, NumLogs: 99, FlushEvery: 50 * time.Millisecond,
		Now: func() time.Time { return now }, TypeName: audit.TypeName,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, rc := range recs {
		now = rc.t
		if i == len(recs)/2 {
			if err := w.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Write(rc.typ, []byte(rc.payload)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Records != uint64(len(recs)) || st.WriteErrors != 0 || st.Dropped != 0 || st.Rotations < 10 {
		t.Fatalf("stats %+v", st)
	}

	// Files: audit.log, audit.log.1 ... audit.log.N, no gap, the rotated
	// ones read-only as auditd leaves them.
	files := []string{logPath}
	for i := 1; ; i++ {
		f := logPath + "." + strconv.Itoa(i)
		if _, err := os.Stat(f); err != nil {
			break
		}
		files = append(files, f)
	}
	if uint64(len(files)) != st.Rotations+1 {
		t.Fatalf("%d files for %d rotations", len(files), st.Rotations)
	}
	if all, _ := filepath.Glob(logPath + "*"); len(all) != len(files) {
		t.Fatalf("files %v", all)
	}
	for i, f := range files {
		fi, _ := os.Stat(f)
		want := os.FileMode(0o400)
		if i == 0 {
			want = 0o600
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %o, want %o", f, fi.Mode().Perm(), want)
		}
	}

	// Oldest first, as the records were written.
	var ours []string
	var daemons []string
	for i := len(files) - 1; i >= 0; i-- {
		b, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		ls := alogLines(string(b))
		for j, l := range ls {
			if alogIsDaemon(l) {
				daemons = append(daemons, fmt.Sprintf("%s line %d: %s", filepath.Base(files[i]), j+1, l))
			}
		}
		ours = append(ours, ls...)
	}
	oursPath := filepath.Join(dir, "ours-all.log")
	alogWrite(t, oursPath, ours)

	// 1. Byte for byte what auditd wrote, records in the same order.
	oursKernel := alogNoDaemon(ours)
	if len(oursKernel) != len(kernelLines) {
		t.Fatalf("%d kernel records written, %d recorded", len(oursKernel), len(kernelLines))
	}
	for i := range kernelLines {
		if oursKernel[i] != kernelLines[i] {
			t.Fatalf("record %d:\n ours   %q\n auditd %q", i, oursKernel[i], kernelLines[i])
		}
	}

	// 2. Our daemon records: DAEMON_START opens the oldest file,
	// DAEMON_ROTATE opens the file begun by Rotate, DAEMON_END closes the
	// newest; size rotations add none.
	dre := regexp.MustCompile(`^(audit\.log(?:\.\d+)?) line (\d+): type=(DAEMON_\w+) msg=audit\(\d+\.\d{3}:\d+\): op=(\S+) `)
	var shape []string
	for _, d := range daemons {
		m := dre.FindStringSubmatch(d)
		if m == nil {
			t.Fatalf("daemon record %q", d)
		}
		shape = append(shape, m[3]+"/"+m[4]+"@line"+m[2])
	}
	if len(shape) != 3 || shape[0] != "DAEMON_START/start@line1" || shape[1] != "DAEMON_ROTATE/rotate-logs@line1" ||
		!strings.HasPrefix(shape[2], "DAEMON_END/terminate@") || !strings.HasSuffix(ours[len(ours)-1], "res=success") ||
		!strings.Contains(ours[len(ours)-1], "type=DAEMON_END ") {
		t.Errorf("daemon records: %v\n%s", shape, strings.Join(daemons, "\n"))
	}

	// 3. ausearch --format raw finds the same records in the same order.
	oOut, oErr, oCode := alogRun(t, "ausearch", "-if", orig, "--format", "raw")
	wOut, wErr, wCode := alogRun(t, "ausearch", "-if", oursPath, "--format", "raw")
	if oCode != 0 || wCode != 0 || oErr != "" || wErr != "" {
		t.Fatalf("ausearch --format raw: original %d %q, ours %d %q", oCode, oErr, wCode, wErr)
	}
	if a, b := alogNoDaemon(alogLines(wOut)), alogNoDaemon(alogLines(oOut)); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("ausearch --format raw: %d records from ours, %d from the original, or different", len(a), len(b))
	}
	if n := len(alogLines(wOut)) - len(alogNoDaemon(alogLines(wOut))); n != 3 {
		t.Errorf("ausearch --format raw returns %d of our daemon records, want 3", n)
	}

	// 4. ausearch -k KEY -i: identical output for every key of the rules.
	rules, err := os.ReadFile(filepath.Join(sharedDir(t), "testdata/recorded/audit.rules"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`-k (\S+)`).FindAllStringSubmatch(string(rules), -1) {
		keys[m[1]] = true
	}
	found := 0
	for k := range keys {
		oOut, oErr, oCode := alogRun(t, "ausearch", "-if", orig, "-k", k, "-i")
		wOut, wErr, wCode := alogRun(t, "ausearch", "-if", oursPath, "-k", k, "-i")
		if oOut != wOut || oErr != wErr || oCode != wCode {
			t.Errorf("ausearch -k %s -i differs: original %d lines (exit %d, %q), ours %d lines (exit %d, %q)",
				k, len(alogLines(oOut)), oCode, oErr, len(alogLines(wOut)), wCode, wErr)
		}
		if n := strings.Count(wOut, "----\n"); n > 0 {
			found++
			t.Logf("ausearch -k %s: %d events in both", k, n)
		}
	}
	if found < 3 {
		t.Errorf("only %d keys with events; the recorded log has exec, net and priv", found)
	}

	// 5. Our daemon records through ausearch: found, interpreted, no error.
	out, serr, code := alogRun(t, "ausearch", "-if", oursPath, "-m", "DAEMON_START,DAEMON_ROTATE,DAEMON_END", "-i")
	if code != 0 || serr != "" || strings.Count(out, "----\n") != 3 ||
		!strings.Contains(out, "op=start ver=lineaged format=raw") || !strings.Contains(out, "op=rotate-logs") || !strings.Contains(out, "op=terminate") {
		t.Errorf("ausearch -m DAEMON_*: exit %d, stderr %q:\n%s", code, serr, out)
	}
	out, serr, code = alogRun(t, "ausearch", "-if", oursPath, "-m", "DAEMON_START,DAEMON_ROTATE,DAEMON_END", "--format", "csv")
	if code != 0 || serr != "" || !strings.Contains(out, "started-audit") || !strings.Contains(out, "rotated-audit-logs") || !strings.Contains(out, "shutdown-audit") {
		t.Errorf("ausearch --format csv on daemon records: exit %d, stderr %q:\n%s", code, serr, out)
	}

	// 6. aureport: the same numbers.
	origNoD, oursNoD := filepath.Join(dir, "original-nodaemon.log"), filepath.Join(dir, "ours-nodaemon.log")
	alogWrite(t, origNoD, alogNoDaemon(origAll))
	alogWrite(t, oursNoD, oursKernel)
	daemonLine := regexp.MustCompile(`^(Range of time in logs|Selected time for report|Number of users|Number of process IDs|Number of events):`)
	for _, rep := range [][]string{{"--summary"}, {"-x", "--summary"}, {"-k", "--summary"}, {"-f", "--summary"}, {"-e", "--summary"}} {
		name := "aureport " + strings.Join(rep, " ")
		oOut, oErr, oCode := alogRun(t, "aureport", append([]string{"-if", orig}, rep...)...)
		wOut, wErr, wCode := alogRun(t, "aureport", append([]string{"-if", oursPath}, rep...)...)
		if oCode != 0 || wCode != 0 || oErr != "" || wErr != "" {
			t.Errorf("%s: original exit %d %q, ours exit %d %q", name, oCode, oErr, wCode, wErr)
			continue
		}
		// The daemons' records aside, every line is the same.
		a, _, _ := alogRun(t, "aureport", append([]string{"-if", origNoD}, rep...)...)
		b, _, _ := alogRun(t, "aureport", append([]string{"-if", oursNoD}, rep...)...)
		if a != b {
			t.Errorf("%s without daemon records:\n--- original\n%s\n--- ours\n%s", name, a, b)
		}
		// With them, only the lines they count differ, and by them.
		if rep[0] == "-e" {
			// "total  type" per record type number: ours has one each of
			// DAEMON_START 1200, DAEMON_ROTATE 1205, DAEMON_END 1201;
			// the original auditd's one DAEMON_ROTATE.
			oc, wc := alogTypeCounts(oOut), alogTypeCounts(wOut)
			for typ, n := range oc {
				if typ < 1200 || typ > 1299 {
					if wc[typ] != n {
						t.Errorf("%s: type %d: %d events in ours, %d in the original", name, typ, wc[typ], n)
					}
				}
			}
			if wc[1200] != 1 || wc[1205] != 1 || wc[1201] != 1 || len(wc) != len(oc)+2 || oc[1205] != 1 {
				t.Errorf("%s: ours %v, original %v", name, wc, oc)
			}
			continue
		}
		ol, wl := alogLines(oOut), alogLines(wOut)
		if len(ol) != len(wl) {
			t.Errorf("%s: %d lines vs %d", name, len(ol), len(wl))
			continue
		}
		for i := range ol {
			if ol[i] == wl[i] {
				continue
			}
			if !daemonLine.MatchString(ol[i]) {
				t.Errorf("%s: line %q vs %q", name, ol[i], wl[i])
			}
			if strings.HasPrefix(ol[i], "Number of events:") {
				on, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(ol[i], "Number of events:")))
				wn, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(wl[i], "Number of events:")))
				if wn != on-origDaemon+3 {
					t.Errorf("%s: %d events in ours, %d in the original (%d of auditd's own), want %d", name, wn, on, origDaemon, on-origDaemon+3)
				}
			}
		}
		if rep[0] == "--summary" {
			t.Logf("%s (ours):\n%s", name, wOut)
		}
	}

	// 7. Every file on its own, as an operator would: ausearch -if
	// audit.log.N finds every record in it, without an error.
	for _, f := range files {
		b, _ := os.ReadFile(f)
		want := alogLines(string(b))
		out, serr, code := alogRun(t, "ausearch", "-if", f, "--format", "raw")
		got := alogLines(out)
		sort.Strings(got)
		sort.Strings(want)
		if code != 0 || serr != "" || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("ausearch -if %s: exit %d, stderr %q, %d of its %d records", filepath.Base(f), code, serr, len(got), len(want))
		}
		if _, serr, code := alogRun(t, "aureport", "-if", f, "--summary"); code != 0 || serr != "" {
			t.Errorf("aureport -if %s: exit %d, %q", filepath.Base(f), code, serr)
		}
	}
	t.Logf("%d records in %d files (%d rotations), daemon records: %v", len(recs), len(files), st.Rotations, shape)
}

// alogLayout describes where a log set's daemon records are, oldest file
// first: per file, the type of its first and last record and the daemon
// records in it (by line: first, last or middle), its size against the
// limit ("full" when the last record took it to max or past it, "short"
// otherwise). Timestamps, serials and ids are left out.
func alogLayout(t *testing.T, base string, max int64) (layout string, daemons []string) {
	t.Helper()
	var files []string
	for i := 9; i >= 1; i-- {
		if _, err := os.Stat(base + "." + strconv.Itoa(i)); err == nil {
			files = append(files, base+"."+strconv.Itoa(i))
		}
	}
	files = append(files, base)
	var sb strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ls := alogLines(string(b))
		if len(ls) == 0 {
			fmt.Fprintf(&sb, "%s: empty\n", filepath.Base(f))
			continue
		}
		typ := func(l string) string {
			_, r, _ := strings.Cut(l, "type=")
			n, _, _ := strings.Cut(r, " ")
			return n
		}
		size := "short"
		if int64(len(b)) >= max && int64(len(b)-len(ls[len(ls)-1])-1) < max {
			size = "full"
		}
		var ds []string
		for i, l := range ls {
			if alogIsDaemon(l) {
				where := "middle"
				if i == 0 {
					where = "first"
				} else if i == len(ls)-1 {
					where = "last"
				}
				ds = append(ds, typ(l)+"@"+where)
				daemons = append(daemons, l)
			}
		}
		fmt.Fprintf(&sb, "%s: %s, first %s, last %s, daemon records %v\n", filepath.Base(f), size, typ(ls[0]), typ(ls[len(ls)-1]), ds)
	}
	return sb.String(), daemons
}

// alogDaemonShape reduces a daemon record to its type, field names in
// order and the op/format/res values.
func alogDaemonShape(line string) string {
	var out []string
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "type", "op", "format", "res":
			out = append(out, k+"="+v)
		default:
			out = append(out, k)
		}
	}
	return strings.Join(out, " ")
}

// TestIntegrationAuditLogLayoutMatchesAuditd runs Debian's auditd with
// log_format = RAW, max_log_file = 1 (MiB), max_log_file_action =
// ROTATE, num_logs = 3, forces a rotation with SIGUSR1, fills the log
// past 1 MiB with user messages (auditctl -m) and stops it with SIGTERM.
// The same records then go through auditlog.Writer (MaxFileSize 1 MiB,
// Rotate where auditd got SIGUSR1). Both log sets must have the same
// layout: DAEMON_START first in the oldest file, DAEMON_ROTATE first in
// the file SIGUSR1 began, no daemon record at the size rotation (the file
// ends with the record that reached 1 MiB), DAEMON_END last; the same
// kernel records in the same order; and daemon records of the same shape
// (the signal sender's ids in auditd's ROTATE/END are this test's, which
// are also the writer's).
func TestIntegrationAuditLogLayoutMatchesAuditd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (audit control)")
	}
	auditdPath, err := exec.LookPath("auditd")
	if err != nil {
		t.Skip("auditd not installed (apt-get install auditd)")
	}
	saved := saveAuditState(t)
	if saved.pid != "0" && saved.pid != "" {
		t.Skipf("an audit daemon (pid %s) owns audit on this host; not disturbing it", saved.pid)
	}
	if saved.enabled == "2" {
		t.Skip("audit is immutable (-e 2) on this host")
	}
	t.Cleanup(func() { saved.restore(t) })
	auditctl(t, "--backlog_wait_time", "0")

	const max = 1 << 20
	dir := t.TempDir()
	adir := filepath.Join(dir, "auditd")
	os.MkdirAll(filepath.Join(adir, "plugins.d"), 0o750)
	alog := filepath.Join(adir, "audit.log")
	conf := fmt.Sprintf(`local_events = yes
write_logs = yes
log_file = %s
log_group = root
log_format = RAW
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 1
num_logs = 3
max_log_file_action = ROTATE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
name_format = NONE
plugin_dir = %s
q_depth = 2000
overflow_action = IGNORE
end_of_event_timeout = 2
`, alog, filepath.Join(adir, "plugins.d"))
	if err := os.WriteFile(filepath.Join(adir, "auditd.conf"), []byte(conf), 0o640); err != nil {
		t.Fatal(err)
	}
	var dlog bytes.Buffer
	d := exec.Command(auditdPath, "-n", "-c", adir, "-s", "enable")
	d.Stdout, d.Stderr = &dlog, &dlog
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		d.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			d.Process.Kill()
			<-done
		}
	}
	t.Cleanup(stop)
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("auditd: %s never happened; its output:\n%s", what, dlog.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	contains := func(f, s string) func() bool {
		return func() bool { b, _ := os.ReadFile(f); return bytes.Contains(b, []byte(s)) }
	}
	waitFor("registering", func() bool { st := saveAuditState(t); return st.pid != "0" && st.pid != "" })
	waitFor("DAEMON_START", contains(alog, "type=DAEMON_START"))

	d.Process.Signal(syscall.SIGUSR1)
	waitFor("rotation on SIGUSR1", contains(alog, "type=DAEMON_ROTATE"))
	msg := strings.Repeat("x", 3000)
	for i := 0; ; i++ {
		if _, err := os.Stat(alog + ".2"); err == nil {
			break
		}
		if i == 1000 {
			t.Fatalf("no size rotation after %d user messages", i)
		}
		auditctl(t, "-m", fmt.Sprintf("lineaged-auditlog-fill-%d %s", i, msg))
	}
	last := "lineaged-auditlog-last"
	auditctl(t, "-m", last)
	waitFor("the last message", contains(alog, last))
	saved.restore(t)
	stop()
	auditdLayout, auditdDaemons := alogLayout(t, alog, max)
	t.Logf("auditd 3.0.9:\n%s", auditdLayout)

	// The same records, in the same order, through the writer.
	var all []string
	for _, f := range []string{alog + ".2", alog + ".1", alog} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, alogLines(string(b))...)
	}
	wlog := filepath.Join(dir, "lineaged", "audit.log")
	w, err := auditlog.Open(auditlog.Config{Path: wlog, MaxFileSize: max, NumLogs: 3, TypeName: audit.TypeName})
	if err != nil {
		t.Fatal(err)
	}
	var r audit.Record
	var kernel []string
	for _, l := range all {
		switch {
		case strings.HasPrefix(l, "type=DAEMON_ROTATE "):
			if err := w.Rotate(); err != nil {
				t.Fatal(err)
			}
		case alogIsDaemon(l):
		default:
			if err := r.Parse([]byte(l)); err != nil || r.Type == 0 {
				t.Fatalf("auditd line %q: %v", l, err)
			}
			_, payload, _ := strings.Cut(l, " msg=")
			if err := w.Write(r.Type, []byte(payload)); err != nil {
				t.Fatal(err)
			}
			kernel = append(kernel, l)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ourLayout, ourDaemons := alogLayout(t, wlog, max)
	t.Logf("lineaged:\n%s", ourLayout)
	if ourLayout != auditdLayout {
		t.Errorf("layouts differ:\n--- auditd\n%s--- lineaged\n%s", auditdLayout, ourLayout)
	}
	var ours []string
	for _, f := range []string{wlog + ".2", wlog + ".1", wlog} {
		b, _ := os.ReadFile(f)
		ours = append(ours, alogLines(string(b))...)
	}
	if got := alogNoDaemon(ours); strings.Join(got, "\n") != strings.Join(kernel, "\n") {
		t.Errorf("kernel records differ: %d written, %d from auditd", len(got), len(kernel))
	}
	if len(ourDaemons) != len(auditdDaemons) {
		t.Fatalf("daemon records: ours %q, auditd's %q", ourDaemons, auditdDaemons)
	}
	idsRe := regexp.MustCompile(` auid=\d+ uid=\d+ ses=\d+ pid=\d+ `)
	for i := range ourDaemons {
		if a, b := alogDaemonShape(auditdDaemons[i]), alogDaemonShape(ourDaemons[i]); a != b {
			t.Errorf("daemon record %d:\n auditd %s\n ours   %s", i, a, b)
		}
		if i > 0 { // ROTATE, END: auditd names the signal sender, this test
			if a, b := idsRe.FindString(auditdDaemons[i]), idsRe.FindString(ourDaemons[i]); a == "" || a != b {
				t.Errorf("ids: auditd %q, ours %q", a, b)
			}
		}
	}
	t.Logf("auditd:\n%s\nours:\n%s", strings.Join(auditdDaemons, "\n"), strings.Join(ourDaemons, "\n"))
}
