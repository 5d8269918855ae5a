// Package accounts turns the numeric uids and gids of live events into
// account names, for ECS user.name and group.name. The kernel knows only
// numbers (audit records, the proc connector and fanotify all carry
// them); names are a user-space convention kept in /etc/passwd and
// /etc/group and, for directory users, in LDAP or SSSD behind NSS.
//
// # Where names come from
//
// The files first: /etc/passwd and /etc/group are read whole at New and
// read again when one of them changes (inode, size or modification time,
// looked at every CheckInterval by the Resolver's goroutine, never on a
// lookup). The first line with an id wins, as getpwuid(3) answers from
// nss_files. A file that cannot be read keeps the last table that could.
//
// Ids the files do not hold are asked of getent(1) ("getent passwd
// 1234"), which goes through NSS as any program's getpwuid would, so
// LDAP, SSSD and systemd-homed users resolve as `ls -l` shows them.
// lineaged does not link the C library's NSS (it is built without cgo),
// so running getent is the one way to ask every NSS module. Because
// lineaged runs as root, only a getent that only root could have placed
// is run: an absolute path, resolved through symbolic links, into
// /usr/bin, /bin, /usr/sbin or /sbin, owned by root and writable by no one
// else, in directories likewise; never a bare "getent" looked up in PATH.
// The run has a fixed environment and a timeout (1 s), so a hanging
// directory server holds one run, not the agent.
//
// # Asynchronous, so the pipeline never waits
//
// Lookups happen for every event, on the pipeline's goroutine. An id
// the files hold is a map read (no lock but an atomic load). An id that
// needs getent is answered from a cache (a read lock, no allocation); the
// first sighting of an id returns unknown at once and queues a run on the
// Resolver's goroutine, and the events after the answer carry the name.
// Doing it synchronously would stall the pipeline up to the timeout per
// unknown id whenever the directory is slow, which is when a host is
// under stress and its events matter most; an event without user.name
// keeps user.id, so nothing is lost but the convenience.
//
// Answers are cached: a name for PositiveTTL (10 min), then served while
// a new run confirms it for up to one more PositiveTTL; "no such id"
// (getent's exit 2) and failed runs for NegativeTTL (1 min), so an id
// that no source knows costs one run a minute, not one per event. Runs
// are bounded: at most RunsPerSecond (10) a second, a token bucket taken
// when a run is queued, and at most 64 runs waiting; a lookup that finds
// no token or no room returns unknown without waiting, is counted
// (Stats.RateLimited, Stats.QueueFull), and asks again on a later
// sighting.
//
// # Never a guess
//
// An id that nothing resolves, or a value that is no id ("unset",
// "4294967295", "-1", ""), gives "" and false; the caller then omits the
// name. Nothing is made up from the number.
package accounts

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Defaults for Config's zero values.
const (
	DefaultPasswd        = "/etc/passwd"
	DefaultGroup         = "/etc/group"
	DefaultCheckInterval = time.Second
	DefaultTimeout       = time.Second
	DefaultPositiveTTL   = 10 * time.Minute
	DefaultNegativeTTL   = time.Minute
	DefaultRunsPerSecond = 10
)

// queueLen bounds the runs waiting for the Resolver's goroutine: more
// than one second's worth of runs at the default rate.
const queueLen = 64

// maxFileSize bounds what is read of a passwd or group file.
const maxFileSize = 64 << 20

// Config configures a Resolver. Zero values take the defaults.
type Config struct {
	// Passwd and Group are the account files (DefaultPasswd,
	// DefaultGroup). Tests point them at their own.
	Passwd, Group string
	// Getent is the getent binary for ids the files do not hold. Empty:
	// the first of /usr/bin/getent, /bin/getent, /usr/sbin/getent,
	// /sbin/getent that passes the root-owned check. A path given here
	// must pass it too, or no getent is run.
	Getent string
	// NoGetent: names come from the files only.
	NoGetent bool
	// Log receives the Resolver's trouble (Warn) and what it runs
	// (Info at New). The zero Logger discards.
	Log zerolog.Logger

	CheckInterval time.Duration // how often the files are looked at
	Timeout       time.Duration // one getent run at most
	PositiveTTL   time.Duration // a name from getent stands this long
	NegativeTTL   time.Duration // "no such id" or a failed run stands this long
	RunsPerSecond int           // getent runs a second at most (the bucket's burst too)

	// trust checks and resolves a getent path (nil: trustedBinary).
	// Tests replace it to run a fake getent from a temporary directory.
	trust func(string) (string, error)
	// clock is the time since New (nil: the monotonic clock). Tests
	// replace it to step past TTLs.
	clock func() time.Duration
}

