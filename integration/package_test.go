package integration

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lineaged/lineaged/config"
)

// pkgVersion is the version the package test builds; the packages carry
// it with release 1.
const pkgVersion = "9.9.9~it"

// TestIntegrationPackage builds the amd64 .deb and .rpm with tools/mkpkg
// and checks them: the .deb's control data and contents, the systemd
// unit (systemd-analyze verify), the .rpm (Debian's rpm), and a real
// install, start, reload and purge of the .deb on this host (root).
func TestIntegrationPackage(t *testing.T) {
	if os.Getenv("LINEAGED_KERNEL_PROFILE") != "" {
		t.Skip("the packages do not depend on the kernel profile: run once, without it")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	start := time.Now()
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./tools/mkpkg", "-out", dir, "-arch", "amd64", "-version", pkgVersion)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkpkg: %v\n%s", err, out)
	}
	t.Logf("mkpkg built the packages in %v", time.Since(start).Round(time.Millisecond))
	debPath := pkgOnlyMatch(t, filepath.Join(dir, "*.deb"))
	rpmPath := pkgOnlyMatch(t, filepath.Join(dir, "*.rpm"))
	if want := "lineaged_" + pkgVersion + "-1_amd64.deb"; filepath.Base(debPath) != want {
		t.Errorf("deb named %s, want %s", filepath.Base(debPath), want)
	}
	if _, err := os.Stat(filepath.Join(dir, "lineaged_linux_amd64")); err != nil {
		t.Errorf("static binary: %v", err)
	}

	// The .deb's payload, for the content and unit checks.
	root := t.TempDir()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatalf("dpkg-deb not found: %v", err)
	}
	pkgRun(t, "dpkg-deb", "-x", debPath, root)

	t.Run("Deb", func(t *testing.T) { pkgTestDeb(t, debPath, root) })
	t.Run("Unit", func(t *testing.T) { pkgTestUnit(t, root) })
	t.Run("RPM", func(t *testing.T) { pkgTestRPM(t, rpmPath) })
	t.Run("Install", func(t *testing.T) { pkgTestInstall(t, debPath) })
	t.Logf("package test took %v", time.Since(start).Round(time.Millisecond))
}

func pkgOnlyMatch(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(pattern)
	if len(m) != 1 {
		t.Fatalf("%s: %d files, want 1: %v", pattern, len(m), m)
	}
	return m[0]
}

// pkgRun runs a command that must succeed and returns its standard output.
func pkgRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// The files every package carries, with their modes; the conffiles are the
// configuration an upgrade must not overwrite.
var (
	pkgModes = map[string]fs.FileMode{
		"/usr/bin/lineaged":            0o755,
		"/etc/lineaged/lineaged.yml":   0o640,
		"/etc/lineaged/rules.d/README": 0o644,
		"/etc/init.d/lineaged":         0o755,
		"/var/lib/lineaged":            fs.ModeDir | 0o700,
		"/var/log/lineaged":            fs.ModeDir | 0o750,
	}
	pkgDebUnit   = "/lib/systemd/system/lineaged.service"
	pkgRPMUnit   = "/usr/lib/systemd/system/lineaged.service"
	pkgConffiles = []string{"/etc/init.d/lineaged", "/etc/lineaged/lineaged.yml", "/etc/lineaged/rules.d/README"}
)

