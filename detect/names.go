package detect

import (
	"path"
	"strings"
)

// base is the file name of an executable path, without the kernel's
// " (deleted)" suffix.
func base(exe string) string {
	exe = strings.TrimSuffix(exe, " (deleted)")
	if i := strings.LastIndexByte(exe, '/'); i >= 0 {
		return exe[i+1:]
	}
	return exe
}

// trimVersion drops a trailing version from a program name: python3.11 →
// python, php8.2 → php, perl5.36.0 → perl, pip-3 → pip.
func trimVersion(name string) string {
	i := len(name)
	for i > 0 {
		c := name[i-1]
		if c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			i--
			continue
		}
		break
	}
	if i == 0 {
		return name
	}
	return name[:i]
}

var shells = set("sh", "bash", "dash", "zsh", "ksh", "mksh", "pdksh", "csh", "tcsh", "fish", "ash", "rbash", "yash")

// interpreters can run code given to them on the command line or stdin.
var interpreters = set("python", "perl", "ruby", "php", "php-cgi", "node", "nodejs", "lua", "luajit", "tclsh", "wish", "irb", "pwsh", "jshell", "busybox")

// netTools are programs that hand a socket to whatever they run.
var netTools = set("nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "socat", "telnet", "cryptcat", "openssl")

func isShell(exe string) bool { return shells[base(exe)] }

func isShellOrInterpreter(exe string) bool {
	b := base(exe)
	return shells[b] || interpreters[trimVersion(b)] || interpreters[b]
}

// webServers are network-facing services known by name; any process seen
// listening on an IP port counts as well (see state.listening).
var webServers = set("nginx", "apache2", "httpd", "lighttpd", "caddy", "php-fpm", "uwsgi", "gunicorn", "tomcat",
	"haproxy", "squid", "vsftpd", "proftpd", "pure-ftpd", "mysqld", "mariadbd", "postgres", "redis-server",
	"mongod", "memcached", "named", "dnsmasq", "smbd", "exim4", "master", "smtpd", "dovecot", "jenkins", "puma", "unicorn")

// loginBoundary: a shell below these is a login, a job or an admin's
// session, not something a service spawned.
var loginBoundary = set("sshd", "sshd-session", "login", "su", "sudo", "doas", "cron", "crond", "atd", "systemd",
	"init", "agetty", "getty", "tmux", "tmux: server", "screen", "SCREEN", "containerd-shim", "containerd-shim-runc-v2",
	"runc", "conmon", "systemd-run", "xinetd", "inetd", "dbus-daemon", "polkitd", "pkexec", "lineaged")

// packageManagers: activity below them is patch day (SPEC §3).
var packageManagers = set("dpkg", "apt", "apt-get", "aptitude", "unattended-upgrade", "unattended-upgrades", "rpm",
	"yum", "dnf", "dnf-3", "microdnf", "zypper", "packagekitd", "snapd", "apk")

func isPackageManager(exe string) bool {
	b := base(exe)
	return packageManagers[b] || packageManagers[trimVersion(b)]
}

// setuidPrograms are the set-user-ID programs distributions ship: euid 0
// from them is how root is meant to be gained.
var setuidPrograms = set("sudo", "su", "sudoedit", "pkexec", "passwd", "chsh", "chfn", "newgrp", "gpasswd", "mount",
	"umount", "fusermount", "fusermount3", "ping", "ping6", "unix_chkpwd", "ssh-keysign", "Xorg", "Xorg.wrap",
	"dbus-daemon-launch-helper", "polkit-agent-helper-1", "at", "crontab", "chage", "expiry", "newuidmap",
	"newgidmap", "doas", "traceroute6.iputils", "userhelper", "staprun", "pam_timestamp_check", "mount.nfs",
	"mount.cifs", "ntfs-3g", "snap-confine", "chrome-sandbox", "vmware-user-suid-wrapper", "Xorg.bin")

// credentialReaders read /etc/shadow by design.
var credentialReaders = set("unix_chkpwd", "sshd", "sshd-session", "login", "su", "sudo", "passwd", "chage",
	"useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel", "chpasswd", "chgpasswd", "newusers", "pwck", "grpck",
	"vipw", "vigr", "pwconv", "pwunconv", "grpconv", "grpunconv", "cron", "crond", "polkitd", "polkit-agent-helper-1",
	"gdm-session-worker", "lightdm", "sddm-helper", "expiry", "pkexec", "doas", "sssd", "nscd", "cpio", "tar", "rsync",
	"shadowconfig", "lineaged", "gpasswd", "passwd.real", "dpkg", "rpm", "auditd", "aide", "debsums", "rkhunter")

// auditDaemons may write, rotate and delete audit logs.
var auditDaemons = set("auditd", "lineaged", "logrotate", "rsyslogd", "syslog-ng", "systemd-journald", "journalctl", "savelog", "audispd")

// daemonNames are names attackers borrow for their programs. A process
// named so whose executable lives elsewhere than the system directories
// masquerades.
var daemonNames = set("sshd", "systemd", "cron", "crond", "rsyslogd", "syslogd", "dbus-daemon", "nginx", "httpd",
	"apache2", "init", "udevd", "systemd-udevd", "systemd-journald", "systemd-logind", "agetty", "auditd", "containerd",
	"dockerd", "kthreadd", "atd", "irqbalance", "polkitd", "NetworkManager", "chronyd", "ntpd", "snapd", "postgres", "mysqld")

// systemDirs hold programs installed by packages.
var systemDirs = []string{"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/", "/usr/lib/", "/lib/", "/usr/lib64/", "/lib64/",
	"/usr/libexec/", "/usr/local/sbin/", "/usr/local/bin/", "/usr/local/lib/", "/opt/", "/snap/", "/nix/store/"}

func inSystemDir(exe string) bool {
	for _, d := range systemDirs {
		if strings.HasPrefix(exe, d) {
			return true
		}
	}
	return false
}

// kthreadPrefixes start the names of kernel threads.
var kthreadPrefixes = []string{"kworker/", "ksoftirqd/", "migration/", "rcu_", "kthreadd", "watchdog/", "kswapd",
	"jbd2/", "irq/", "cpuhp/", "kcompactd", "khugepaged", "kdevtmpfs", "kauditd", "oom_reaper", "writeback", "kblockd"}

// looksLikeKernelThread: "[kworker/0:1]" as ps shows kernel threads, or a
// bare kernel-thread name.
func looksLikeKernelThread(name string) bool {
	if len(name) > 2 && name[0] == '[' && name[len(name)-1] == ']' {
		return true
	}
	for _, p := range kthreadPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// tempExecDirs are world-writable places programs are dropped into.
var tempExecDirs = []string{"/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/dev/mqueue/"}

func inTempDir(exe string) bool {
	for _, d := range tempExecDirs {
		if strings.HasPrefix(exe, d) {
			return true
		}
	}
	return false
}

// deletedExe: a program run from a file that is gone or never had a name
// (memfd_create, the classic fileless exec).
func deletedExe(exe string) bool {
	return strings.HasSuffix(exe, " (deleted)") || strings.HasPrefix(exe, "/memfd:") || strings.HasPrefix(exe, "memfd:")
}

// persistence classifies a path written to as a persistence location,
// returning the ATT&CK technique and what the place is.
func persistence(p string) (technique, what string, ok bool) {
	p = path.Clean(p)
	dir, file := path.Split(p)
	switch {
	case p == "/etc/crontab" || strings.HasPrefix(p, "/etc/cron.") || strings.HasPrefix(p, "/var/spool/cron/") ||
		strings.HasPrefix(p, "/etc/anacrontab") || strings.HasPrefix(p, "/var/spool/anacron/"):
		return "T1053.003", "a cron job", true
	case strings.HasPrefix(p, "/etc/systemd/system/") || strings.HasPrefix(p, "/lib/systemd/system/") ||
		strings.HasPrefix(p, "/usr/lib/systemd/system/") || strings.HasPrefix(p, "/run/systemd/system/") ||
		strings.Contains(p, "/.config/systemd/user/") || strings.HasPrefix(p, "/etc/systemd/user/"):
		return "T1543.002", "a systemd unit", true
	case file == "authorized_keys" || file == "authorized_keys2":
		return "T1098.004", "SSH authorized keys", true
	case p == "/etc/ld.so.preload":
		return "T1574.006", "the dynamic linker's preload list", true
	case p == "/etc/sudoers" || strings.HasPrefix(p, "/etc/sudoers.d/"):
		return "T1548.003", "sudo's rules", true
	case p == "/etc/passwd" || p == "/etc/shadow" || p == "/etc/group" || p == "/etc/gshadow":
		return "T1136.001", "the account database", true
	case p == "/etc/rc.local" || strings.HasPrefix(p, "/etc/init.d/") || strings.HasPrefix(p, "/etc/rc.d/") ||
		(strings.HasPrefix(dir, "/etc/rc") && strings.HasSuffix(dir, ".d/")):
		return "T1037.004", "a boot script", true
	case p == "/etc/profile" || strings.HasPrefix(p, "/etc/profile.d/") || p == "/etc/bash.bashrc" || p == "/etc/bashrc" ||
		p == "/etc/zshrc" || p == "/etc/zsh/zshrc" || p == "/etc/environment":
		return "T1546.004", "a shell start-up file", true
	case file == ".bashrc" || file == ".bash_profile" || file == ".profile" || file == ".bash_login" ||
		file == ".zshrc" || file == ".zprofile" || file == ".bash_logout":
		return "T1546.004", "a shell start-up file", true
	}
	return "", "", false
}

var credentialFiles = set("/etc/shadow", "/etc/gshadow", "/etc/security/opasswd", "/etc/shadow-", "/etc/gshadow-")

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
