package accounts

import (
	"sync"
	"time"
)

// entry is what the cache knows of one id that the files do not hold.
// Times are the Resolver's clock.
type entry struct {
	name string
	ok   bool // name is getent's answer
	// retry: no getent run for this id before then: the answer's TTL
	// (PositiveTTL or NegativeTTL), or NegativeTTL after a failed run.
	retry time.Duration
	// keep: a positive name is served until then, a second PositiveTTL
	// past retry, so that a directory user's name does not blink to
	// unknown every TTL while a new run confirms it. A negative answer
	// is unknown however old.
	keep time.Duration
	// pending: a run for this id is queued or running.
	pending bool
	// answered: a run has answered (the entry is more than a claim).
	answered bool
}

// answerAt is what a lookup returns at now.
func (e *entry) answerAt(now time.Duration) (string, bool) {
	if e.ok && now < e.keep {
		return e.name, true
	}
	return "", false
}

// cache holds getent's answers for one database (passwd or group). A
// lookup takes the read lock and copies one entry: no allocation, and
// lookups on several goroutines do not wait for each other.
type cache struct {
	mu  sync.RWMutex
	m   map[uint32]entry
	max int
}

// maxCached bounds each cache. Ids a directory serves are few on one
// host; the bound is for a host where processes switch through many
// unmapped ids (user namespaces, setuid(random)).
const maxCached = 8192

func newCache() *cache { return &cache{m: make(map[uint32]entry), max: maxCached} }

// get answers from the cache and says whether a getent run should be
// asked for (nothing known, or due again, and none pending).
func (c *cache) get(id uint32, now time.Duration) (name string, ok, run bool) {
	c.mu.RLock()
	e, known := c.m[id]
	c.mu.RUnlock()
	if !known {
		return "", false, true
	}
	name, ok = e.answerAt(now)
	return name, ok, !e.pending && now >= e.retry
}

// claim marks id pending, so that one run is asked for however many
// lookups see it at once. It reports false when another lookup claimed
// it first or an answer arrived meanwhile.
func (c *cache) claim(id uint32, now time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, known := c.m[id]
	if known && (e.pending || now < e.retry) {
		return false
	}
	if !known {
		c.makeRoom(now)
	}
	e.pending = true
	c.m[id] = e
	return true
}

// unclaim undoes claim when the run could not be queued: the next
// sighting asks again.
func (c *cache) unclaim(id uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, known := c.m[id]
	if !known {
		return
	}
	if !e.answered {
		delete(c.m, id) // claimed only
		return
	}
	e.pending = false
	c.m[id] = e
}

// put stores a run's answer. A failed run keeps a positive name until
// its keep time and is not retried for negTTL.
func (c *cache) put(id uint32, name string, a answer, now, posTTL, negTTL time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[id]
	switch a {
	case found:
		e = entry{name: name, ok: true, keep: now + 2*posTTL, retry: now + posTTL, answered: true}
	case notFound:
		e = entry{retry: now + negTTL, answered: true}
	default:
		if !e.ok {
			e = entry{}
		}
		e.retry = now + negTTL
		e.pending = false
		e.answered = true
	}
	c.m[id] = e
}

// makeRoom, with the lock held, removes entries that answer nothing any
// more, then arbitrary ones (Go's map order), until one more fits.
func (c *cache) makeRoom(now time.Duration) {
	if len(c.m) < c.max {
		return
	}
	for id, e := range c.m {
		if !e.pending && now >= e.keep && now >= e.retry {
			delete(c.m, id)
		}
	}
	for id, e := range c.m {
		if len(c.m) < c.max {
			break
		}
		if !e.pending {
			delete(c.m, id)
		}
	}
}

func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