func pkgTestDeb(t *testing.T, deb, root string) {
	for field, want := range map[string]string{
		"Package": "lineaged", "Version": pkgVersion + "-1", "Architecture": "amd64",
		// A static binary: nothing to depend on.
		"Depends": "", "Pre-Depends": "", "Recommends": "",
	} {
		if got := strings.TrimSpace(pkgRun(t, "dpkg-deb", "-f", deb, field)); got != want {
			t.Errorf("control %s: %q, want %q", field, got, want)
		}
	}

	// Members: control and data gzip or xz, never zstd.
	members := pkgArMembers(t, deb)
	if len(members) != 3 || members[0] != "debian-binary" || members[1] != "control.tar.gz" ||
		(members[2] != "data.tar.gz" && members[2] != "data.tar.xz") {
		t.Errorf("ar members %v, want debian-binary control.tar.gz data.tar.{gz,xz}", members)
	}

	ctrl := t.TempDir()
	pkgRun(t, "dpkg-deb", "-e", deb, ctrl)
	data, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(data)); !pkgSameSet(got, pkgConffiles) {
		t.Errorf("conffiles %v, want %v", got, pkgConffiles)
	}
	scripts := map[string][]string{
		"postinst": {"/run/systemd/system", "deb-systemd-invoke", "invoke-rc.d", "update-rc.d", "chkconfig", "policy-rc.d"},
		"prerm":    {"/run/systemd/system", "replace-auditd --undo", "/var/lib/lineaged/replaced-auditd", "stop"},
		"postrm":   {"purge", "rm -rf /var/lib/lineaged /var/log/lineaged", "update-rc.d lineaged remove"},
	}
	for name, wants := range scripts {
		p := filepath.Join(ctrl, name)
		body, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.HasPrefix(string(body), "#!/bin/sh\n") {
			t.Errorf("%s is not a /bin/sh script", name)
		}
		for _, w := range wants {
			if !strings.Contains(string(body), w) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
		if out, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", name, err, out)
		}
	}
	if out, err := exec.Command("sh", "-n", filepath.Join(root, "etc/init.d/lineaged")).CombinedOutput(); err != nil {
		t.Errorf("sh -n init script: %v\n%s", err, out)
	}

	// Contents and modes, as dpkg-deb lists them.
	listed := map[string]string{}
	for _, l := range strings.Split(pkgRun(t, "dpkg-deb", "-c", deb), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		listed["/"+strings.TrimSuffix(strings.TrimPrefix(f[len(f)-1], "./"), "/")] = f[0] + " " + f[1]
	}
	for p, mode := range pkgModes {
		if got, want := listed[p], mode.String()+" root/root"; got != want {
			t.Errorf("%s: listed %q, want %q", p, got, want)
		}
	}
	if got := listed[pkgDebUnit]; got != "-rw-r--r-- root/root" {
		t.Errorf("%s: listed %q", pkgDebUnit, got)
	}
	cfg, err := os.ReadFile(filepath.Join(root, "etc/lineaged/lineaged.yml"))
	if err != nil || !bytes.Equal(cfg, config.DefaultYAML()) {
		t.Errorf("/etc/lineaged/lineaged.yml is not config.DefaultYAML() (%v)", err)
	}
}

// pkgArMembers lists the member names of an ar archive (a .deb).
func pkgArMembers(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		t.Fatalf("%s is not an ar archive", path)
	}
	var names []string
	for off := 8; off+60 <= len(b); {
		hdr := b[off : off+60]
		size, err := strconv.Atoi(strings.TrimSpace(string(hdr[48:58])))
		if err != nil {
			t.Fatalf("ar header at %d: %v", off, err)
		}
		names = append(names, strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/"))
		off += 60 + size + size%2
	}
	return names
}

func pkgSameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

