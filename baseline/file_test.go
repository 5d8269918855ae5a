package baseline

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sample(t *testing.T) *Baseline {
	t.Helper()
	b := New()
	b.Created, b.Updated = t0, t0
	b.AddHost("web1")
	b.ObserveExec([]string{"/usr/bin/bash", "/usr/sbin/sshd", "/usr/lib/systemd/systemd"}, "/usr/bin/id", at(5))
	b.ObserveExec([]string{"/usr/bin/bash", "/usr/sbin/sshd", "/usr/lib/systemd/systemd"}, "/usr/bin/id", at(6))
	b.ObserveListen("/usr/sbin/sshd", 22, at(1))
	return b
}

func encode(t *testing.T, b *Baseline) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestFormat(t *testing.T) {
	want := `{"lineaged_baseline":1,"hosts":["web1"],"created":"2025-03-01T10:00:00Z","updated":"2025-03-01T10:06:00Z","entries":2}
{"key":"exec-edge|systemd>sshd>bash|/usr/bin/id","count":2,"first":"2025-03-01T10:05:00Z","last":"2025-03-01T10:06:00Z"}
{"key":"listen|/usr/sbin/sshd|22","count":1,"first":"2025-03-01T10:01:00Z","last":"2025-03-01T10:01:00Z"}
`
	if got := encode(t, sample(t)); got != want {
		t.Errorf("encoded\n%s\nwant\n%s", got, want)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "baseline.json")
	b := sample(t)
	if err := b.Approve("connect|/usr/bin/curl|public:443"); err != nil {
		t.Fatal(err)
	}
	b.ObserveFile("/bin/cat", "/srv/a|b\n\xff", "read", at(2))
	if err := Save(p, b); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	l, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if encode(t, l) != encode(t, b) {
		t.Errorf("reloaded differs:\n%s\n%s", encode(t, l), encode(t, b))
	}
	if len(Diff(b, l)) != 0 {
		t.Errorf("diff after reload: %+v", Diff(b, l))
	}
	if l.GroupTotal("exec-edge|systemd>sshd>bash|x") != 2 {
		t.Error("group totals not rebuilt on load")
	}
	// Overwrite, and nothing but the file is left in the directory.
	b.ObserveListen("/usr/sbin/sshd", 22, at(9))
	if err := Save(p, b); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d files, want 1", len(ents))
	}
	if err := Save(filepath.Join(dir, "missing", "b.json"), b); err == nil {
		t.Error("save into a missing directory succeeded")
	}
}

// TestLearnUntilRoundTrip: a learning window survives a save and load,
// and a baseline without one stays version 1.
func TestLearnUntilRoundTrip(t *testing.T) {
	b := New()
	var buf bytes.Buffer
	if err := Encode(&buf, b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `{"lineaged_baseline":1,`) {
		t.Fatalf("no learn_until must write version 1: %s", buf.String())
	}
	b.LearnUntil = time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	buf.Reset()
	if err := Encode(&buf, b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `{"lineaged_baseline":2,`) {
		t.Fatalf("learn_until must write version 2: %s", buf.String())
	}
	got, err := Decode(&buf, "f")
	if err != nil {
		t.Fatal(err)
	}
	if !got.LearnUntil.Equal(b.LearnUntil) || got.Version != 2 {
		t.Fatalf("learn_until %v version %d, want %v 2", got.LearnUntil, got.Version, b.LearnUntil)
	}
}

