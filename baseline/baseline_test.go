package baseline

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestObserveHelpers(t *testing.T) {
	b := New()
	for _, c := range []struct {
		key  string
		want string
	}{
		{first(b.ObserveExec([]string{"/usr/bin/bash", "/usr/sbin/sshd", "/usr/lib/systemd/systemd"}, "/usr/bin/id", at(0))), "exec-edge|systemd>sshd>bash|/usr/bin/id"},
		{first(b.ObserveUserExe("1000", "/usr/bin/id", at(0))), "user-exe|1000|/usr/bin/id"},
		{first(b.ObserveFile("/usr/sbin/sshd", "/home/alice/.ssh/authorized_keys", "open", at(0))), "file-access|/usr/sbin/sshd|read|/home/*/.ssh/authorized_keys"},
		{first(b.ObserveListen("/usr/sbin/sshd", 22, at(0))), "listen|/usr/sbin/sshd|22"},
		{first(b.ObserveConnect("/usr/bin/curl", "93.184.216.34", 443, at(0))), "connect|/usr/bin/curl|public:443"},
		{first(b.ObserveUIDChange("/usr/bin/sudo", "1000", "0", at(0))), "uid-transition|/usr/bin/sudo|1000|0"},
	} {
		if c.key != c.want {
			t.Errorf("key %q, want %q", c.key, c.want)
		}
		if _, err := Canonical(c.key); err != nil {
			t.Errorf("builder key not canonical: %v", err)
		}
	}
	if k, novel := b.ObserveFile("/x", "/y", "module", at(0)); k != "" || novel {
		t.Errorf("module op: %q %v, want nothing", k, novel)
	}
	if b.Len() != 6 {
		t.Errorf("Len = %d, want 6", b.Len())
	}
}

func first(k string, _ bool) string { return k }

func TestCountsFirstLastNovel(t *testing.T) {
	b := New()
	b.Created, b.Updated = t0, t0
	k, novel := b.ObserveListen("/usr/sbin/sshd", 22, at(5))
	if !novel {
		t.Fatal("first sighting not novel")
	}
	if _, novel := b.ObserveListen("/usr/sbin/sshd", 22, at(1)); novel {
		t.Fatal("second sighting novel")
	}
	b.ObserveListen("/usr/sbin/sshd", 22, at(9))
	e, ok := b.Lookup(k)
	if !ok || e.Count != 3 || !e.First.Equal(at(1)) || !e.Last.Equal(at(9)) || e.Kind != KindListen {
		t.Fatalf("entry %+v", e)
	}
	if !b.Updated.Equal(at(9)) {
		t.Errorf("Updated %v, want %v", b.Updated, at(9))
	}
	if _, ok := b.Lookup("listen|/usr/sbin/sshd|23"); ok {
		t.Error("lookup of absent key succeeded")
	}
}

func TestStatusRare(t *testing.T) {
	b := New()
	for i := 0; i < 5000; i++ {
		b.ObserveFile("/usr/sbin/sshd", "/etc/ssh/sshd_config", "read", at(i))
	}
	for i := 0; i < 4; i++ {
		b.ObserveFile("/usr/sbin/sshd", "/etc/shadow", "read", at(i))
	}
	b.ObserveFile("/usr/sbin/sshd", "/etc/motd", "read", at(0))
	common := "file-access|/usr/sbin/sshd|read|/etc/ssh/sshd_config"
	shadow := "file-access|/usr/sbin/sshd|read|/etc/shadow"
	motd := "file-access|/usr/sbin/sshd|read|/etc/motd"
	novel := "file-access|/usr/sbin/sshd|write|/etc/shadow"

	if got := b.GroupTotal(shadow); got != 5005 {
		t.Errorf("group total %d, want 5005", got)
	}
	for _, c := range []struct {
		key  string
		rule RareRule
		want Status
	}{
		{common, DefaultRare, Common},
		{motd, DefaultRare, Rare},                               // count 1 < 3
		{shadow, DefaultRare, Rare},                             // 4 < 0.001 × 5005
		{shadow, RareRule{MinCount: 3}, Common},                 // fraction test off
		{shadow, RareRule{MinCount: 5}, Rare},                   // count 4 < 5
		{novel, DefaultRare, Novel},                             // absent
		{common, RareRule{MinCount: 0, MinFraction: 0}, Common}, // nothing is rare
	} {
		if got := b.Status(c.key, c.rule); got != c.want {
			t.Errorf("Status(%q, %+v) = %v, want %v", c.key, c.rule, got, c.want)
		}
		if got := b.Rare(c.key, c.rule); got != (c.want == Rare) {
			t.Errorf("Rare(%q) = %v", c.key, got)
		}
	}
	if err := b.Approve(motd); err != nil {
		t.Fatal(err)
	}
	if got := b.Status(motd, DefaultRare); got != Common {
		t.Errorf("approved entry is %v, want common", got)
	}
}