func pkgTestUnit(t *testing.T, root string) {
	unitPath := filepath.Join(root, pkgDebUnit)
	body, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{} // directive -> values, comments excluded
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == ';' || l[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Errorf("unit line %q", l)
			continue
		}
		keys[k] = append(keys[k], v)
	}
	for k, want := range map[string]string{
		"Type":                  "simple",
		"ExecStart":             "/usr/bin/lineaged run",
		"ExecReload":            "/bin/kill -HUP $MAINPID",
		"Restart":               "on-failure",
		"KillSignal":            "SIGTERM",
		"TimeoutStopSec":        "30",
		"CapabilityBoundingSet": "CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_AUDIT_WRITE CAP_SYS_ADMIN CAP_NET_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH",
		"NoNewPrivileges":       "yes",
		"LockPersonality":       "yes",
		"RestrictRealtime":      "yes",
		"RestrictSUIDSGID":      "yes",
		"ProtectClock":          "yes",
		"ProtectHostname":       "yes",
		"WantedBy":              "multi-user.target",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want exactly one %s=%s", k, got, k, want)
		}
	}
	for _, k := range []string{"MemoryMax", "CPUQuota"} {
		if len(keys[k]) != 1 || keys[k][0] == "" {
			t.Errorf("%s not set once: %q", k, keys[k])
		}
	}
	// These would hide from the agent what it must see.
	for _, k := range []string{"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
		"ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups",
		"ProtectProc", "ReadOnlyPaths", "InaccessiblePaths", "TemporaryFileSystem", "Conflicts"} {
		if v, ok := keys[k]; ok {
			t.Errorf("unit sets %s=%v", k, v)
		}
	}

	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	// verify checks that ExecStart exists: point it at the extracted
	// binary, changing nothing else.
	vdir := t.TempDir()
	abs, _ := filepath.Abs(filepath.Join(root, "usr/bin/lineaged"))
	v := strings.Replace(string(body), "ExecStart=/usr/bin/lineaged run", "ExecStart="+abs+" run", 1)
	if err := os.WriteFile(filepath.Join(vdir, "lineaged.service"), []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", filepath.Join(vdir, "lineaged.service")).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func pkgTestRPM(t *testing.T, pkg string) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpm not installed (apt-get install rpm)")
	}
	files := strings.Split(strings.TrimSpace(pkgRun(t, "rpm", "-qpl", pkg)), "\n")
	want := []string{pkgRPMUnit, "/etc/lineaged", "/etc/lineaged/rules.d"}
	for p := range pkgModes {
		want = append(want, p)
	}
	if !pkgSameSet(files, want) {
		t.Errorf("rpm -qpl: %v\nwant %v", files, want)
	}
	if got := strings.Fields(pkgRun(t, "rpm", "-qpc", pkg)); !pkgSameSet(got, pkgConffiles) {
		t.Errorf("rpm -qpc: %v, want %v", got, pkgConffiles)
	}
	// The two from lineaged.yml and rules.d are %config(noreplace).
	flags := map[string]string{}
	modes := map[string]string{}
	for _, l := range strings.Split(pkgRun(t, "rpm", "-qp", "--qf", `[%{FILENAMES} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags}\n]`, pkg), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		modes[f[0]] = f[1] + " " + f[2]
		if len(f) > 3 {
			flags[f[0]] = f[3]
		}
	}
	for _, p := range []string{"/etc/lineaged/lineaged.yml", "/etc/lineaged/rules.d/README"} {
		if flags[p] != "cn" {
			t.Errorf("%s: file flags %q, want cn (%%config(noreplace))", p, flags[p])
		}
	}
	for p, mode := range pkgModes {
		if got, want := modes[p], mode.String()+" root:root"; got != want {
			t.Errorf("rpm %s: %q, want %q", p, got, want)
		}
	}
	if c := pkgRun(t, "rpm", "-qp", "--qf", "%{PAYLOADCOMPRESSOR}", pkg); c != "gzip" && c != "xz" {
		t.Errorf("payload compressor %q, want gzip or xz (EL7 cannot read zstd)", c)
	}
	if v := pkgRun(t, "rpm", "-qp", "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH}", pkg); v != "lineaged "+pkgVersion+"-1 x86_64" {
		t.Errorf("rpm NVRA %q", v)
	}
	scripts := pkgRun(t, "rpm", "-qp", "--scripts", pkg)
	for _, w := range []string{"postinstall scriptlet (using /bin/sh)", "preuninstall scriptlet (using /bin/sh)",
		"postuninstall scriptlet (using /bin/sh)", "chkconfig --add lineaged", "replace-auditd --undo", "rm -rf /var/lib/lineaged\n"} {
		if !strings.Contains(scripts, w) {
			t.Errorf("rpm --scripts lacks %q", w)
		}
	}
	// No dependencies beyond rpm's own features and the scripts' shell.
	for _, r := range strings.Split(strings.TrimSpace(pkgRun(t, "rpm", "-qpR", pkg)), "\n") {
		if r != "" && !strings.HasPrefix(r, "rpmlib(") && r != "/bin/sh" {
			t.Errorf("rpm requires %q", r)
		}
	}
	if out := pkgRun(t, "rpm", "-K", "--nosignature", pkg); !strings.Contains(out, "digests OK") {
		t.Errorf("rpm -K: %s", out)
	}
}

// Paths the .deb installs or its scripts create, all gone after a purge.
var pkgInstalledPaths = []string{"/usr/bin/lineaged", "/etc/lineaged", pkgDebUnit, "/etc/init.d/lineaged",
	"/var/lib/lineaged", "/var/log/lineaged", "/run/lineaged.pid"}

// pkgTestPolicy is the policy-rc.d the install test puts in place: service
// starts are denied (exit 101), stops allowed, so the postinst must cope
// with a blocked start and the prerm can still stop the agent.
const pkgTestPolicy = `#!/bin/sh
# Written by lineaged's TestIntegrationPackage; removed when it ends.
for a in "$@"; do
	case "$a" in *start* | force-reload) exit 101 ;; esac
done
exit 0
`

