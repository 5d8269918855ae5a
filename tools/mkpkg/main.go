// Command mkpkg builds lineaged's release artefacts: for each
// architecture a static binary, a .deb and an .rpm, with nfpm used as a
// library. Run it from the repository root:
//
//	go run ./tools/mkpkg -out dist [-version 1.2.3] [-arch amd64,arm64]
//
// The package contents (systemd unit, SysV init script, maintainer
// scripts, rules.d README) are the plain files in packaging/; the default
// configuration is config.DefaultYAML(). See packaging/README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"

	"github.com/lineaged/lineaged/config"
)

const (
	name       = "lineaged"
	maintainer = "lineaged maintainers <maintainers@users.noreply.github.com>"
	homepage   = "https://github.com/lineaged/lineaged"
	summary    = "process-lineage intrusion detection for Linux servers without eBPF"
	descr      = summary + "\n" +
		"lineaged merges the kernel's audit records, the proc connector, fanotify\n" +
		"and sock_diag into one process-lineage graph, so every event it writes\n" +
		"knows its whole ancestry. It runs on kernels from 3.10 (EL7) up, without\n" +
		"eBPF or a kernel module, beside auditd or in its place."
)

func main() {
	out := flag.String("out", "dist", "output `DIR` for the binaries and packages")
	version := flag.String("version", "", "package `VERSION` (default: git describe --tags --always --dirty, made package-legal)")
	arches := flag.String("arch", "amd64,arm64", "comma-separated GOARCH `LIST`")
	compression := flag.String("compression", "gzip", "payload compression of both formats: gzip or xz (not zstd: EL7's rpm cannot read it)")
	flag.Parse()
	if flag.NArg() > 0 {
		fatalf("unexpected argument %q", flag.Arg(0))
	}
	if *compression != "gzip" && *compression != "xz" {
		fatalf("-compression %q: gzip or xz", *compression)
	}
	for _, f := range []string{"go.mod", "packaging/lineaged.service"} {
		if _, err := os.Stat(f); err != nil {
			fatalf("run mkpkg from the repository root (%v)", err)
		}
	}

	binVersion := *version
	if binVersion == "" {
		out, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output()
		if err != nil {
			fatalf("git describe: %v (give -version)", err)
		}
		binVersion = strings.TrimSpace(string(out))
	}
	pkgVer := packageVersion(binVersion)

	if err := os.MkdirAll(*out, 0o755); err != nil {
		fatalf("%v", err)
	}
	stage, err := os.MkdirTemp("", "mkpkg-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(stage)
	cfg := filepath.Join(stage, "lineaged.yml")
	if err := os.WriteFile(cfg, config.DefaultYAML(), 0o640); err != nil {
		fatalf("%v", err)
	}

	for _, arch := range strings.Split(*arches, ",") {
		arch = strings.TrimSpace(arch)
		if arch == "" {
			continue
		}
		bin := filepath.Join(*out, fmt.Sprintf("%s_linux_%s", name, arch))
		if err := buildBinary(bin, arch, binVersion); err != nil {
			fatalf("%v", err)
		}
		fmt.Println(bin)
		for _, format := range []string{"deb", "rpm"} {
			path, err := buildPackage(*out, format, arch, pkgVer, *compression, bin, cfg)
			if err != nil {
				fatalf("%s %s: %v", format, arch, err)
			}
			fmt.Println(path)
		}
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mkpkg: "+format+"\n", args...)
	os.Exit(1)
}

// buildBinary builds the static binary as the Makefile does.
func buildBinary(out, arch, version string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+version,
		"-o", out, "./cmd/lineaged")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build (GOARCH=%s): %w", arch, err)
	}
	return nil
}

var (
	reTag  = regexp.MustCompile(`^v?([0-9]+(?:\.[0-9]+)*)(?:-([0-9A-Za-z.]+?))??(?:-([0-9]+)-g([0-9a-f]+))?$`)
	reHash = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	reBad  = regexp.MustCompile(`[^0-9A-Za-z.+~]+`)
)

