package agent

import (
	"io"
	"math/bits"
	"reflect"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/fanotify"
	"github.com/lineaged/lineaged/internal/logging"
)

func TestFilePolicy(t *testing.T) {
	f := config.Files{
		Enabled:  true,
		Defaults: true,
		Watches: []config.Watch{
			{Path: "/srv/app", Ops: []string{"modify", "close-write"}, Class: "app"},
			{Path: "/opt/*/bin", Ops: config.FileOps, Recursive: true},
		},
		Exclude:        []string{"/srv/app/cache"},
		UnlimitedQueue: true,
	}
	got, err := FilePolicy(f, []string{"/var/log/lineaged/events.jsonl", "", "/var/lib/lineaged"})
	if err != nil {
		t.Fatal(err)
	}
	want := fanotify.DefaultPolicy()
	want.Watches = append(want.Watches,
		fanotify.Watch{Path: "/srv/app", Ops: fanotify.OpModify | fanotify.OpCloseWrite, Class: "app"},
		fanotify.Watch{Path: "/opt/*/bin", Ops: fanotify.OpAll, Recursive: true})
	// The file's exclusions, then lineaged's own paths; "" (a setting
	// that is off) is no path.
	want.Exclude = []string{"/srv/app/cache", "/var/log/lineaged/events.jsonl", "/var/lib/lineaged"}
	want.UnlimitedQueue = true
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}

	// Without the defaults, only the file's watches.
	f.Defaults = false
	got, err = FilePolicy(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Watches) != 2 || got.Watches[0].Path != "/srv/app" || !reflect.DeepEqual(got.Exclude, []string{"/srv/app/cache"}) {
		t.Fatalf("without defaults: %+v", got)
	}
	// The policy shares no slice with the configuration.
	got.Exclude[0] = "/changed"
	if f.Exclude[0] != "/srv/app/cache" {
		t.Fatal("the policy's exclusions are the configuration's slice")
	}
}

// TestFilePolicyErrors: each error names the key as the file spells it,
// with the file's index even when the built-in watches come first.
func TestFilePolicyErrors(t *testing.T) {
	ok := config.Watch{Path: "/srv", Ops: []string{"open"}}
	for _, tc := range []struct {
		name string
		f    config.Files
		own  []string
		want string
	}{
		{"nothing to watch", config.Files{}, nil,
			"files.watches: no path to watch: files.defaults is false and files.watches is empty"},
		{"relative path", config.Files{Defaults: true, Watches: []config.Watch{ok, {Path: "srv", Ops: []string{"open"}}}}, nil,
			`files.watches[1].path "srv": not absolute`},
		{"unclean path", config.Files{Watches: []config.Watch{{Path: "/srv/", Ops: []string{"exec"}}}}, nil,
			`files.watches[0].path "/srv/": not clean (write "/srv")`},
		{"bad pattern", config.Files{Watches: []config.Watch{ok, ok, {Path: "/srv/[", Ops: []string{"open"}}}}, nil,
			`files.watches[2].path "/srv/[": syntax error in pattern`},
		{"root", config.Files{Watches: []config.Watch{{Path: "/", Ops: []string{"open"}}}}, nil,
			`files.watches[0].path "/": / itself cannot be watched: name the directories`},
		{"unknown op", config.Files{Watches: []config.Watch{{Path: "/srv", Ops: []string{"opne"}}}}, nil,
			`files.watches[0].ops: unknown file operation "opne" (want open, modify, close-write, exec or all)`},
		{"no op", config.Files{Defaults: true, Watches: []config.Watch{{Path: "/srv"}}}, nil,
			"files.watches[0].ops: no file operation named"},
		{"exclude pattern", config.Files{Defaults: true, Exclude: []string{"/tmp", "/home/*/cache"}}, nil,
			`files.exclude[1] "/home/*/cache": patterns are not supported here`},
		{"exclude relative", config.Files{Defaults: true, Exclude: []string{"tmp"}}, nil,
			`files.exclude[0] "tmp": not absolute`},
		{"own relative", config.Files{Defaults: true}, []string{"/var/lib/lineaged", "events.jsonl"},
			`lineaged's own path "events.jsonl": not absolute`},
	} {
		_, err := FilePolicy(tc.f, tc.own)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.name, err, tc.want)
		}
	}
}

