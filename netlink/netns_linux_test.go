//go:build linux

package netlink

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A proc tree where pids 1 and 2 share a namespace (hard links: one inode)
// and pid 3 has its own; the netns directory holds a stale name whose bind
// mount is gone (a plain file), which must not count as a namespace.
func TestListNamespacesDedupes(t *testing.T) {
	root := t.TempDir()
	proc, named := filepath.Join(root, "proc"), filepath.Join(root, "netns")
	for _, d := range []string{"1/ns", "2/ns", "3/ns", "self/ns", "4"} {
		if err := os.MkdirAll(filepath.Join(proc, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(named, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p string) {
		if err := os.WriteFile(p, nil, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(proc, "1/ns/net"))
	if err := os.Link(filepath.Join(proc, "1/ns/net"), filepath.Join(proc, "2/ns/net")); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(proc, "3/ns/net"))
	write(filepath.Join(proc, "self/ns/net")) // not a pid: ignored
	write(filepath.Join(named, "stale"))
	// pid 4 has no ns/ (exited): skipped.

	nss, err := listNamespaces(proc, named)
	if err != nil {
		t.Fatal(err)
	}
	if len(nss) != 2 {
		t.Fatalf("namespaces = %+v, want 2", nss)
	}
	ino := func(p string) uint64 {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	shared, own := ino(filepath.Join(proc, "1/ns/net")), ino(filepath.Join(proc, "3/ns/net"))
	for _, ns := range nss {
		switch ns.Inode {
		case shared:
			if ns.Path != filepath.Join(proc, "1/ns/net") && ns.Path != filepath.Join(proc, "2/ns/net") {
				t.Errorf("shared namespace path = %s", ns.Path)
			}
		case own:
			if ns.Path != filepath.Join(proc, "3/ns/net") {
				t.Errorf("own namespace path = %s", ns.Path)
			}
		default:
			t.Errorf("unexpected namespace %+v (the stale name?)", ns)
		}
		if ns.Name != "" {
			t.Errorf("%+v: a plain file was taken for a named namespace", ns)
		}
	}
	if nss[0].Inode > nss[1].Inode {
		t.Error("not ordered by inode")
	}
}

func TestListNamespacesNoNetnsDir(t *testing.T) {
	proc := t.TempDir()
	if _, err := listNamespaces(proc, filepath.Join(proc, "missing")); err != nil {
		t.Errorf("missing netns dir: %v", err)
	}
	if _, err := listNamespaces(filepath.Join(proc, "missing"), proc); err == nil {
		t.Error("missing proc root: no error")
	}
}

// A path whose inode is not the enumerated one (pid reused) is refused
// before any setns.
func TestDialNamespaceChanged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "net")
	if err := os.WriteFile(p, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	_, err := dialNamespace(Namespace{Inode: 1, Path: p})
	if !errors.Is(err, errNamespaceChanged) {
		t.Errorf("err = %v, want errNamespaceChanged", err)
	}
}