func pkgTestInstall(t *testing.T, deb string) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (dpkg -i)")
	}
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg not found")
	}
	for _, p := range []string{"/usr/bin/lineaged", "/etc/lineaged"} {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists: lineaged is installed here; not touching an operator's install", p)
		}
	}
	if exec.Command("dpkg", "-s", "lineaged").Run() == nil {
		t.Skip("dpkg knows a lineaged package here; not touching it")
	}
	systemd := pkgIsDir("/run/systemd/system")
	before := pkgInitState()
	auditBefore := pkgAuditSnapshot()

	pkgInstallPolicy(t)

	// Purge whatever happens; registered before dpkg -i so that a half
	// installed package goes too (runs before the policy is restored).
	t.Cleanup(func() {
		if pid, ok := pkgLineagedPID(); ok {
			// Still running: stop it as the init script would, so it
			// puts the audit state back.
			syscall.Kill(pid, syscall.SIGTERM)
			if pkgWaitGone(pid, 35*time.Second) {
				os.Remove("/run/lineaged.pid")
			}
		}
		if exec.Command("dpkg", "-s", "lineaged").Run() == nil {
			if out, err := pkgDpkg("-P", "lineaged"); err != nil {
				t.Errorf("cleanup: dpkg -P lineaged: %v\n%s", err, out)
			}
		}
	})

	out, err := pkgDpkg("-i", deb)
	if err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	t.Logf("dpkg -i:\n%s", out)
	if s := pkgRun(t, "dpkg-query", "-W", "-f", "${Status} ${Version}", "lineaged"); s != "install ok installed "+pkgVersion+"-1" {
		t.Errorf("dpkg-query: %q", s)
	}
	if !strings.Contains(out, "blocked by policy-rc.d") {
		t.Errorf("postinst did not report the blocked start")
	}
	if _, ok := pkgLineagedPID(); ok {
		t.Fatal("the service started although policy-rc.d denied it")
	}
	if !systemd {
		if m, _ := filepath.Glob("/etc/rc2.d/S*lineaged"); len(m) == 0 {
			t.Error("postinst made no rc2.d start link (update-rc.d)")
		}
	}
	for p, mode := range pkgModes {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if fi.Mode() != mode || fi.Sys().(*syscall.Stat_t).Uid != 0 || fi.Sys().(*syscall.Stat_t).Gid != 0 {
			t.Errorf("%s: %v uid %d, want %v root", p, fi.Mode(), fi.Sys().(*syscall.Stat_t).Uid, mode)
		}
	}
	if cfg, err := os.ReadFile("/etc/lineaged/lineaged.yml"); err != nil || !bytes.Equal(cfg, config.DefaultYAML()) {
		t.Errorf("installed configuration is not the default (%v)", err)
	}
	if _, err := os.Stat(pkgDebUnit); err != nil {
		t.Error(err)
	}
	if c := strings.TrimSpace(pkgRun(t, "dpkg-query", "-W", "-f", "${Conffiles}", "lineaged")); strings.Count(c, "\n")+1 != len(pkgConffiles) {
		t.Errorf("installed conffiles:\n%s", c)
	}

	if v := pkgRun(t, "/usr/bin/lineaged", "version"); !strings.Contains(v, "lineaged "+pkgVersion) {
		t.Errorf("lineaged version: %q, want %s", v, pkgVersion)
	}
	if s := pkgRun(t, "/usr/bin/lineaged", "status"); !strings.Contains(s, "FEATURE") {
		t.Errorf("lineaged status:\n%s", s)
	}

	// The init script's life cycle (called directly: policy-rc.d only
	// binds invoke-rc.d).
	if code := pkgExitCode(exec.Command("/etc/init.d/lineaged", "status")); code != 3 {
		t.Errorf("init status before start: exit %d, want 3", code)
	}
	if out, err := exec.Command("/etc/init.d/lineaged", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile("/var/log/lineaged/lineaged.log")
		t.Fatalf("init start: %v\n%s\nlog:\n%s", err, out, log)
	}
	pid, ok := pkgLineagedPID()
	if !ok {
		t.Fatal("init start: no lineaged running from /run/lineaged.pid")
	}
	if code := pkgExitCode(exec.Command("/etc/init.d/lineaged", "status")); code != 0 {
		t.Errorf("init status while running: exit %d", code)
	}
	events := "/var/log/lineaged/events.jsonl"
	if !pkgWaitFor(func() bool { return pkgFileHas(events, `"action":"settings"`) }, 10*time.Second) {
		t.Errorf("no settings event in %s", events)
	}
	if out, err := exec.Command("/etc/init.d/lineaged", "reload").CombinedOutput(); err != nil {
		t.Errorf("init reload: %v\n%s", err, out)
	}
	if !pkgWaitFor(func() bool { return pkgFileHas(events, `"action":"reloaded"`) }, 10*time.Second) {
		t.Errorf("no reloaded event in %s after reload", events)
	}
	if p2, ok := pkgLineagedPID(); !ok || p2 != pid {
		t.Errorf("after reload: pid %d (running %v), want %d", p2, ok, pid)
	}

	// Purge with the agent running: the prerm stops it (SIGTERM: it puts
	// the audit state back), the postrm removes state and logs.
	out, err = pkgDpkg("-P", "lineaged")
	if err != nil {
		t.Fatalf("dpkg -P: %v\n%s", err, out)
	}
	t.Logf("dpkg -P:\n%s", out)
	if !pkgWaitGone(pid, 5*time.Second) {
		t.Errorf("lineaged (pid %d) still runs after dpkg -P", pid)
	}
	if err := exec.Command("dpkg", "-s", "lineaged").Run(); err == nil {
		t.Error("dpkg -s lineaged: still known after purge")
	}
	for _, p := range pkgInstalledPaths {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left after purge (%v)", p, err)
		}
	}
	if after := pkgInitState(); !slices.Equal(before, after) {
		t.Errorf("init links/state changed by install+purge:\nbefore %v\nafter  %v", before, after)
	}
	if after := pkgAuditSnapshot(); after != auditBefore {
		t.Errorf("audit state not restored:\nbefore %s\nafter  %s", auditBefore, after)
	}
}

