package proc

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/event"
)

// statTail is what follows starttime on a 6.x kernel (vsize to exit_code).
const statTail = " 43765760 3265 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0"

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Stat
		err  bool
	}{
		{
			name: "systemd",
			line: "1 (systemd) S 0 1 1 0 -1 4194560 67729 27769780 0 2866 239 842 97600 23365 20 0 1 0 5" + statTail,
			want: Stat{PID: 1, Comm: "systemd", State: 'S', PPID: 0, PGRP: 1, Session: 1, Flags: 4194560, Threads: 1, StartTicks: 5},
		},
		{
			name: "comm with spaces and parentheses",
			line: "1234 ((sd-pam) x)) S 1233 1233 1233 34816 -1 1077936448 52 0 0 0 0 0 0 0 20 0 3 0 412345" + statTail,
			want: Stat{PID: 1234, Comm: "(sd-pam) x)", State: 'S', PPID: 1233, PGRP: 1233, Session: 1233, TTY: 34816,
				Flags: 1077936448, Threads: 3, StartTicks: 412345},
		},
		{
			name: "comm that fakes the fields",
			line: "77 (a) R 1 2 3 4) Z 9 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99" + statTail,
			want: Stat{PID: 77, Comm: "a) R 1 2 3 4", State: 'Z', PPID: 9, PGRP: 77, Session: 77, Threads: 1, StartTicks: 99},
		},
		{
			name: "empty comm",
			line: "5 () I 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 0 -20 1 0 7",
			want: Stat{PID: 5, State: 'I', PPID: 2, Flags: 2129984, Threads: 1, StartTicks: 7},
		},
		{
			name: "3.10 length, trailing newline",
			line: "300 (bash) S 299 300 300 34817 300 4202752 1 0 0 0 0 0 0 0 20 0 1 0 1234 115000000 500 18446744073709551615\n",
			want: Stat{PID: 300, Comm: "bash", State: 'S', PPID: 299, PGRP: 300, Session: 300, TTY: 34817, Flags: 4202752, Threads: 1, StartTicks: 1234},
		},
		{name: "empty", line: "", err: true},
		{name: "no comm", line: "1 systemd S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", err: true},
		{name: "no closing parenthesis", line: "1 (systemd S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", err: true},
		{name: "pid 0", line: "0 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", err: true},
		{name: "signed pid", line: "+1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", err: true},
		{name: "no space before comm", line: "1(x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", err: true},
		{name: "cut before starttime", line: "1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", err: true},
		{name: "state of two letters", line: "1 (x) SS 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", err: true},
		{name: "bad ppid", line: "1 (x) S p 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", err: true},
		{name: "bad flags", line: "1 (x) S 0 1 1 0 -1 -5 0 0 0 0 0 0 0 0 20 0 1 0 5", err: true},
		{name: "bad starttime", line: "1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.line))
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Fatalf("ParseStat\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestContainerID(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const id2 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	tests := []struct {
		path, id, runtime string
	}{
		{"/docker/" + id, id, "docker"},
		{"/system.slice/docker-" + id + ".scope", id, "docker"},
		{"/kubepods/burstable/pod6b2c1d3e-aaaa-bbbb-cccc-1234567890ab/" + id, id, ""},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-" + id + ".scope", id, "containerd"},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/crio-" + id + ".scope", id, "cri-o"},
		{"/kubepods.slice/kubepods-pod1.slice/docker-" + id + ".scope", id, "docker"},
		{"/machine.slice/libpod-" + id + ".scope", id, "podman"},
		{"/machine.slice/libpod-" + id + ".scope/container", id, "podman"},
		{"/libpod_parent/libpod-" + id, id, "podman"},
		{"/libpod_parent/" + id, id, "podman"},
		{"/docker/" + id + "/docker/" + id2, id2, "docker"}, // docker in docker: the inner one
		{"/ecs/task-1/" + id, id, ""},
		{"/system.slice/crio-conmon-" + id + ".scope", "", ""},    // the monitor, on the host
		{"/machine.slice/libpod-conmon-" + id + ".scope", "", ""}, // ditto
		{"/docker/" + strings.ToUpper(id), "", ""},
		{"/docker/" + id[:63], "", ""},
		{"/process_api/baf5e8b95f438a97edf5568e71db62d1", "", ""},
		{"/user.slice/user-1000.slice/session-2.scope", "", ""},
		{"/", "", ""},
		{"", "", ""},
		{id, id, ""},
	}
	for _, tt := range tests {
		id, rt := containerID(tt.path)
		if id != tt.id || rt != tt.runtime {
			t.Errorf("containerID(%q) = %q, %q; want %q, %q", tt.path, id, rt, tt.id, tt.runtime)
		}
	}
}