// packageVersion makes a version legal for both dpkg and rpm (digits
// first; letters, digits, ".", "+", "~"; no "-", which both take as the
// release separator) from git describe output or a -version value:
//
//	v1.2.3                 1.2.3
//	v1.2.3-rc1             1.2.3~rc1            (sorts before 1.2.3)
//	v1.2.3-5-gabc1234      1.2.3+git5.gabc1234  (sorts after 1.2.3)
//	abc1234 (no tag)       0.0.0~gitabc1234
//	...-dirty              ...+dirty or ....dirty
func packageVersion(s string) string {
	s = strings.TrimSpace(s)
	dirty := strings.HasSuffix(s, "-dirty")
	s = strings.TrimSuffix(s, "-dirty")
	var v string
	switch m := reTag.FindStringSubmatch(s); {
	case reHash.MatchString(s): // git describe --always without a tag
		v = "0.0.0~git" + s
	case m != nil:
		v = m[1]
		if m[2] != "" {
			v += "~" + m[2]
		}
		if m[3] != "" {
			v += "+git" + m[3] + ".g" + m[4]
		}
	default:
		v = strings.Trim(reBad.ReplaceAllString(s, "."), ".")
		if v == "" || v[0] < '0' || v[0] > '9' {
			v = "0.0.0~" + v
		}
	}
	if dirty {
		if strings.Contains(v, "+") {
			v += ".dirty"
		} else {
			v += "+dirty"
		}
	}
	return strings.TrimSuffix(v, "~")
}

// info describes the package for one format and architecture; each
// packager gets its own (they rewrite fields such as Arch).
func info(format, arch, version, compression, bin, cfg string) *nfpm.Info {
	unitDir := "/lib/systemd/system" // Debian's place, also on merged-/usr
	if format == "rpm" {
		unitDir = "/usr/lib/systemd/system" // %{_unitdir} on EL and SUSE
	}
	root := func(mode os.FileMode) *files.ContentFileInfo {
		return &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode}
	}
	in := &nfpm.Info{
		Name:          name,
		Arch:          arch,
		Platform:      "linux",
		Version:       version,
		VersionSchema: "none",
		Release:       "1",
		Section:       "admin",
		Priority:      "optional",
		Maintainer:    maintainer,
		Vendor:        "lineaged",
		Homepage:      homepage,
		License:       "Apache-2.0",
		Description:   descr,
		Overridables: nfpm.Overridables{
			// A static binary: no dependencies.
			Contents: files.Contents{
				{Source: bin, Destination: "/usr/bin/lineaged", FileInfo: root(0o755)},
				{Destination: "/etc/lineaged", Type: files.TypeDir, FileInfo: root(0o755)},
				{Source: cfg, Destination: "/etc/lineaged/lineaged.yml", Type: files.TypeConfigNoReplace, FileInfo: root(0o640)},
				{Destination: "/etc/lineaged/rules.d", Type: files.TypeDir, FileInfo: root(0o755)},
				{Source: "packaging/rules.d/README", Destination: "/etc/lineaged/rules.d/README", Type: files.TypeConfigNoReplace, FileInfo: root(0o644)},
				{Source: "packaging/lineaged.service", Destination: unitDir + "/lineaged.service", FileInfo: root(0o644)},
				// deb: a conffile, as Debian policy wants for /etc (kept by
				// "dpkg -r", which the script survives: it exits 0 without
				// the binary); rpm: %config, replaced on upgrade.
				{Source: "packaging/lineaged.init", Destination: "/etc/init.d/lineaged", Type: files.TypeConfig, FileInfo: root(0o755)},
				{Destination: "/var/lib/lineaged", Type: files.TypeDir, FileInfo: root(0o700)},
				{Destination: "/var/log/lineaged", Type: files.TypeDir, FileInfo: root(0o750)},
			},
			Scripts: nfpm.Scripts{
				PostInstall: "packaging/scripts/postinstall.sh",
				PreRemove:   "packaging/scripts/preremove.sh",
				PostRemove:  "packaging/scripts/postremove.sh",
			},
			Deb: nfpm.Deb{Compression: compression},
			RPM: nfpm.RPM{
				Compression: compression,
				Group:       "System Environment/Daemons",
				Summary:     summary,
				Packager:    maintainer,
			},
		},
	}
	if t := sourceDateEpoch(); !t.IsZero() {
		in.MTime = t
	}
	return nfpm.WithDefaults(in)
}

// sourceDateEpoch honours SOURCE_DATE_EPOCH for reproducible packages.
func sourceDateEpoch() time.Time {
	var sec int64
	if _, err := fmt.Sscan(os.Getenv("SOURCE_DATE_EPOCH"), &sec); err != nil || sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

func buildPackage(dir, format, arch, version, compression, bin, cfg string) (string, error) {
	var p nfpm.Packager
	switch format {
	case "deb":
		p = deb.Default
	case "rpm":
		p = rpm.DefaultRPM
	default:
		return "", fmt.Errorf("unknown format %q", format)
	}
	in := info(format, arch, version, compression, bin, cfg)
	path := filepath.Join(dir, p.ConventionalFileName(info(format, arch, version, compression, bin, cfg)))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	in.Target = path
	if err := p.Package(in, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", errors.Join(err, os.Remove(path))
	}
	return path, nil
}
