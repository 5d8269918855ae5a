// Package hostinfo gathers the facts about the machine lineaged runs on
// that every JSON line carries as ECS host.* and agent.*: what a SIEM
// needs to tell which machine, which OS and which installation an event
// came from when many hosts send to one place.
//
// # Sources
//
//   - host.hostname: the kernel's nodename (os.Hostname reads
//     /proc/sys/kernel/hostname, uname(2) otherwise).
//   - host.architecture, host.os.kernel: uname(2)'s machine (x86_64,
//     aarch64) and release (6.1.0-18-amd64).
//   - host.id: /etc/machine-id, the id systemd (or dbus, at
//     /var/lib/dbus/machine-id, the fallback) gives the installation
//     (machine-id(5)); ECS names it as the Linux host.id.
//   - host.os.*: /etc/os-release, or /usr/lib/os-release when /etc has
//     none (os-release(5): the first that exists is used alone); on
//     systems older than os-release (RHEL and CentOS 6),
//     /etc/redhat-release's one line.
//   - agent.id: AgentID, a random id kept in lineaged's state directory.
//
// # Unknown is empty
//
// A value that cannot be read is left empty, and the encoder omits it:
// never a placeholder such as "unknown" or "linux", which a query would
// match as if it were true. os-release(5) gives defaults for a missing
// NAME ("Linux") and ID ("linux"); they are not applied for that reason.
package hostinfo

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Host is what ECS calls host.*.
type Host struct {
	Hostname     string // host.hostname
	ID           string // host.id: the machine id, 32 lowercase hex digits
	Architecture string // host.architecture: uname's machine
	OS           OS     // host.os.*
}

// OS is host.os.*.
type OS struct {
	Type     string // host.os.type: "linux" (ECS's value for Linux)
	Kernel   string // host.os.kernel: uname's release
	Name     string // host.os.name: os-release NAME ("Debian GNU/Linux")
	Version  string // host.os.version: os-release VERSION, else VERSION_ID ("12 (bookworm)")
	Family   string // host.os.family: debian, redhat, suse or arch, from ID and ID_LIKE
	Platform string // host.os.platform: os-release ID ("debian", "rocky")
	Full     string // host.os.full: os-release PRETTY_NAME
}

// Paths are the files Read looks at. An empty field means the system's
// (DefaultPaths); tests point them at their own.
type Paths struct {
	OSRelease     []string // first that can be opened is used alone
	RedhatRelease string   // read only when no OSRelease file exists
	MachineID     []string // first that holds a valid machine id
}

// DefaultPaths are the system's files.
func DefaultPaths() Paths {
	return Paths{
		OSRelease:     []string{"/etc/os-release", "/usr/lib/os-release"},
		RedhatRelease: "/etc/redhat-release",
		MachineID:     []string{"/etc/machine-id", "/var/lib/dbus/machine-id"},
	}
}

// maxFile bounds what is read of any of the files: os-release is a few
// hundred bytes, the others one line.
const maxFile = 64 << 10

// Read gathers the facts. It does not fail: what it cannot read stays
// empty.
func Read(p Paths) Host {
	d := DefaultPaths()
	if p.OSRelease == nil {
		p.OSRelease = d.OSRelease
	}
	if p.RedhatRelease == "" {
		p.RedhatRelease = d.RedhatRelease
	}
	if p.MachineID == nil {
		p.MachineID = d.MachineID
	}
	var h Host
	h.Hostname, _ = os.Hostname()
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Architecture = cString(u.Machine[:])
		h.OS.Kernel = cString(u.Release[:])
		if h.Hostname == "" {
			h.Hostname = cString(u.Nodename[:])
		}
	}
	switch runtime.GOOS {
	case "linux":
		h.OS.Type = "linux"
	case "darwin":
		h.OS.Type = "macos"
	}
	h.ID = readMachineID(p.MachineID)
	if data, ok := readFirst(p.OSRelease); ok {
		fromOSRelease(&h.OS, parseOSRelease(data))
	} else if data, err := readSmall(p.RedhatRelease); err == nil {
		fromRedhatRelease(&h.OS, data)
	}
	return h
}

// cString is a NUL-terminated byte array as a string.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// readFirst reads the first of paths that can be read.
func readFirst(paths []string) ([]byte, bool) {
	for _, p := range paths {
		if data, err := readSmall(p); err == nil {
			return data, true
		}
	}
	return nil, false
}

// readSmall reads at most maxFile bytes of a regular file.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: path, Err: errNotRegular}
	}
	return io.ReadAll(io.LimitReader(f, maxFile))
}

// readMachineID returns the first valid machine id of paths.
func readMachineID(paths []string) string {
	for _, p := range paths {
		if data, err := readSmall(p); err == nil {
			if id, ok := parseMachineID(data); ok {
				return id
			}
		}
	}
	return ""
}

// parseMachineID reads a machine-id file: 32 lowercase hexadecimal
// digits and a newline (machine-id(5)). An empty file (an image not yet
// booted), "uninitialized" (systemd's mark during first boot) and the
// all-zero id are not ids.
func parseMachineID(data []byte) (string, bool) {
	s := strings.TrimSuffix(string(data), "\n")
	if len(s) != 32 || !isLowerHex(s) || s == strings.Repeat("0", 32) {
		return "", false
	}
	return s, true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// families maps an os-release ID (or an ID_LIKE word) to ECS's
// host.os.family, as Elastic's own agents name them (go-sysinfo), so a
// query on host.os.family finds lineaged's hosts among theirs.
var families = map[string]string{
	"debian": "debian", "ubuntu": "debian", "raspbian": "debian", "linuxmint": "debian",
	"rhel": "redhat", "centos": "redhat", "fedora": "redhat", "rocky": "redhat", "almalinux": "redhat",
	"ol": "redhat", "oraclelinux": "redhat", "amzn": "redhat", "scientific": "redhat", "redhat": "redhat",
	"suse": "suse", "sles": "suse", "sled": "suse", "opensuse": "suse", "opensuse-leap": "suse", "opensuse-tumbleweed": "suse",
	"arch": "arch",
}

// fromOSRelease fills os from os-release's variables. The family is
// that of ID, else of the first ID_LIKE word that has one (Rocky is
// "rocky", like "rhel centos fedora"; Mint is like "ubuntu debian").
func fromOSRelease(o *OS, v map[string]string) {
	o.Name = v["NAME"]
	o.Version = v["VERSION"]
	if o.Version == "" {
		o.Version = v["VERSION_ID"]
	}
	o.Platform = v["ID"]
	o.Full = v["PRETTY_NAME"]
	for _, id := range append([]string{v["ID"]}, strings.Fields(v["ID_LIKE"])...) {
		if f, ok := families[id]; ok {
			o.Family = f
			break
		}
	}
}
