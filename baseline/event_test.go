package baseline

import (
	"slices"
	"testing"

	"github.com/lineaged/lineaged/event"
)

func exeEvent(action event.Action, exe string, anc ...event.ProcRef) *event.Event {
	e := &event.Event{
		TimeMsec: t0.UnixMilli(),
		Kind:     event.KindEvent,
		Category: "process",
		Action:   action,
		Outcome:  "success",
		Host:     "web1",
		Process:  event.Process{PID: 100, Executable: exe},
		User:     event.User{ID: "1000", EffectiveID: "1000"},
		Ancestry: anc,
	}
	if len(anc) > 0 {
		e.Parent = &e.Ancestry[0]
	}
	return e
}

var (
	bash    = event.ProcRef{PID: 90, Executable: "/usr/bin/bash", UserID: "1000"}
	sshd    = event.ProcRef{PID: 80, Executable: "/usr/sbin/sshd", UserID: "0"}
	systemd = event.ProcRef{PID: 1, Executable: "/usr/lib/systemd/systemd", UserID: "0"}
	init0   = event.ProcRef{PID: 0, Executable: "/init", UserID: "0"}
)

func TestEventKeys(t *testing.T) {
	type mod func(*event.Event)
	for _, c := range []struct {
		name   string
		action event.Action
		exe    string
		anc    []event.ProcRef
		mod    mod
		want   []string
	}{
		{"exec", "executed", "/usr/bin/id", []event.ProcRef{bash, sshd, systemd, init0}, nil, []string{
			"exec-edge|systemd>sshd>bash|/usr/bin/id",
			"user-exe|1000|/usr/bin/id",
		}},
		{"exec with unknown ancestor", "executed", "/usr/bin/id", []event.ProcRef{bash, {PID: 7, Unknown: true}}, nil, []string{
			"exec-edge|?>bash|/usr/bin/id",
			"user-exe|1000|/usr/bin/id",
		}},
		{"exec without ancestry", "executed", "/sbin/init", nil, func(e *event.Event) { e.User = event.User{ID: "0"} }, []string{
			"exec-edge|-|/sbin/init",
			"user-exe|0|/sbin/init",
		}},
		{"exec with parent only", "executed", "/usr/bin/id", nil, func(e *event.Event) { e.Parent = &bash }, []string{
			"exec-edge|bash|/usr/bin/id",
			"user-exe|1000|/usr/bin/id",
		}},
		{"setuid exec", "executed", "/usr/bin/sudo", []event.ProcRef{bash, sshd}, func(e *event.Event) { e.User.EffectiveID = "0" }, []string{
			"exec-edge|sshd>bash|/usr/bin/sudo",
			"user-exe|1000|/usr/bin/sudo",
			"uid-transition|/usr/bin/sudo|1000|0",
		}},
		{"service started as a user", "executed", "/usr/bin/app", []event.ProcRef{systemd}, func(e *event.Event) { e.User = event.User{ID: "33"} }, []string{
			"exec-edge|systemd|/usr/bin/app",
			"user-exe|33|/usr/bin/app",
			"uid-transition|/usr/bin/app|0|33",
		}},
		{"existing process: no uid transition", "existing", "/usr/sbin/cron", []event.ProcRef{systemd}, func(e *event.Event) { e.User = event.User{ID: "33"} }, []string{
			"exec-edge|systemd|/usr/sbin/cron",
			"user-exe|33|/usr/sbin/cron",
		}},
		{"exec file gives no file-access", "executed", "/usr/bin/id", []event.ProcRef{bash}, func(e *event.Event) {
			e.File = &event.File{Path: "/usr/bin/id", Operation: "exec"}
		}, []string{"exec-edge|bash|/usr/bin/id", "user-exe|1000|/usr/bin/id"}},
		{"failed exec", "executed", "/usr/bin/id", []event.ProcRef{bash}, func(e *event.Event) { e.Outcome = "failure" }, nil},
		{"no executable", "executed", "", []event.ProcRef{bash}, nil, nil},
		{"alert", "executed", "/usr/bin/id", []event.ProcRef{bash}, func(e *event.Event) { e.Kind = event.KindAlert }, nil},
		{"setuid call", "changed-identity-of", "/usr/sbin/sshd", nil, func(e *event.Event) {
			e.User = event.User{ID: "0", EffectiveID: "0"}
			e.Target = &event.User{ID: "1000", EffectiveID: "1000"}
		}, []string{"uid-transition|/usr/sbin/sshd|0|1000"}},
		{"setuid call, unknown from", "changed-identity-of", "/usr/sbin/sshd", nil, func(e *event.Event) {
			e.User = event.User{}
			e.Target = &event.User{ID: "1000"}
		}, nil},
		{"setgid call", "changed-identity-of", "/usr/sbin/sshd", nil, func(e *event.Event) {
			e.Target = &event.User{GroupID: "1000"}
		}, nil},
		{"file read", "opened-file", "/usr/sbin/sshd", nil, func(e *event.Event) {
			e.Category = "file"
			e.File = &event.File{Path: "/home/alice/.ssh/authorized_keys", Operation: "read"}
		}, []string{"file-access|/usr/sbin/sshd|read|/home/*/.ssh/authorized_keys"}},
		{"fanotify open", "opened-file", "/usr/bin/cat", nil, func(e *event.Event) {
			e.File = &event.File{Path: "/etc/shadow", Operation: "open"}
		}, []string{"file-access|/usr/bin/cat|read|/etc/shadow"}},
		{"file create", "created", "/usr/bin/vim", nil, func(e *event.Event) {
			e.File = &event.File{Path: "/tmp/tmp.Xk3j9QzP1a", Operation: "create"}
		}, []string{"file-access|/usr/bin/vim|write|/tmp/<rand>"}},
		{"file attr", "changed-file-attributes", "/usr/bin/chmod", nil, func(e *event.Event) {
			e.File = &event.File{Path: "/usr/local/bin/x", Operation: "attr"}
		}, []string{"file-access|/usr/bin/chmod|write|/usr/local/bin/x"}},
		{"fanotify exec", "executed-file", "/usr/bin/bash", nil, func(e *event.Event) {
			e.File = &event.File{Path: "/usr/lib/x86_64-linux-gnu/libc.so.6", Operation: "exec"}
		}, []string{"file-access|/usr/bin/bash|exec|/usr/lib/x86_64-linux-gnu/libc.so.6"}},
		{"failed open", "opened-file", "/usr/bin/cat", nil, func(e *event.Event) {
			e.Outcome = "failure"
			e.File = &event.File{Path: "/etc/shadow", Operation: "read"}
		}, nil},
		{"module load", "loaded-kernel-module", "/usr/bin/kmod", nil, func(e *event.Event) {
			e.File = &event.File{Path: "nf_tables", Operation: "module"}
		}, nil},
		{"mount", "mounted", "/usr/bin/mount", nil, func(e *event.Event) {
			e.File = &event.File{Path: "/mnt"}
		}, nil},
		{"bind", "bound-socket", "/usr/sbin/nginx", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "ipv4"}
			e.Source = &event.Endpoint{IP: "0.0.0.0", Port: 80}
		}, []string{"listen|/usr/sbin/nginx|80"}},
		{"bind port 0", "bound-socket", "/usr/bin/dig", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "ipv4"}
			e.Source = &event.Endpoint{IP: "0.0.0.0"}
		}, nil},
		{"netlink bind", "bound-socket", "/usr/sbin/ip", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "netlink"}
			e.Source = &event.Endpoint{Port: 1234}
		}, nil},
		{"sock_diag listener", "socket-listening", "/usr/bin/python3", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "ipv6", Transport: "udp", Direction: "listening"}
			e.Source = &event.Endpoint{IP: "::", Port: 45678}
		}, []string{"listen|/usr/bin/python3|ephemeral"}},
		{"unix listener", "socket-listening", "/usr/bin/dbus-daemon", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "unix", Direction: "listening"}
			e.Source = &event.Endpoint{Path: "@/tmp/dbus-Xk3j9QzP1a"}
		}, []string{"listen|/usr/bin/dbus-daemon|unix:@/tmp/dbus-<rand>"}},
		{"connect", "connected-to", "/usr/bin/curl", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "ipv4", Direction: "egress"}
			e.Dest = &event.Endpoint{IP: "93.184.216.34", Port: 443}
		}, []string{"connect|/usr/bin/curl|public:443"}},
		{"connect in progress", "connected-to", "/usr/bin/curl", nil, func(e *event.Event) {
			e.Outcome = "failure"
			e.Audit = &event.Audit{ExitValue: "EINPROGRESS"}
			e.Network = &event.Network{Family: "ipv6", Direction: "egress"}
			e.Dest = &event.Endpoint{IP: "fd00::5", Port: 5432}
		}, []string{"connect|/usr/bin/curl|private:5432"}},
		{"connect refused", "connected-to", "/usr/bin/curl", nil, func(e *event.Event) {
			e.Outcome = "failure"
			e.Audit = &event.Audit{ExitValue: "ECONNREFUSED"}
			e.Network = &event.Network{Family: "ipv4", Direction: "egress"}
			e.Dest = &event.Endpoint{IP: "10.0.0.1", Port: 5432}
		}, nil},
		{"sock_diag connected", "socket-connected", "/usr/bin/ssh", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "ipv4", Transport: "tcp", Direction: "egress"}
			e.Source = &event.Endpoint{IP: "10.0.0.2", Port: 50123}
			e.Dest = &event.Endpoint{IP: "127.0.0.1", Port: 22}
		}, []string{"connect|/usr/bin/ssh|loopback:22"}},
		{"sock_diag accepted", "socket-connected", "/usr/sbin/sshd", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "ipv4", Transport: "tcp", Direction: "ingress"}
			e.Source = &event.Endpoint{IP: "1.2.3.4", Port: 50123}
			e.Dest = &event.Endpoint{IP: "10.0.0.2", Port: 22}
		}, nil},
		{"socket closed", "socket-closed", "/usr/bin/ssh", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "ipv4", Direction: "egress"}
			e.Dest = &event.Endpoint{IP: "1.2.3.4", Port: 22}
		}, nil},
		{"unix connect", "connected-to", "/usr/bin/docker", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "unix", Direction: "egress"}
			e.Dest = &event.Endpoint{Path: "/run/docker.sock"}
		}, []string{"connect|/usr/bin/docker|unix:/run/docker.sock"}},
		{"sendto", "sent-message-to", "/usr/lib/systemd/systemd-resolved", nil, func(e *event.Event) {
			e.Network = &event.Network{Family: "ipv4", Direction: "egress"}
			e.Dest = &event.Endpoint{IP: "1.1.1.1", Port: 53}
		}, []string{"connect|/usr/lib/systemd/systemd-resolved|public:53"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := exeEvent(c.action, c.exe, c.anc...)
			if c.mod != nil {
				c.mod(e)
			}
			got := EventKeys(e)
			if !slices.Equal(got, c.want) {
				t.Errorf("keys\n got  %q\n want %q", got, c.want)
			}
			for _, k := range got {
				if _, err := Canonical(k); err != nil {
					t.Errorf("key %q not canonical: %v", k, err)
				}
			}
		})
	}
}

