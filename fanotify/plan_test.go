package fanotify

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// allCaps is every combination of kernel features.
func allCaps() []Caps {
	var out []Caps
	for i := 0; i < 16; i++ {
		out = append(out, Caps{ReportFID: i&1 != 0, ReportDirName: i&2 != 0, MarkFilesystem: i&4 != 0, OpenExec: i&8 != 0})
	}
	return out
}

// TestNoPermissionEvents is the hard rule: whatever the kernel, the policy
// or the configuration, no init flag asks for a content class and no mark
// mask holds a permission event. lineaged observes; it must never be able
// to block a file access on the host.
func TestNoPermissionEvents(t *testing.T) {
	for _, fid := range []bool{false, true} {
		for _, dirName := range []bool{false, true} {
			for _, unlimited := range []bool{false, true} {
				f := initFlags(fid, dirName, unlimited)
				if f&(fanClassContent|fanClassPreContent) != 0 {
					t.Errorf("initFlags(%v, %v, %v) = %#x holds a content class", fid, dirName, unlimited, f)
				}
				if err := checkInit(f); err != nil {
					t.Error(err)
				}
			}
		}
	}
	// Every operation set, file and directory, recursive or not, with an
	// excluded file, under every feature combination.
	var targets []Target
	for o := Op(1); o <= OpAll; o++ {
		for _, dir := range []bool{false, true} {
			for _, rec := range []bool{false, true} {
				targets = append(targets, Target{Path: "/x", Real: fmt.Sprintf("/x/%d/%v/%v", o, dir, rec), Dir: dir, Ops: o, Recursive: rec})
			}
		}
	}
	for _, c := range allCaps() {
		marks := planMarks(targets, []string{"/x/own.log"}, c)
		if len(marks) == 0 {
			t.Fatal("no marks planned")
		}
		for _, m := range marks {
			if m.Mask&fanPermEvents != 0 {
				t.Errorf("caps %+v: mark %s %s mask %#x holds a permission event", c, m.Kind, m.Path, m.Mask)
			}
			if err := checkMask(m.Mask); err != nil {
				t.Error(err)
			}
		}
	}
	for _, o := range []Op{OpOpen, OpModify, OpCloseWrite, OpExec, OpAll, 0xff} {
		for _, c := range allCaps() {
			if m := eventMask(o, c); m&fanPermEvents != 0 {
				t.Errorf("eventMask(%s, %+v) = %#x", o, c, m)
			}
		}
	}
	// And the guards refuse what the planner never produces.
	for _, bad := range []uint64{fanOpenPerm, fanAccessPerm, fanOpenExecPerm, fanPreAccess, fanOpen | fanOpenPerm} {
		if checkMask(bad) == nil {
			t.Errorf("checkMask(%#x) accepted a permission event", bad)
		}
	}
	for _, bad := range []uint{fanClassContent, fanClassPreContent, fanClassContent | fanReportFID} {
		if checkInit(bad) == nil {
			t.Errorf("checkInit(%#x) accepted a content class", bad)
		}
	}
}

func TestEventMask(t *testing.T) {
	full := Caps{OpenExec: true}
	cases := []struct {
		ops  Op
		c    Caps
		want uint64
	}{
		{OpOpen, full, fanOpen},
		{OpModify | OpCloseWrite, full, fanModify | fanCloseWrite},
		{OpExec, full, fanOpenExec},
		{OpExec, Caps{}, fanOpen}, // before 5.0: opens, filtered by the execute bit
		{OpAll, full, fanOpen | fanModify | fanCloseWrite | fanOpenExec},
	}
	for _, c := range cases {
		if got := eventMask(c.ops, c.c); got != c.want {
			t.Errorf("eventMask(%s, %+v) = %#x, want %#x", c.ops, c.c, got, c.want)
		}
	}
}