// Stats are a Resolver's counters.
type Stats struct {
	Users, Groups int    // entries in the passwd and group tables
	BadLines      int    // lines of the two files that were not entries (last read)
	Reloads       uint64 // file reads after a change
	ReloadErrors  uint64 // checks that could not read a file (the last table is kept; one a CheckInterval while it lasts)

	Getent         string // the getent run, "" when none
	GetentRuns     uint64
	GetentFound    uint64
	GetentNotFound uint64
	GetentFailed   uint64 // timeouts, other exits, answers for another id
	RateLimited    uint64 // lookups that found no token for a run
	QueueFull      uint64 // lookups that found the run queue full
	Cached         int    // ids in the getent caches (users and groups)
}

// kind is passwd or group.
type kind int

const (
	users kind = iota
	groups
)

var (
	dbName     = [2]string{"passwd", "group"}
	fieldCount = [2]int{passwdFields, groupFields}
)

// query is one getent run asked for.
type query struct {
	k  kind
	id uint32
}

// Resolver resolves ids to names. Its methods may be called from several
// goroutines.
type Resolver struct {
	cfg    Config
	log    zerolog.Logger
	paths  [2]string
	tables [2]atomic.Pointer[map[uint32]string]
	files  [2]fileState // the goroutine's own, after New
	caches [2]*cache
	getent string // "" when none is run
	bucket *bucket
	queue  chan query
	now    func() time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	reloads, reloadErrors         atomic.Uint64
	runs, found, notFound, failed atomic.Uint64
	rateLimited, queueFull        atomic.Uint64
	tableLen                      [2]atomic.Int64
	badLines                      [2]atomic.Int64
	failing                       atomic.Bool // the last getent run failed (logged once)
	closed                        atomic.Bool
}

// fileState is what a file looked like when it was last read.
type fileState struct {
	ino     uint64
	size    int64
	mtime   time.Time
	current bool // the table is what the file held at the last check
	read    bool // the file was read at least once
	failing bool // the last check failed (logged once)
}

// New reads the files and starts the Resolver's goroutine. It does not
// fail: a file it cannot read gives an empty table (logged) and is tried
// again at every check; no trusted getent means names come from the
// files only (logged).
func New(cfg Config) *Resolver {
	if cfg.Passwd == "" {
		cfg.Passwd = DefaultPasswd
	}
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = DefaultCheckInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.PositiveTTL <= 0 {
		cfg.PositiveTTL = DefaultPositiveTTL
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = DefaultNegativeTTL
	}
	if cfg.RunsPerSecond <= 0 {
		cfg.RunsPerSecond = DefaultRunsPerSecond
	}
	if cfg.trust == nil {
		cfg.trust = trustedBinary
	}
	if cfg.clock == nil {
		start := time.Now()
		cfg.clock = func() time.Duration { return time.Since(start) }
	}
	r := &Resolver{
		cfg:    cfg,
		log:    cfg.Log.With().Str("component", "accounts").Logger(),
		paths:  [2]string{cfg.Passwd, cfg.Group},
		caches: [2]*cache{newCache(), newCache()},
		queue:  make(chan query, queueLen),
		now:    cfg.clock,
	}
	r.bucket = newBucket(cfg.RunsPerSecond, r.now())
	r.ctx, r.cancel = context.WithCancel(context.Background())
	for k := range r.paths {
		r.tables[k].Store(&map[uint32]string{})
		r.check(kind(k))
	}
	if !cfg.NoGetent {
		p, err := findGetent(cfg.Getent, cfg.trust)
		if err != nil {
			r.log.Warn().Err(err).Msg("no trusted getent: user and group names come from the files only")
		} else {
			r.getent = p
			r.log.Info().Str("getent", p).Msg("ids not in the files are asked of getent")
		}
	}
	r.wg.Add(1)
	go r.loop()
	return r
}

// User returns the name of uid (decimal, as events carry it), and false
// when it is unknown now.
func (r *Resolver) User(uid string) (string, bool) { return r.lookup(users, uid) }

// Group returns the name of gid, and false when it is unknown now.
func (r *Resolver) Group(gid string) (string, bool) { return r.lookup(groups, gid) }

func (r *Resolver) lookup(k kind, s string) (string, bool) {
	id, ok := parseID(s)
	if !ok {
		return "", false
	}
	if name, ok := (*r.tables[k].Load())[id]; ok {
		return name, true
	}
	if r.getent == "" {
		return "", false
	}
	now := r.now()
	c := r.caches[k]
	name, ok, run := c.get(id, now)
	if run && !r.closed.Load() && c.claim(id, now) {
		r.ask(k, id, now)
	}
	return name, ok
}