// TestConfigVocabulary: config keeps its own copies of the names of file
// operations and of log formats and levels, so that it imports nothing
// of lineaged; here they are held to fanotify's and logging's.
func TestConfigVocabulary(t *testing.T) {
	if got := strings.Join(config.FileOps, ","); got != fanotify.OpAll.String() {
		t.Errorf("config.FileOps %q, fanotify's operations %q (same names, same order)", got, fanotify.OpAll.String())
	}
	var all fanotify.Op
	for _, name := range config.FileOps {
		op, err := fanotify.ParseOps(name)
		if err != nil || bits.OnesCount8(uint8(op)) != 1 || all&op != 0 {
			t.Errorf("config.FileOps %q: fanotify reads %v, %v", name, op, err)
		}
		all |= op
	}
	if op, err := fanotify.ParseOps("all"); err != nil || op != all || all != fanotify.OpAll {
		t.Errorf(`"all" is %v (%v); config's names make %v; fanotify.OpAll %v`, op, err, all, fanotify.OpAll)
	}

	for _, lv := range config.LogLevels {
		if _, err := logging.ParseLevel(lv); err != nil {
			t.Errorf("config.LogLevels %q: %v", lv, err)
		}
	}
	for _, f := range config.LogFormats {
		if _, err := logging.New(io.Discard, f, "info", "lineaged"); err != nil {
			t.Errorf("config.LogFormats %q: %v", f, err)
		}
	}
	d := config.Default().Log
	if _, err := logging.New(io.Discard, d.Format, d.Level, "lineaged"); err != nil {
		t.Errorf("default log settings %+v: %v", d, err)
	}
}

// TestConfigAgreesWithFanotify: a path config accepts in files.watches
// or files.exclude is one fanotify accepts, and one config refuses is
// one fanotify refuses, so that an error always carries the file's line.
func TestConfigAgreesWithFanotify(t *testing.T) {
	for _, p := range []string{"/srv", "srv", "/srv/", "/a/../b", "/", "//srv", "/srv/[", "/home/*/.ssh", `/a\b`, "/srv/x y", "./x", "/."} {
		quoted := "'" + strings.ReplaceAll(p, "'", "''") + "'"
		for _, tc := range []struct{ yml, what string }{
			{"files:\n  defaults: false\n  watches:\n    - path: " + quoted + "\n      ops: open\n", "watch"},
			{"files:\n  exclude: [" + quoted + "]\n", "exclude"},
		} {
			c, cerr := config.Parse("x.yml", []byte(tc.yml))
			var ferr error
			if tc.what == "watch" {
				_, ferr = FilePolicy(config.Files{Watches: []config.Watch{{Path: p, Ops: []string{"open"}}}}, nil)
			} else {
				_, ferr = FilePolicy(config.Files{Defaults: true, Exclude: []string{p}}, nil)
			}
			if (cerr == nil) != (ferr == nil) {
				t.Errorf("%s %q: config says %v, fanotify says %v", tc.what, p, cerr, ferr)
			}
			if cerr == nil {
				if _, err := FilePolicy(c.Files, nil); err != nil {
					t.Errorf("%s %q: config accepted, FilePolicy refused: %v", tc.what, p, err)
				}
			}
		}
	}
}

// FuzzFilePolicy: whatever configuration config.Parse accepts gives a
// policy fanotify accepts, whatever the file says: config's own checks
// are a copy of fanotify's, and this is where the copy is held to it.
func FuzzFilePolicy(f *testing.F) {
	f.Add(config.DefaultYAML())
	for _, s := range []string{
		"files:\n  defaults: false\n  watches:\n    - {path: /srv, ops: [open, exec], recursive: true}\n  exclude: [/srv/tmp]\n",
		"files:\n  watches:\n    - {path: '/home/*/.ssh', ops: 'exec open,all', class: x}\n",
		"files:\n  watches:\n    - {path: '/a/[b', ops: open}\n",
		"files:\n  exclude: ['/a\\b', /x/./y]\n",
		"files:\n  enabled: false\n  defaults: false\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("fuzz.yml", data)
		if err != nil || !c.Files.Enabled {
			return
		}
		own := []string{c.StateDir, c.AuditLog.File}
		if c.Output.File != "-" {
			own = append(own, c.Output.File)
		}
		p, err := FilePolicy(c.Files, own)
		if err != nil {
			t.Fatalf("config accepted files: %+v\nFilePolicy refused it: %v", c.Files, err)
		}
		if len(p.Watches) < len(c.Files.Watches) {
			t.Fatalf("%d watches in the file, %d in the policy", len(c.Files.Watches), len(p.Watches))
		}
	})
}
