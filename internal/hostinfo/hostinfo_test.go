package hostinfo

import (
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func write(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseOSRelease(t *testing.T) {
	in := `# a comment
   # an indented comment

NAME="Debian GNU/Linux"
VERSION_ID=12
PRETTY_NAME='It''s "quoted"'
` + "ESC=\"a \\\"b\\\" \\\\ \\$HOME \\` \\x\"\n" + `BARE=a\ b\"c
MIX="x"'y'z
EMPTY=
EMPTYQ=""
SPACED = "around the equals"
TRAILING="value"   
ID=first
ID=second
CRLF="dos"` + "\r" + `
lower_case=ok
9BAD=no
BAD-KEY=no
NOEQUALS
UNTERMINATED="open
SINGLE='open
TWO=two words
BACKSLASH=end\
DQBACKSLASH="end\
NUL="a` + "\x00" + `b"
`
	want := map[string]string{
		"NAME":        "Debian GNU/Linux",
		"VERSION_ID":  "12",
		"PRETTY_NAME": `Its "quoted"`,
		"ESC":         `a "b" \ $HOME ` + "`" + ` \x`,
		"BARE":        `a b"c`,
		"MIX":         "xyz",
		"EMPTY":       "",
		"EMPTYQ":      "",
		"SPACED":      "around the equals",
		"TRAILING":    "value",
		"ID":          "second",
		"CRLF":        "dos",
		"lower_case":  "ok",
	}
	if got := parseOSRelease([]byte(in)); !maps.Equal(got, want) {
		for k := range maps.Keys(got) {
			if got[k] != want[k] {
				t.Errorf("%s = %q, want %q", k, got[k], want[k])
			}
		}
		for k := range maps.Keys(want) {
			if _, ok := got[k]; !ok {
				t.Errorf("%s missing", k)
			}
		}
	}
}

// distros are os-release files as the distributions ship them (the
// fields Read uses), with what Read makes of them.
var distros = []struct {
	name, data string
	want       OS
}{
	{"debian12", `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`, OS{Name: "Debian GNU/Linux", Version: "12 (bookworm)", Family: "debian", Platform: "debian", Full: "Debian GNU/Linux 12 (bookworm)"}},
	{"ubuntu2204", `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
ID=ubuntu
ID_LIKE=debian
`, OS{Name: "Ubuntu", Version: "22.04.4 LTS (Jammy Jellyfish)", Family: "debian", Platform: "ubuntu", Full: "Ubuntu 22.04.4 LTS"}},
	{"rocky9", `NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
`, OS{Name: "Rocky Linux", Version: "9.3 (Blue Onyx)", Family: "redhat", Platform: "rocky", Full: "Rocky Linux 9.3 (Blue Onyx)"}},
	{"amzn2", `NAME="Amazon Linux"
VERSION="2"
ID="amzn"
ID_LIKE="centos rhel fedora"
VERSION_ID="2"
PRETTY_NAME="Amazon Linux 2"
`, OS{Name: "Amazon Linux", Version: "2", Family: "redhat", Platform: "amzn", Full: "Amazon Linux 2"}},
	{"leap15", `NAME="openSUSE Leap"
VERSION="15.5"
ID="opensuse-leap"
ID_LIKE="suse opensuse"
VERSION_ID="15.5"
PRETTY_NAME="openSUSE Leap 15.5"
`, OS{Name: "openSUSE Leap", Version: "15.5", Family: "suse", Platform: "opensuse-leap", Full: "openSUSE Leap 15.5"}},
	{"sles15", `NAME="SLES"
VERSION="15-SP5"
VERSION_ID="15.5"
PRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"
ID="sles"
ID_LIKE="suse"
`, OS{Name: "SLES", Version: "15-SP5", Family: "suse", Platform: "sles", Full: "SUSE Linux Enterprise Server 15 SP5"}},
	{"mint21", `NAME="Linux Mint"
VERSION="21.3 (Virginia)"
ID=linuxmint
ID_LIKE="ubuntu debian"
PRETTY_NAME="Linux Mint 21.3"
VERSION_ID="21.3"
`, OS{Name: "Linux Mint", Version: "21.3 (Virginia)", Family: "debian", Platform: "linuxmint", Full: "Linux Mint 21.3"}},
	// An ID no table knows: the family comes from ID_LIKE.
	{"kali", `PRETTY_NAME="Kali GNU/Linux Rolling"
NAME="Kali GNU/Linux"
VERSION_ID="2024.1"
VERSION="2024.1"
ID=kali
ID_LIKE=debian
`, OS{Name: "Kali GNU/Linux", Version: "2024.1", Family: "debian", Platform: "kali", Full: "Kali GNU/Linux Rolling"}},
	{"manjaro", `NAME="Manjaro Linux"
PRETTY_NAME="Manjaro Linux"
ID=manjaro
ID_LIKE=arch
`, OS{Name: "Manjaro Linux", Family: "arch", Platform: "manjaro", Full: "Manjaro Linux"}},
	// No family Elastic names, and no VERSION: VERSION_ID.
	{"alpine", `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
`, OS{Name: "Alpine Linux", Version: "3.19.1", Platform: "alpine", Full: "Alpine Linux v3.19"}},
	// Nothing known: nothing made up.
	{"empty", "", OS{}},
}

func TestDistros(t *testing.T) {
	for _, d := range distros {
		t.Run(d.name, func(t *testing.T) {
			p := write(t, filepath.Join(t.TempDir(), "os-release"), d.data)
			h := Read(Paths{OSRelease: []string{p}, RedhatRelease: "/nonexistent", MachineID: []string{"/nonexistent"}})
			got := h.OS
			got.Type, got.Kernel = "", "" // from the running system
			if got != d.want {
				t.Errorf("\n got %+v\nwant %+v", got, d.want)
			}
		})
	}
}

// TestOSReleaseFallbacks: /etc/os-release is used alone when it exists,
// even empty; /usr/lib/os-release when it does not; redhat-release only
// when neither exists.
func TestOSReleaseFallbacks(t *testing.T) {
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc/os-release")
	usr := write(t, filepath.Join(dir, "usr/lib/os-release"), "ID=fedora\nNAME=Fedora\n")
	rh := write(t, filepath.Join(dir, "etc/redhat-release"), "CentOS release 6.10 (Final)\n")
	paths := Paths{OSRelease: []string{etc, usr}, RedhatRelease: rh, MachineID: []string{"/nonexistent"}}

	if o := Read(paths).OS; o.Platform != "fedora" || o.Family != "redhat" {
		t.Errorf("without /etc/os-release: %+v, want /usr/lib's fedora", o)
	}
	write(t, etc, "ID=debian\n")
	if o := Read(paths).OS; o.Platform != "debian" {
		t.Errorf("with /etc/os-release: %+v, want its debian", o)
	}
	write(t, etc, "")
	if o := Read(paths).OS; o.Platform != "" || o.Name != "" {
		t.Errorf("empty /etc/os-release: %+v, want nothing (it is used alone)", o)
	}
	os.Remove(etc)
	os.Remove(usr)
	want := OS{Name: "CentOS", Version: "6.10 (Final)", Family: "redhat", Platform: "centos", Full: "CentOS release 6.10 (Final)"}
	o := Read(paths).OS
	o.Type, o.Kernel = "", ""
	if o != want {
		t.Errorf("redhat-release: %+v, want %+v", o, want)
	}
}

func TestRedhatRelease(t *testing.T) {
	for line, want := range map[string]OS{
		"Red Hat Enterprise Linux Server release 6.10 (Santiago)\n": {Name: "Red Hat Enterprise Linux Server", Version: "6.10 (Santiago)", Family: "redhat", Platform: "rhel", Full: "Red Hat Enterprise Linux Server release 6.10 (Santiago)"},
		"Scientific Linux release 6.4 (Carbon)":                     {Name: "Scientific Linux", Version: "6.4 (Carbon)", Family: "redhat", Platform: "scientific", Full: "Scientific Linux release 6.4 (Carbon)"},
		"CloudLinux Server release 6.10\n":                          {Name: "CloudLinux Server", Version: "6.10", Family: "redhat", Full: "CloudLinux Server release 6.10"},
		"Something else entirely\n":                                 {Full: "Something else entirely"},
		"\n":                                                        {},
	} {
		var o OS
		fromRedhatRelease(&o, []byte(line))
		if o != want {
			t.Errorf("%q: %+v, want %+v", line, o, want)
		}
	}
}

func TestMachineID(t *testing.T) {
	const id = "3d1219c7c4c5404aaa1f6d2a48adfda4"
	dir := t.TempDir()
	good := write(t, filepath.Join(dir, "good"), id+"\n")
	for name, data := range map[string]string{
		"empty": "", "uninitialized": "uninitialized\n", "upper": "3D1219C7C4C5404AAA1F6D2A48ADFDA4\n",
		"short": id[:31] + "\n", "zero": "00000000000000000000000000000000\n", "two lines": id + "\n" + id + "\n",
	} {
		p := write(t, filepath.Join(dir, name), data)
		if got := readMachineID([]string{p}); got != "" {
			t.Errorf("%s: %q, want none", name, got)
		}
		if got := readMachineID([]string{p, good}); got != id {
			t.Errorf("%s then a good one: %q, want the good one", name, got)
		}
	}
	if got := readMachineID([]string{filepath.Join(dir, "missing"), good}); got != id {
		t.Errorf("missing then good: %q", got)
	}
	if got := readMachineID([]string{good + "nl"}); got != "" {
		t.Errorf("no file: %q", got)
	}
	write(t, good+"nl", id) // without the newline
	if got := readMachineID([]string{good + "nl"}); got != id {
		t.Errorf("without a newline: %q", got)
	}
}

// TestReadLive reads this machine: the kernel's answers, where there are
// some.
func TestReadLive(t *testing.T) {
	h := Read(Paths{})
	hn, _ := os.Hostname()
	if h.Hostname != hn {
		t.Errorf("hostname %q, os.Hostname %q", h.Hostname, hn)
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Skip(err)
	}
	if h.OS.Kernel == "" || h.OS.Kernel != cString(u.Release[:]) || h.Architecture != cString(u.Machine[:]) {
		t.Errorf("kernel %q, architecture %q", h.OS.Kernel, h.Architecture)
	}
	if runtime.GOOS == "linux" && h.OS.Type != "linux" {
		t.Errorf("os.type %q", h.OS.Type)
	}
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" && h.Architecture != "x86_64" {
		t.Errorf("architecture %q on amd64", h.Architecture)
	}
	t.Logf("%+v", h)
}