func TestExpire(t *testing.T) {
	b := New()
	b.ObserveListen("/a", 1, at(0))
	b.ObserveListen("/b", 2, at(0))
	b.ObserveListen("/b", 2, at(100))
	b.ObserveListen("/c", 3, at(50))
	n := b.Expire(60*time.Minute, at(120))
	if n != 2 || b.Len() != 1 {
		t.Fatalf("expired %d, left %d; want 2 and 1", n, b.Len())
	}
	if _, ok := b.Lookup("listen|/b|2"); !ok {
		t.Error("recent entry expired")
	}
	if got := b.GroupTotal("listen|/a|1"); got != 0 {
		t.Errorf("group total of expired entries %d", got)
	}
}

func TestLimit(t *testing.T) {
	b := New()
	b.Limit = 2
	b.ObserveListen("/a", 1, at(0))
	b.ObserveListen("/a", 2, at(0))
	if _, novel := b.ObserveListen("/a", 3, at(0)); !novel {
		t.Error("refused key not reported novel")
	}
	b.ObserveListen("/a", 1, at(1)) // known keys still count
	if b.Len() != 2 || b.Refused() != 1 {
		t.Errorf("Len %d Refused %d, want 2 and 1", b.Len(), b.Refused())
	}
	if e, _ := b.Lookup("listen|/a|1"); e.Count != 2 {
		t.Errorf("count %d", e.Count)
	}
	if err := b.Approve("listen|/a|4"); err == nil {
		t.Error("approve beyond the limit accepted")
	}
}

func TestMerge(t *testing.T) {
	a, b := New(), New()
	a.Hosts, b.Hosts = []string{"web2"}, []string{"web1", "web2"}
	a.Created, b.Created = at(10), at(5)
	a.ObserveListen("/usr/sbin/nginx", 80, at(10))
	a.ObserveListen("/usr/sbin/nginx", 80, at(20))
	b.ObserveListen("/usr/sbin/nginx", 80, at(3))
	b.ObserveListen("/usr/sbin/nginx", 443, at(30))
	if err := b.Approve("listen|/usr/sbin/nginx|8080"); err != nil {
		t.Fatal(err)
	}
	m := Merge(a, nil, b)
	if strings.Join(m.Hosts, ",") != "web1,web2" {
		t.Errorf("hosts %v", m.Hosts)
	}
	if !m.Created.Equal(at(5)) {
		t.Errorf("created %v", m.Created)
	}
	e, _ := m.Lookup("listen|/usr/sbin/nginx|80")
	if e.Count != 3 || !e.First.Equal(at(3)) || !e.Last.Equal(at(20)) {
		t.Errorf("merged entry %+v", e)
	}
	if e, ok := m.Lookup("listen|/usr/sbin/nginx|8080"); !ok || !e.Approved || e.Count != 0 {
		t.Errorf("approved entry %+v %v", e, ok)
	}
	if m.Len() != 3 || m.GroupTotal("listen|/usr/sbin/nginx|80") != 4 {
		t.Errorf("Len %d group %d", m.Len(), m.GroupTotal("listen|/usr/sbin/nginx|80"))
	}
	// Inputs untouched.
	if e, _ := a.Lookup("listen|/usr/sbin/nginx|80"); e.Count != 2 {
		t.Errorf("input changed: %+v", e)
	}
	if Merge().Len() != 0 {
		t.Error("empty merge not empty")
	}
}