func TestPlanMarks(t *testing.T) {
	targets := []Target{
		{Real: "/etc/shadow", Ops: OpOpen},
		{Real: "/etc/cron.d", Dir: true, Ops: OpCloseWrite},
		{Real: "/srv", Dir: true, Ops: OpModify, Recursive: true},
	}
	cases := []struct {
		c    Caps
		want []Mark
	}{
		{Caps{MarkFilesystem: true}, []Mark{
			{Path: "/etc/shadow", Kind: MarkInode, Flags: fanMarkAdd, Mask: fanOpen},
			{Path: "/etc/cron.d", Kind: MarkInode, Flags: fanMarkAdd, Mask: fanCloseWrite | fanEventOnChild},
			{Path: "/srv", Kind: MarkFilesystem, Flags: fanMarkAdd | fanMarkFilesystem, Mask: fanModify},
			{Path: "/srv/out.log", Kind: MarkIgnore, Flags: fanMarkAdd | fanMarkIgnoredMask | fanMarkIgnoredSurvModify, Mask: fanOpen | fanCloseWrite | fanModify},
		}},
		{Caps{}, []Mark{
			{Path: "/etc/shadow", Kind: MarkInode, Flags: fanMarkAdd, Mask: fanOpen},
			{Path: "/etc/cron.d", Kind: MarkInode, Flags: fanMarkAdd, Mask: fanCloseWrite | fanEventOnChild},
			// Before 4.20: the mount, and the directory's own inode mark
			// for its entries reached through other mounts.
			{Path: "/srv", Kind: MarkMount, Flags: fanMarkAdd | fanMarkMount, Mask: fanModify},
			{Path: "/srv", Kind: MarkInode, Flags: fanMarkAdd, Mask: fanModify | fanEventOnChild},
			{Path: "/srv/out.log", Kind: MarkIgnore, Flags: fanMarkAdd | fanMarkIgnoredMask | fanMarkIgnoredSurvModify, Mask: fanOpen | fanCloseWrite | fanModify},
		}},
	}
	for _, c := range cases {
		got := planMarks(targets, []string{"/srv/out.log"}, c.c)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("caps %+v\n got %+v\nwant %+v", c.c, got, c.want)
		}
	}
}

func TestMatcher(t *testing.T) {
	m := newMatcher(Resolved{
		Targets: []Target{
			{Real: "/etc", Dir: true, Ops: OpModify, Class: "persistence"},
			{Real: "/etc/shadow", Ops: OpOpen | OpModify, Class: "credential"},
			{Real: "/srv", Dir: true, Ops: OpCloseWrite, Recursive: true, Class: "app"},
			{Real: "/srv/www", Dir: true, Ops: OpExec, Recursive: true, Class: "web"},
		},
		Exclude: []string{"/srv/log", "/etc/lineaged.yml"},
	})
	cases := []struct {
		path  string
		ops   Op
		class string
	}{
		{"/etc/shadow", OpOpen | OpModify, "credential"}, // its own watch first, plus /etc's
		{"/etc/hosts", OpModify, "persistence"},
		{"/etc/ssh/sshd_config", 0, ""}, // /etc is not recursive
		{"/srv", OpCloseWrite, "app"},
		{"/srv/a/b/c", OpCloseWrite, "app"},
		{"/srv/www/x/index.php", OpExec | OpCloseWrite, "web"}, // deepest recursive first
		{"/srvx/file", 0, ""},                                  // a prefix is not a parent
		{"/", 0, ""},
		{"", 0, ""},
	}
	for _, c := range cases {
		ops, class, ok := m.lookup(c.path)
		if ops != c.ops || class != c.class || ok != (c.ops != 0) {
			t.Errorf("lookup(%q) = %s, %q, %v; want %s, %q", c.path, ops, class, ok, c.ops, c.class)
		}
	}
	for p, want := range map[string]bool{
		"/srv/log": true, "/srv/log/events.jsonl": true, "/srv/logs": false,
		"/etc/lineaged.yml": true, "/etc/lineaged.yml.bak": false, "/etc": false,
	} {
		if got := m.excluded(p); got != want {
			t.Errorf("excluded(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestReportOps(t *testing.T) {
	yes := func() bool { return true }
	no := func() bool { return false }
	never := func() bool { t.Fatal("execute bit asked for needlessly"); return false }
	cases := []struct {
		name     string
		got      Op
		want     Op
		openExec bool
		execBit  func() bool
		out      Op
	}{
		{"exec folds its open", OpOpen | OpExec, OpExec | OpOpen, true, never, OpExec},
		{"exec not wanted keeps the open", OpOpen | OpExec, OpOpen, true, never, OpOpen},
		{"unwanted bits dropped", OpOpen | OpModify, OpModify, true, never, OpModify},
		{"fallback: executable opened", OpOpen, OpExec | OpCloseWrite, false, yes, OpOpen},
		{"fallback: plain file opened", OpOpen, OpExec | OpCloseWrite, false, no, 0},
		{"fallback: opens wanted anyway", OpOpen, OpExec | OpOpen, false, never, OpOpen},
		{"merged write and close", OpModify | OpCloseWrite, OpAll, true, never, OpModify | OpCloseWrite},
	}
	for _, c := range cases {
		if out := reportOps(c.got, c.want, c.openExec, c.execBit); out != c.out {
			t.Errorf("%s: %s, want %s", c.name, out, c.out)
		}
	}
}

func TestMarkKindString(t *testing.T) {
	var names []string
	for _, k := range []MarkKind{MarkInode, MarkMount, MarkFilesystem, MarkIgnore} {
		names = append(names, k.String())
	}
	if got := strings.Join(names, ","); got != "inode,mount,filesystem,ignore" {
		t.Error(got)
	}
}