// ask queues a run for a claimed id, within the bucket and the queue's
// room, without waiting for either.
func (r *Resolver) ask(k kind, id uint32, now time.Duration) {
	if !r.bucket.take(now) {
		r.rateLimited.Add(1)
		r.caches[k].unclaim(id)
		return
	}
	select {
	case r.queue <- query{k, id}:
	default:
		r.queueFull.Add(1)
		r.caches[k].unclaim(id)
	}
}

// loop is the Resolver's goroutine: it looks at the files every
// CheckInterval and runs the queued getent lookups one at a time.
func (r *Resolver) loop() {
	defer r.wg.Done()
	tick := time.NewTicker(r.cfg.CheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
			r.check(users)
			r.check(groups)
		case q := <-r.queue:
			r.resolve(q)
		}
	}
}

// resolve runs getent for one id and stores its answer.
func (r *Resolver) resolve(q query) {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	r.runs.Add(1)
	name, a, err := getent(ctx, r.getent, dbName[q.k], fieldCount[q.k], q.id)
	if r.ctx.Err() != nil {
		return // closing: the run was killed, not answered
	}
	switch a {
	case found:
		r.found.Add(1)
	case notFound:
		r.notFound.Add(1)
	default:
		r.failed.Add(1)
	}
	if a == failed {
		if !r.failing.Swap(true) {
			r.log.Warn().Err(err).Msg("getent failed; ids it cannot answer stay unknown (logged once until it answers again)")
		}
	} else if r.failing.Swap(false) {
		r.log.Info().Msg("getent answers again")
	}
	r.caches[q.k].put(q.id, name, a, r.now(), r.cfg.PositiveTTL, r.cfg.NegativeTTL)
}

// check reads file k again when it changed since it was last read
// (inode, size, modification time). A failure keeps the last table, is
// logged once until the file reads again, and is tried again at every
// check.
func (r *Resolver) check(k kind) {
	path := r.paths[k]
	st := &r.files[k]
	fi, err := os.Stat(path)
	if err == nil && st.current && inode(fi) == st.ino && fi.Size() == st.size && fi.ModTime().Equal(st.mtime) {
		return
	}
	if err == nil {
		var m map[uint32]string
		var bad int
		m, bad, fi, err = readTable(path, fieldCount[k])
		if err == nil {
			r.tables[k].Store(&m)
			r.tableLen[k].Store(int64(len(m)))
			r.badLines[k].Store(int64(bad))
			if st.read {
				r.reloads.Add(1)
				r.log.Debug().Str("file", path).Int("entries", len(m)).Msg("read again after a change")
			}
			if st.failing {
				r.log.Info().Str("file", path).Int("entries", len(m)).Msg("reads again")
			}
			if bad > 0 {
				r.log.Warn().Str("file", path).Int("lines", bad).Msg("lines that are not entries were skipped")
			}
			*st = fileState{ino: inode(fi), size: fi.Size(), mtime: fi.ModTime(), current: true, read: true}
			return
		}
	}
	r.reloadErrors.Add(1)
	if !st.failing {
		r.log.Warn().Err(err).Str("file", path).Msg("cannot read; keeping the names read before (logged once until it reads)")
	}
	st.failing, st.current = true, false
}

// readTable reads and parses a passwd or group file, with the FileInfo
// of what was read (for the change check).
func readTable(path string, fields int) (map[uint32]string, int, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, 0, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, 0, nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	m, bad := parseTable(data, fields)
	return m, bad, fi, nil
}

// Stats returns the counters.
func (r *Resolver) Stats() Stats {
	return Stats{
		Users:          int(r.tableLen[users].Load()),
		Groups:         int(r.tableLen[groups].Load()),
		BadLines:       int(r.badLines[users].Load() + r.badLines[groups].Load()),
		Reloads:        r.reloads.Load(),
		ReloadErrors:   r.reloadErrors.Load(),
		Getent:         r.getent,
		GetentRuns:     r.runs.Load(),
		GetentFound:    r.found.Load(),
		GetentNotFound: r.notFound.Load(),
		GetentFailed:   r.failed.Load(),
		RateLimited:    r.rateLimited.Load(),
		QueueFull:      r.queueFull.Load(),
		Cached:         r.caches[users].len() + r.caches[groups].len(),
	}
}

// Close stops the goroutine, killing a getent that is running, and
// waits for it. Lookups after Close answer from the files and the cache
// and queue nothing. Close may be called more than once.
func (r *Resolver) Close() error {
	r.once.Do(func() {
		r.closed.Store(true)
		r.cancel()
		r.wg.Wait()
	})
	return nil
}