func pkgDpkg(args ...string) (string, error) {
	cmd := exec.Command("dpkg", append([]string{"--force-confdef", "--force-confold"}, args...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func pkgExitCode(cmd *exec.Cmd) int {
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func pkgIsDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func pkgFileHas(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte(s))
}

func pkgWaitFor(f func() bool, d time.Duration) bool {
	for end := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		if f() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// pkgLineagedPID is the pid in /run/lineaged.pid when that process runs
// /usr/bin/lineaged (or its deleted binary).
func pkgLineagedPID() (int, bool) {
	b, err := os.ReadFile("/run/lineaged.pid")
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil || !strings.HasPrefix(exe, "/usr/bin/lineaged") {
		return 0, false
	}
	return pid, true
}

// pkgWaitGone waits until pid no longer runs lineaged.
func pkgWaitGone(pid int, d time.Duration) bool {
	return pkgWaitFor(func() bool {
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		return err != nil || !strings.HasPrefix(exe, "/usr/bin/lineaged")
	}, d)
}

// pkgInstallPolicy puts pkgTestPolicy at /usr/sbin/policy-rc.d for the test,
// moving an existing one aside and putting it back at the end.
func pkgInstallPolicy(t *testing.T) {
	t.Helper()
	const p = "/usr/sbin/policy-rc.d"
	const aside = p + ".lineaged-test-orig"
	if _, err := os.Lstat(aside); err == nil {
		t.Fatalf("%s exists (left by an interrupted run?): restore it to %s by hand", aside, p)
	}
	had := false
	if _, err := os.Lstat(p); err == nil {
		if err := os.Rename(p, aside); err != nil {
			t.Fatal(err)
		}
		had = true
	}
	t.Cleanup(func() {
		os.Remove(p)
		if had {
			if err := os.Rename(aside, p); err != nil {
				t.Errorf("restoring %s: %v", p, err)
			}
		}
	})
	if err := os.WriteFile(p, []byte(pkgTestPolicy), 0o755); err != nil {
		t.Fatal(err)
	}
}

// pkgInitState lists the init system's enablement state that the package's
// scripts may touch: rc links and systemd's enablement symlinks.
func pkgInitState() []string {
	var out []string
	m, _ := filepath.Glob("/etc/rc?.d/*")
	out = append(out, m...)
	for _, d := range []string{"/etc/systemd/system", "/var/lib/systemd/deb-systemd-helper-enabled", "/var/lib/systemd/deb-systemd-helper-masked"} {
		filepath.WalkDir(d, func(p string, _ fs.DirEntry, err error) error {
			if err == nil {
				out = append(out, p)
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

// pkgAuditSnapshot is the kernel's audit settings and rules as auditctl
// reports them (without the counters), or "" without auditctl.
func pkgAuditSnapshot() string {
	if _, err := exec.LookPath("auditctl"); err != nil {
		return ""
	}
	s, _ := exec.Command("auditctl", "-s").Output()
	l, _ := exec.Command("auditctl", "-l").Output()
	var keep []string
	for _, line := range strings.Split(string(s), "\n") {
		switch k, _, _ := strings.Cut(line, " "); k {
		case "enabled", "failure", "pid", "rate_limit", "backlog_limit", "backlog_wait_time":
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "; ") + " | " + strings.TrimSpace(string(l))
}