func TestParseCgroup(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name, in          string
		path, id, runtime string
	}{
		{"v2", "0::/init.scope\n", "/init.scope", "", ""},
		{"v2 container", "0::/system.slice/docker-" + id + ".scope\n", "/system.slice/docker-" + id + ".scope", id, "docker"},
		{"v1", "12:pids:/docker/" + id + "\n1:name=systemd:/docker/" + id + "\n", "/docker/" + id, id, "docker"},
		{"v1 host", "4:memory:/x\n1:name=systemd:/user.slice\n", "/user.slice", "", ""},
		{"hybrid", "1:name=systemd:/a/" + id + "\n0::/a/" + id + "\n", "/a/" + id, id, ""},
		{"colon in the path", "0::/a:b\n", "/a:b", "", ""},
		{"garbage", "nonsense\n\n:\n", "", "", ""},
	}
	for _, tt := range tests {
		p, id, rt := parseCgroup([]byte(tt.in))
		if p != tt.path || id != tt.id || rt != tt.runtime {
			t.Errorf("%s: %q %q %q; want %q %q %q", tt.name, p, id, rt, tt.path, tt.id, tt.runtime)
		}
	}
}

func TestTTYName(t *testing.T) {
	for nr, want := range map[int]string{0: "", -1: "", 34816: "pts0", 34819: "pts3", 137<<8 | 4: "pts260",
		4<<8 | 1: "tty1", 4<<8 | 64: "ttyS0", 5<<8 | 1: "", 136<<8 | 1<<20: "pts256"} {
		if got := ttyName(nr); got != want {
			t.Errorf("ttyName(%d) = %q, want %q", nr, got, want)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	for in, want := range map[string][]string{
		"":                       nil,
		"/bin/sh\x00-c\x00x\x00": {"/bin/sh", "-c", "x"},
		"nginx: worker process":  {"nginx: worker process"},
		"a\x00\x00b\x00":         {"a", "", "b"},
		"\x00":                   {""},
	} {
		if got := splitArgs([]byte(in)); !reflect.DeepEqual(got, want) {
			t.Errorf("splitArgs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseStatusIDs(t *testing.T) {
	uid, gid := parseStatusIDs([]byte("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\nGroups:\t\n"))
	if *uid != (IDs{1000, 0, 0, 0}) || *gid != (IDs{100, 100, 100, 100}) {
		t.Fatalf("uid %+v gid %+v", uid, gid)
	}
	if uid, gid := parseStatusIDs([]byte("Uid:\t1\t2\nGid:\tx\t1\t1\t1\n")); uid != nil || gid != nil {
		t.Fatalf("malformed lines parsed: %+v %+v", uid, gid)
	}
}

// The walk of the fixture tree under testdata/proc (see its README).
func TestWalkFixture(t *testing.T) {
	fsys := FS{Root: "testdata/proc", ClockTicks: 100}
	snap, err := fsys.Walk()
	if err != nil {
		t.Fatal(err)
	}
	if snap.Vanished != 1 || snap.Failed != 0 {
		t.Errorf("vanished %d failed %d, want 1 and 0", snap.Vanished, snap.Failed)
	}
	byPID := map[int]Process{}
	var pids []int
	for _, p := range snap.Processes {
		pids = append(pids, p.PID)
		byPID[p.PID] = p
		if p.SeenMsec < snap.TimeMsec {
			t.Errorf("pid %d seen at %d, before the walk began (%d)", p.PID, p.SeenMsec, snap.TimeMsec)
		}
	}
	if want := []int{1, 2, 1234, 4242, 5000}; !reflect.DeepEqual(pids, want) {
		t.Fatalf("pids %v, want %v", pids, want)
	}

	root := &IDs{}
	hostNS := Namespaces{Net: 4026531840, PID: 4026531836, Mnt: 4026531841, User: 4026531837}
	tests := []Process{
		{
			Stat:      Stat{PID: 1, Comm: "systemd", State: 'S', PGRP: 1, Session: 1, Flags: 4194560, Threads: 1, StartTicks: 5},
			StartMsec: 50, Exe: "/usr/lib/systemd/systemd", Args: []string{"/sbin/init", "splash"}, Cwd: "/",
			UID: root, GID: root, Cgroup: "/init.scope", NS: hostNS,
		},
		{
			Stat:      Stat{PID: 2, Comm: "kthreadd", State: 'S', Flags: 2129984, Threads: 1, StartTicks: 5},
			StartMsec: 50, Cwd: "/", UID: root, GID: root, Cgroup: "/", NS: hostNS,
		},
		{
			Stat: Stat{PID: 1234, Comm: "(sd-pam) x)", State: 'S', PPID: 1233, PGRP: 1233, Session: 1233, Flags: 1077936448,
				Threads: 1, StartTicks: 412345},
			StartMsec: 4123450, Exe: "/usr/lib/systemd/systemd (deleted)", ExeDeleted: true, Args: []string{"(sd-pam)"}, Cwd: "/",
			UID: &IDs{1000, 1000, 1000, 1000}, GID: &IDs{1000, 1000, 1000, 1000},
			Cgroup: "/user.slice/user-1000.slice/user@1000.service/init.scope", NS: hostNS,
		},
		{
			Stat: Stat{PID: 4242, Comm: "nginx", State: 'S', PPID: 4200, PGRP: 4242, Session: 4242, TTY: 34819, Flags: 1077936448,
				Threads: 2, StartTicks: 987654},
			StartMsec: 9876540, Exe: "/usr/sbin/nginx", Args: []string{"nginx: worker process"}, Cwd: "/srv/www",
			UID: &IDs{101, 101, 101, 101}, GID: &IDs{101, 101, 101, 101},
			Cgroup:           "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
			ContainerID:      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			ContainerRuntime: "docker",
			NS:               Namespaces{Net: 4026532300, PID: 4026532301, Mnt: 4026531841, User: 4026531837},
		},
		{
			Stat: Stat{PID: 5000, Comm: "pause", State: 'S', PPID: 4990, PGRP: 5000, Session: 5000, Flags: 1077936448,
				Threads: 1, StartTicks: 1000000},
			StartMsec: 10000000, Exe: "/pause", Args: []string{"/pause"}, Cwd: "/",
			UID: &IDs{65535, 65535, 65535, 65535}, GID: &IDs{65535, 65535, 65535, 65535},
			Cgroup:      "/kubepods/burstable/pod6b2c1d3e-aaaa-bbbb-cccc-1234567890ab/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
			ContainerID: "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
			NS:          Namespaces{Net: 4026532400, PID: 4026532401, Mnt: 4026531841, User: 4026531837},
		},
	}
	for _, want := range tests {
		got := byPID[want.PID]
		got.SeenMsec = 0
		if !reflect.DeepEqual(got, want) {
			t.Errorf("pid %d\n got %+v\nwant %+v", want.PID, got, want)
		}
	}
	if !byPID[2].KernelThread() || byPID[1].KernelThread() {
		t.Error("KernelThread: want kthreadd only")
	}

	if _, err := fsys.Process(999); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Process(999) = %v, want a vanished process", err)
	}
	if _, err := fsys.Process(31337); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Process(31337) = %v, want a vanished process", err)
	}
	if st, err := fsys.Stat(1234); err != nil || st != byPID[1234].Stat {
		t.Errorf("Stat(1234) = %+v, %v", st, err)
	}
	if _, err := fsys.Stat(999); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(999) = %v, want a vanished process", err)
	}
	if id, err := fsys.BootID(); err != nil || id != "3b1f5a0c-2d4e-4f6a-8b9c-0d1e2f3a4b5c" {
		t.Errorf("BootID = %q, %v", id, err)
	}
	if _, err := (FS{Root: "testdata/nonexistent"}).Walk(); err == nil {
		t.Error("Walk of a missing root succeeded")
	}
}

func TestProcessToEvent(t *testing.T) {
	fixClocks(t, clockOffsets{monoToRealNS: bootNS, hz: 100})
	p, err := FS{Root: "testdata/proc", ClockTicks: 100}.Process(4242)
	if err != nil {
		t.Fatal(err)
	}
	p.SeenMsec = 1_700_000_100_000
	got := event.Event{ID: "stale", Message: "stale"}
	p.ToEvent(&got)
	if start := (FS{ClockTicks: 100}).StartMsec(p.Stat); start != got.Process.StartMsec {
		t.Errorf("FS.StartMsec = %d, ToEvent's %d", start, got.Process.StartMsec)
	}
	want := event.Event{
		Kind: event.KindEvent, TimeMsec: 1_700_000_100_000, Module: "proc",
		Category: "process", Type: "info", Action: "existing", Outcome: "success",
		Process: event.Process{
			PID: 4242, PPID: 4200, Executable: "/usr/sbin/nginx", Name: "nginx",
			Title: "nginx: worker process", Args: []string{"nginx: worker process"},
			WorkingDirectory: "/srv/www", TTY: "pts3", StartMsec: 1_700_000_000_000 + 9_876_540,
			NetNS: 4026532300, SID: 4242, PGID: 4242,
		},
		User:        event.User{ID: "101", EffectiveID: "101", SavedID: "101", FilesysID: "101", GroupID: "101", EffGroupID: "101"},
		ContainerID: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Labels: []event.KV{
			{Key: "container_runtime", Value: "docker"},
			{Key: "cgroup", Value: "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope"},
			{Key: "ns_net", Value: "4026532300"}, {Key: "ns_pid", Value: "4026532301"},
			{Key: "ns_mnt", Value: "4026531841"}, {Key: "ns_user", Value: "4026531837"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ToEvent\n got %+v\nwant %+v", got, want)
	}

	// Flags become labels; unknown ids stay empty, never "0".
	k, err := FS{Root: "testdata/proc"}.Process(1234)
	if err != nil {
		t.Fatal(err)
	}
	k.UID, k.GID = nil, nil
	k.ToEvent(&got)
	if got.User != (event.User{}) || got.Labels[0] != (event.KV{Key: "exe_deleted", Value: "true"}) {
		t.Fatalf("pid 1234: user %+v labels %+v", got.User, got.Labels)
	}
	kt, _ := FS{Root: "testdata/proc"}.Process(2)
	kt.ToEvent(&got)
	if got.Labels[0] != (event.KV{Key: "kernel_thread", Value: "true"}) || got.Process.Args != nil {
		t.Fatalf("kthreadd: labels %+v args %q", got.Labels, got.Process.Args)
	}
}