func TestObserveEvent(t *testing.T) {
	b := New()
	e := exeEvent("executed", "/usr/bin/id", bash, sshd)
	keys := b.ObserveEvent(e)
	if len(keys) != 2 {
		t.Fatalf("keys %q", keys)
	}
	b.ObserveEvent(e)
	en, ok := b.Lookup(keys[0])
	if !ok || en.Count != 2 || !en.First.Equal(t0) {
		t.Errorf("entry %+v", en)
	}
	if !slices.Equal(b.Hosts, []string{"web1"}) {
		t.Errorf("hosts %q", b.Hosts)
	}
	if b.ObserveEvent(&event.Event{Kind: event.KindEvent, Host: "other"}) != nil || len(b.Hosts) != 1 {
		t.Error("an event without keys was recorded")
	}
	if b.ObserveEvent(nil) != nil {
		t.Error("nil event gave keys")
	}
}

// TestKeyMemoAgrees: the memoised exec-edge key equals the computed one,
// for chains of every length, with unknown ancestors, asked twice.
func TestKeyMemoAgrees(t *testing.T) {
	refs := []event.ProcRef{{Executable: "/usr/bin/bash"}, {Unknown: true}, {Executable: "/usr/sbin/sshd"}, {Executable: "/sbin/init"}}
	for n := 0; n <= len(refs); n++ {
		for _, unknownFirst := range []bool{false, true} {
			anc := append([]event.ProcRef(nil), refs[:n]...)
			if unknownFirst && n > 0 {
				anc[0] = event.ProcRef{Unknown: true}
			}
			e := &event.Event{Ancestry: anc}
			for range 2 {
				if got, want := execEdgeKeyOf(e, "/usr/bin/id"), ExecEdgeKey(ancestryExes(e), "/usr/bin/id"); got != want {
					t.Fatalf("n=%d unknownFirst=%v: memo %q, computed %q", n, unknownFirst, got, want)
				}
			}
		}
	}
	e := &event.Event{Parent: &event.ProcRef{Executable: "/usr/bin/make"}}
	if got, want := execEdgeKeyOf(e, "/usr/bin/cc"), ExecEdgeKey([]string{"/usr/bin/make"}, "/usr/bin/cc"); got != want {
		t.Fatalf("parent only: %q vs %q", got, want)
	}
}