func TestDecodeErrors(t *testing.T) {
	const hdr = `{"lineaged_baseline":1,"hosts":[],"created":"2025-03-01T10:00:00Z","updated":"2025-03-01T10:00:00Z","entries":1}`
	const ent = `{"key":"listen|/x|22","count":1,"first":"2025-03-01T10:00:00Z","last":"2025-03-01T10:00:00Z"}`
	for _, c := range []struct{ name, data, want string }{
		{"empty", "", "f: empty file"},
		{"not json", "hello\n", "f:1: not a lineaged baseline"},
		{"no version", `{"hosts":[]}` + "\n", "f:1: not a lineaged baseline"},
		{"future", `{"lineaged_baseline":3,"whatever":true}` + "\n", "f:1: format version 3 is newer than this lineaged reads (2)"},
		{"learn_until in v1", `{"lineaged_baseline":1,"entries":0,"learn_until":"2025-03-01T10:00:00Z"}` + "\n", "f:1: header: learn_until needs format version 2"},
		{"version 0", `{"lineaged_baseline":0,"entries":0}` + "\n", "f:1: format version 0 is not valid"},
		{"unknown header field", `{"lineaged_baseline":1,"entries":0,"colour":"red"}` + "\n", `f:1: header: json: unknown field "colour"`},
		{"no count", `{"lineaged_baseline":1}` + "\n", `f:1: header: "entries"`},
		{"bad entry json", hdr + "\n{\"key\":\n", "f:2: "},
		{"unknown entry field", hdr + "\n" + `{"key":"listen|/x|22","cout":1}` + "\n", `f:2: json: unknown field "cout"`},
		{"trailing text", hdr + "\n" + ent + " x\n", "f:2: text after the JSON object"},
		{"bad kind", hdr + "\n\n" + strings.Replace(ent, "listen", "listening", 1) + "\n", `f:3: unknown key kind "listening"`},
		{"bad fields", hdr + "\n" + strings.Replace(ent, "|22", "", 1) + "\n", "f:2: listen key has 1 fields, want 2"},
		{"zero count", hdr + "\n" + strings.Replace(ent, `"count":1`, `"count":0`, 1) + "\n", "f:2: entry \"listen|/x|22\" has count 0 and is not approved"},
		{"no times", hdr + "\n" + `{"key":"listen|/x|22","count":1}` + "\n", `f:2: entry "listen|/x|22" without "first" and "last"`},
		{"last before first", hdr + "\n" + strings.Replace(ent, `"first":"2025-03-01T10:00:00Z"`, `"first":"2025-03-02T10:00:00Z"`, 1) + "\n", "f:2: entry \"listen|/x|22\": last 2025-03-01T10:00:00Z is before first"},
		{"year out of range", hdr + "\n" + strings.Replace(ent, `"first":"2025-03-01T10:00:00Z"`, `"first":"0001-01-01T00:00:00+01:00"`, 1) + "\n", "f:2: entry \"listen|/x|22\": first: time"},
		{"duplicate", strings.Replace(hdr, `"entries":1`, `"entries":2`, 1) + "\n" + ent + "\n" + ent + "\n", `f:3: duplicate key "listen|/x|22" (first at line 2)`},
		{"truncated", strings.Replace(hdr, `"entries":1`, `"entries":3`, 1) + "\n" + ent + "\n", "f: the header says 3 entries but 1 follow"},
		{"long line", hdr + "\n" + strings.Repeat("x", maxLine+10) + "\n", "f:2: line longer than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(c.data), "f")
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error %v, want prefix %q", err, c.want)
			}
		})
	}
	// The header alone with the entry decodes.
	if _, err := Decode(strings.NewReader(hdr+"\n"+ent+"\n"), "f"); err != nil {
		t.Errorf("valid file refused: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

// The kill test: a child process (this test binary, re-executed) saves
// generation after generation of a large baseline to one path; the
// parent SIGKILLs it at random moments and then requires the file to load
// and to be exactly one generation, never a mix or a truncation.

const killEnv = "LINEAGED_BASELINE_KILL_CHILD"

func generation(g int) *Baseline {
	b := &Baseline{Version: FormatVersion, Created: t0, Updated: t0.Add(time.Duration(g) * time.Second)}
	b.AddHost("gen-" + strconv.Itoa(g))
	for i := range 15000 {
		b.put(&Entry{Kind: KindFileAccess, Key: fmt.Sprintf("file-access|/usr/bin/app|read|/srv/data/file-%05d", i),
			Count: uint64(g + 1), First: t0, Last: b.Updated})
	}
	return b
}

func TestKillChild(t *testing.T) {
	spec := os.Getenv(killEnv)
	if spec == "" {
		t.Skip("helper for TestSaveSurvivesKill")
	}
	p, gs, _ := strings.Cut(spec, "#")
	g, _ := strconv.Atoi(gs)
	for ; ; g++ {
		if err := Save(p, generation(g)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
}

func TestSaveSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	p := filepath.Join(t.TempDir(), "baseline.json")
	if err := Save(p, generation(0)); err != nil {
		t.Fatal(err)
	}
	want := func(g int) string { return encode(t, generation(g)) }
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	last, next := 0, 1
	deadline := time.Now().Add(8 * time.Second)
	iterations := 0
	base := 20 * time.Millisecond // grows while no save completes (a loaded machine)
	for i := 0; i < 30 && time.Now().Before(deadline); i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s#%d", killEnv, p, next))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(base + time.Duration(rng.IntN(120))*time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("child was not killed: %v %s", err, stderr.String())
		}
		iterations++
		b, err := Load(p)
		if err != nil {
			t.Fatalf("iteration %d: after kill -9 the file does not load: %v", i, err)
		}
		if len(b.Hosts) != 1 || !strings.HasPrefix(b.Hosts[0], "gen-") {
			t.Fatalf("iteration %d: hosts %q", i, b.Hosts)
		}
		g, _ := strconv.Atoi(strings.TrimPrefix(b.Hosts[0], "gen-"))
		if g < last {
			t.Fatalf("iteration %d: generation went back from %d to %d", i, last, g)
		}
		if got := encode(t, b); got != want(g) {
			t.Fatalf("iteration %d: the file is not generation %d whole", i, g)
		}
		if g == last && base < time.Second {
			base *= 2
		}
		last, next = g, g+1
	}
	if last == 0 {
		t.Errorf("in %d iterations the child never completed a save: the test proves nothing", iterations)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	// Each kill inside Save leaves its temporary file: evidence that kills
	// landed mid-write.
	t.Logf("%d kills, last whole generation %d, %d kills left a temporary file", iterations, last, len(ents)-1)
	if len(ents) == 1 {
		t.Errorf("no kill landed inside Save")
	}
}
