package baseline

import "testing"

var pathCases = []struct{ in, want string }{
	// The examples.
	{"/home/alice/.ssh/authorized_keys", "/home/*/.ssh/authorized_keys"},
	{"/root/.ssh/authorized_keys", "/root/.ssh/authorized_keys"},
	{"/tmp/tmp.Xk3j9QzP1a", "/tmp/<rand>"},
	{"/var/tmp/ab12cd34ef56", "/var/tmp/<hex>"},
	{"/usr/lib/python3.11/site.py", "/usr/lib/python<ver>/site.py"},
	{"/opt/app-1.2.3/bin/x", "/opt/app-<ver>/bin/x"},
	{"/proc/1234/status", "/proc/<pid>/status"},
	{"/run/user/1000/bus", "/run/user/<uid>/bus"},
	{"/run/user/1000/gnupg/S.gpg-agent", "/run/user/<uid>/gnupg/S.gpg-agent"},

	// Context rules.
	{"/home/bob", "/home/*"},
	{"/home", "/home"},
	{"/proc/1234/task/1240/stat", "/proc/<pid>/task/<pid>/stat"},
	{"/proc/self/fd/3", "/proc/self/fd/<n>"},
	{"/proc/42/fdinfo/7", "/proc/<pid>/fdinfo/<n>"},
	{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/ip_forward"},
	{"/var/run/user/1000/bus", "/var/run/user/<uid>/bus"},
	{"/dev/pts/3", "/dev/pts/<n>"},
	{"/snap/core22/1380/usr/bin/snap", "/snap/core22/<n>/usr/bin/snap"},
	{"/var/snap/lxd/24061/lxd.db", "/var/snap/lxd/<n>/lxd.db"},

	// UUIDs, hex, long numbers.
	{"/dev/disk/by-uuid/123e4567-e89b-12d3-a456-426614174000", "/dev/disk/by-uuid/<uuid>"},
	{"/var/lib/docker/containers/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/config.v2.json",
		"/var/lib/docker/containers/<hex>/config.v2.json"},
	{"/sys/fs/cgroup/system.slice/docker-3f4e5d6c7b8a.scope", "/sys/fs/cgroup/system.slice/docker-<hex>.scope"},
	{"/var/log/journal/0123abcd4567ef890123abcd4567ef89/system@0005f2a1b3c4d5e6-1234abcd5678ef90.journal~",
		"/var/log/journal/<hex>/system@<hex>-<hex>.journal~"},
	{"/etc/ssl/certs/0f5dc4f3.0", "/etc/ssl/certs/<hex>.0"},
	{"/var/log/nginx/access.log.20240101", "/var/log/nginx/access.log.<n>"},
	{"/var/lib/app/core.123456", "/var/lib/app/core.<n>"},

	// Versions.
	{"/usr/lib/x86_64-linux-gnu/libQt5Core.so.5.15.8", "/usr/lib/x86_64-linux-gnu/libQt5Core.so.<ver>"},
	{"/usr/lib/libpython3.11.so.1.0", "/usr/lib/libpython<ver>.so.<ver>"},
	{"/lib/modules/6.1.0-18-amd64/kernel/fs/ext4/ext4.ko", "/lib/modules/<ver>-amd64/kernel/fs/ext4/ext4.ko"},
	{"/var/cache/apt/archives/libc6_2.36-9+deb12u4_amd64.deb", "/var/cache/apt/archives/libc6_<ver>_amd64.deb"},
	{"/usr/share/perl/5.36.0/App/Prove", "/usr/share/perl/<ver>/App/Prove"},
	{"/opt/tool/v1.22.3/bin/tool", "/opt/tool/v<ver>/bin/tool"},
	{"/opt/pkg-1.2-3.tar.gz", "/opt/pkg-<ver>.tar.gz"},
	{"/opt/x-1.2.3-4.5.6", "/opt/x-<ver>.5.6"},

	// Temp names.
	{"/tmp/systemd-private-6f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e-systemd-logind.service-Ab3XyZ/tmp",
		"/tmp/systemd-private-<hex>-systemd-logind.service-<rand>/tmp"},
	{"/tmp/tmpab3x_9k2", "/tmp/<rand>"},
	{"/tmp/.ICE-unix/2351", "/tmp/.ICE-unix/<n>"},
	{"/tmp/ssh-XXXXk3j9Qz/agent.1234", "/tmp/ssh-<rand>/agent.<n>"},
	{"/tmp/go-build1234567890/b001/exe/main", "/tmp/go-build<n>/b001/exe/main"},
	{"/dev/shm/Xk3jQz9a", "/dev/shm/<rand>"},
	{"/var/tmp/ZxQmWnPr", "/var/tmp/<rand>"},
	{"/run/user/1000/app/a8f3k2m9q1", "/run/user/<uid>/app/<rand>"},
	{"/srv/cache/Xk3j9QzP1a", "/srv/cache/<rand>"},
	{"/srv/cache/k2m9a8f3", "/srv/cache/<rand>"},

	// Cleaning and relative paths.
	{"/usr/bin/../lib//x", "/usr/lib/x"},
	{"relative/a1b2c3d4e5", "relative/<hex>"},
	{"", ""},
	{"/", "/"},
}

// Paths that must come out unchanged: ordinary words with digits.
var keepPaths = []string{
	"/usr/bin/python3",
	"/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
	"/etc/ssh/sshd_config",
	"/usr/lib/x86_64-linux-gnu/libKF5Kirigami2.so.5",
	"/usr/lib/x86_64-linux-gnu/perl-base/unicore/lib/InPC/TopAndL2.pl",
	"/etc/rcS.d/S01x11-common",
	"/etc/rc2.d/S01ssh",
	"/dev/nvme0n1p1",
	"/usr/bin/sha256sum",
	"/usr/bin/md5sum",
	"/usr/share/mysql/charsets/utf8mb4",
	"/usr/lib/gcc/x86_64-linux-gnu/12/cc1",
	"/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
	"/usr/share/fonts/X11/75dpi",
	"/usr/bin/x86_64-linux-gnu-gcc-12",
	"/var/lib/NetworkManager/NetworkManager.state",
	"/opt/LibreOffice/program/soffice.bin",
	"/usr/lib/node_modules/npm/node_modules/@npmcli/arborist",
	"/usr/lib/x86_64-linux-gnu/qt5/plugins/platforms/libqxcb.so",
	"/usr/lib/i386-linux-gnu/libgtk-3.so.0",
	"/usr/sbin/e2fsck",
	"/usr/bin/base64",
	"/etc/pkcs11/modules",
	"/tmp/.X11-unix/X0",
	"/tmp/.X0-lock",
	"/tmp/python3",
	"/var/log/syslog.1",
	"/usr/share/zoneinfo/Etc/GMT+10",
	"/proc/self/status",
	"/proc/sys/kernel/randomize_va_space",
	"/etc/shadow",
	"/bin/sh",
	"/sbin/init",
	"libc.so.6",
	"/usr/share/doc/deadbeef/README",
}

func TestPath(t *testing.T) {
	for _, c := range pathCases {
		if got := Path(c.in); got != c.want {
			t.Errorf("Path(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, p := range keepPaths {
		if got := Path(p); got != p {
			t.Errorf("Path(%q) = %q, want it unchanged", p, got)
		}
	}
}

func TestPathIdempotent(t *testing.T) {
	for _, c := range pathCases {
		once := Path(c.in)
		if twice := Path(once); twice != once {
			t.Errorf("Path(Path(%q)) = %q, Path = %q", c.in, twice, once)
		}
	}
}

func TestExe(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/memfd:foo (deleted)", "memfd:<anon>"},
		{"memfd:foo", "memfd:<anon>"},
		{"/memfd:", "memfd:<anon>"},
		{"/usr/bin/foo (deleted)", "/usr/bin/foo"},
		{"/usr/bin/foo (deleted) (deleted)", "/usr/bin/foo"},
		{"/tmp/tmp.Xk3j9QzP1a (deleted)", "/tmp/<rand>"},
		{"/usr/lib/python3.11/bin/x", "/usr/lib/python<ver>/bin/x"},
		{"/usr/bin/bash", "/usr/bin/bash"},
		{"", ""},
	} {
		got := Exe(c.in)
		if got != c.want {
			t.Errorf("Exe(%q) = %q, want %q", c.in, got, c.want)
		}
		if again := Exe(got); again != got {
			t.Errorf("Exe not idempotent on %q: %q then %q", c.in, got, again)
		}
	}
}

func TestPort(t *testing.T) {
	for _, c := range []struct {
		port      int
		listening bool
		want      string
	}{
		{22, true, "22"},
		{443, false, "443"},
		{8080, true, "8080"},
		{32767, true, "32767"},
		{32768, true, "ephemeral"},
		{60999, true, "ephemeral"},
		{61000, true, "61000"}, // above the default range: configured
		{61000, false, "ephemeral"},
		{65535, false, "ephemeral"},
		{0, true, "0"},
		{-1, false, "invalid"},
		{70000, true, "invalid"},
	} {
		if got := Port(c.port, c.listening); got != c.want {
			t.Errorf("Port(%d, %v) = %q, want %q", c.port, c.listening, got, c.want)
		}
	}
}

func TestEndpoint(t *testing.T) {
	for _, c := range []struct {
		ip   string
		port int
		want string
	}{
		{"127.0.0.1", 5432, "loopback:5432"},
		{"127.8.9.10", 40000, "loopback:ephemeral"},
		{"::1", 53, "loopback:53"},
		{"10.1.2.3", 22, "private:22"},
		{"172.16.0.1", 443, "private:443"},
		{"172.32.0.1", 443, "public:443"},
		{"192.168.1.1", 50000, "private:ephemeral"},
		{"169.254.169.254", 80, "private:80"},
		{"100.64.1.1", 80, "private:80"},
		{"fd00::1", 443, "private:443"},
		{"fe80::1%eth0", 546, "private:546"},
		{"8.8.8.8", 53, "public:53"},
		{"2001:4860:4860::8888", 443, "public:443"},
		{"::ffff:10.0.0.1", 443, "private:443"},
		{"::ffff:1.1.1.1", 443, "public:443"},
		{"224.0.0.251", 5353, "multicast:5353"},
		{"ff02::fb", 5353, "multicast:5353"},
		{"255.255.255.255", 67, "multicast:67"},
		{"0.0.0.0", 0, "unspecified:0"},
		{"not-an-ip", 1, "unknown:1"},
	} {
		if got := Endpoint(c.ip, c.port); got != c.want {
			t.Errorf("Endpoint(%q, %d) = %q, want %q", c.ip, c.port, got, c.want)
		}
	}
}

func TestChain(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, "-"},
		{[]string{"/usr/bin/bash"}, "bash"},
		{[]string{"/usr/bin/bash", "/usr/sbin/sshd"}, "sshd>bash"},
		{[]string{"/usr/bin/bash", "/usr/sbin/sshd", "/usr/lib/systemd/systemd", "/init"}, "systemd>sshd>bash"},
		{[]string{"/usr/bin/python3.11", "", "/sbin/init"}, "init>?>python<ver>"},
		{[]string{"/memfd:x (deleted)", "/tmp/tmp.Xk3j9QzP1a"}, "<rand>>memfd:<anon>"},
		{[]string{"/bin/bash", "/usr/bin/bash"}, "bash>bash"},
	} {
		if got := Chain(c.in); got != c.want {
			t.Errorf("Chain(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func BenchmarkPath(b *testing.B) {
	paths := []string{
		"/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/home/alice/.ssh/authorized_keys",
		"/usr/lib/python3.11/site-packages/pip/_vendor/rich/console.py",
		"/tmp/systemd-private-6f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e-systemd-logind.service-Ab3XyZ/tmp",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Path(paths[i%len(paths)])
	}
}