func TestDiff(t *testing.T) {
	a, b := New(), New()
	a.ObserveListen("/x", 1, at(0))
	a.ObserveListen("/x", 2, at(0))
	a.ObserveListen("/x", 3, at(0))
	b.ObserveListen("/x", 2, at(0))
	b.ObserveListen("/x", 2, at(1))
	b.ObserveListen("/x", 3, at(0))
	b.ObserveListen("/x", 4, at(0))
	got := Diff(a, b)
	want := []struct {
		op  ChangeOp
		key string
	}{{Removed, "listen|/x|1"}, {Changed, "listen|/x|2"}, {Added, "listen|/x|4"}}
	if len(got) != len(want) {
		t.Fatalf("diff %+v", got)
	}
	for i, w := range want {
		if got[i].Op != w.op || got[i].Key != w.key {
			t.Errorf("change %d = %s %s, want %s %s", i, got[i].Op, got[i].Key, w.op, w.key)
		}
	}
	if got[1].Old.Count != 1 || got[1].New.Count != 2 {
		t.Errorf("changed counts %d → %d", got[1].Old.Count, got[1].New.Count)
	}
	if len(Diff(a, a)) != 0 {
		t.Error("self diff not empty")
	}
}

func TestApprove(t *testing.T) {
	old := clock
	clock = func() time.Time { return at(42) }
	defer func() { clock = old }()
	b := New()
	b.ObserveListen("/usr/sbin/sshd", 22, at(0))
	keys := []string{
		"listen|/usr/sbin/sshd|22",
		"exec-edge|systemd>sshd>bash|/usr/bin/id",
		"connect|/usr/bin/curl|public:443",
		"file-access|/usr/bin/vim|write|/home/*/.bashrc",
		"listen|/usr/bin/python<ver>|unix:@/tmp/<rand>",
		"uid-transition|/usr/bin/sudo|1000|0",
		"user-exe|1000|memfd:<anon>",
	}
	if err := b.Approve(keys...); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		e, ok := b.Lookup(k)
		if !ok || !e.Approved {
			t.Errorf("%q not approved: %+v", k, e)
		}
	}
	if e, _ := b.Lookup(keys[0]); e.Count != 1 || !e.First.Equal(at(0)) || !e.Last.Equal(at(42)) {
		t.Errorf("existing entry changed: %+v", e)
	}
	if e, _ := b.Lookup(keys[1]); e.Count != 0 || !e.First.Equal(at(42)) || !e.Last.Equal(at(42)) {
		t.Errorf("new approved entry %+v", e)
	}

	before := b.Len()
	for _, bad := range []string{
		"bogus|a|b",
		"listen|/usr/sbin/sshd",
		"listen|/usr/sbin/sshd|22|x",
		"file-access|/usr/bin/vim|append|/etc/x",
		"file-access|/usr/bin/vim|read|/home/alice/.bashrc", // not generalised
		"listen|/usr/sbin/sshd|40000",                       // is "ephemeral"
		"connect|/usr/bin/curl|internet:443",
		"connect|/usr/bin/curl|public",
		"exec-edge||/usr/bin/id",
		"user-exe|1000|/usr/lib/python3.11/x",
		"listen|/x|%zz",
	} {
		if err := b.Approve(keys[1], bad); err == nil {
			t.Errorf("Approve(%q) accepted", bad)
		}
	}
	if b.Len() != before {
		t.Error("a failed Approve changed the baseline")
	}
	err := b.Approve("file-access|/usr/bin/vim|read|/home/alice/.bashrc")
	if err == nil || !strings.Contains(err.Error(), "/home/*/.bashrc") {
		t.Errorf("non-canonical error does not name the canonical key: %v", err)
	}
}

func TestKeyEscaping(t *testing.T) {
	k := FileAccessKey("/usr/bin/x|y", "/srv/a|b\nc%d", "write")
	if want := "file-access|/usr/bin/x%7Cy|write|/srv/a%7Cb%0Ac%25d"; k != want {
		t.Fatalf("key %q, want %q", k, want)
	}
	kind, f, err := ParseKey(k)
	if err != nil || kind != KindFileAccess || f[0] != "/usr/bin/x|y" || f[2] != "/srv/a|b\nc%d" {
		t.Fatalf("ParseKey = %v %q %v", kind, f, err)
	}
	if _, err := Canonical(k); err != nil {
		t.Errorf("escaped key not canonical: %v", err)
	}
	if k := UserExeKey("", "/bin/sh"); k != "user-exe|?|/bin/sh" {
		t.Errorf("empty uid key %q", k)
	}
	if k := FileAccessKey("/bin/cat", "/srv/\xff", "read"); k != "file-access|/bin/cat|read|/srv/%FF" {
		t.Errorf("invalid UTF-8 key %q", k)
	}
	if k := FileAccessKey("/bin/cat", "/srv/é", "read"); k != "file-access|/bin/cat|read|/srv/é" {
		t.Errorf("UTF-8 key %q", k)
	}
}
