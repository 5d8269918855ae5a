// Package spool keeps lines on disk while an output's receiver cannot
// take them: a bounded queue of append-only segment files, read oldest
// first, shared by the syslog and Kafka outputs. A Spool is not safe for
// concurrent use: its writer holds it under its own lock.
//
// The spool is a directory of append-only segment files, named by a
// 20-digit sequence number and read oldest first:
//
//	00000001099511627776.spool
//
// Each record is one message (a line without its LF, as the output sends
// it) on one line:
//
//	CCCCCCCC SP MSG LF
//
// where CCCCCCCC is the CRC-32C of MSG in lower-case hex. A message never
// holds a LF (the writers split on them), so a torn or damaged record is
// confined to its line: the reader counts it as corrupt and resumes at the
// next LF. A segment from an earlier run is never appended to (its tail may
// be torn), and lines that must go before the oldest segment (at Close:
// what the receiver has not confirmed) go to a segment numbered one below
// it, written whole through atomicfile (a temporary ".NAME.tmp…" renamed
// into place), so a crash leaves that segment whole or absent, never half
// of it.
//
// A segment is deleted once it has been read to its end, at the next
// Read: a writer that calls Read again only when the receiver has
// confirmed everything it read before never deletes a line the receiver
// has not confirmed.
//
// Durability: appends are fsynced by Sync (and Close, and a segment
// change); a new segment's directory entry is fsynced too (ext4 and xfs
// may otherwise lose a freshly created file's name in a power cut, data
// fsynced or not). Removing a sent segment is not fsynced: after a power
// cut it may come back and be sent again (at least once, never lost).
package spool

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/lineaged/lineaged/internal/atomicfile"
)

const (
	segExt   = ".spool"
	tmpExt   = ".tmp"          // segExt+tmpExt in a temporary segment's name
	firstSeg = uint64(1) << 40 // room below for prepends
	recOver  = 10              // CRC, SP, LF
	lockName = "LOCK"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type segment struct {
	num     uint64
	size    int64 // bytes in the file
	readOff int64 // bytes of it already read (only the head is read)
	unread  int   // valid records past readOff
}

// Spool is an open spool directory, locked against a second writer.
type Spool struct {
	dir    string
	max    int64 // bytes of segments kept at most
	segMax int64 // a segment rotates once it holds this much

	segs  []*segment // oldest first
	wf    *os.File   // append handle of wseg
	wseg  *segment   // segment being appended to (the last), nil: none
	rf    *os.File   // read handle of rseg
	rseg  *segment
	bytes int64 // sum of segment sizes
	lines int   // sum of unread
	dirty bool  // appended to since the last sync
	// newSeg: a segment was created since the last sync; its directory
	// entry needs an fsync of the directory.
	newSeg bool
	lock   *os.File
}

func segPath(dir string, num uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", num, segExt))
}

// appendRecord appends msg as one spool record.
func appendRecord(dst, msg []byte) []byte {
	var h [8]byte
	c := crc32.Checksum(msg, castagnoli)
	const hexd = "0123456789abcdef"
	for i := 7; i >= 0; i-- {
		h[i] = hexd[c&15]
		c >>= 4
	}
	dst = append(dst, h[:]...)
	dst = append(dst, ' ')
	dst = append(dst, msg...)
	return append(dst, '\n')
}

// parseRecord checks one record line (without its LF) and returns its
// message.
func parseRecord(line []byte) ([]byte, bool) {
	if len(line) < 9 || line[8] != ' ' {
		return nil, false
	}
	var c uint32
	for _, b := range line[:8] {
		switch {
		case b >= '0' && b <= '9':
			c = c<<4 | uint32(b-'0')
		case b >= 'a' && b <= 'f':
			c = c<<4 | uint32(b-'a'+10)
		default:
			return nil, false
		}
	}
	msg := line[9:]
	if crc32.Checksum(msg, castagnoli) != c {
		return nil, false
	}
	return msg, true
}

// parseRecords splits buf into records. Only LF-terminated lines are taken
// unless final is set (buf reaches the end of the segment), when a tail
// without LF is a torn record and counted corrupt. consumed is how many
// bytes of buf were used; the messages alias buf.
func parseRecords(buf []byte, final bool) (msgs [][]byte, consumed, corrupt int) {
	for consumed < len(buf) {
		i := indexLF(buf[consumed:])
		if i < 0 {
			if final {
				corrupt++
				consumed = len(buf)
			}
			break
		}
		if m, ok := parseRecord(buf[consumed : consumed+i]); ok {
			msgs = append(msgs, m)
		} else {
			corrupt++
		}
		consumed += i + 1
	}
	return msgs, consumed, corrupt
}

func indexLF(b []byte) int { return bytes.IndexByte(b, '\n') }

// readChunk reads whole records from f between off and end, about want
// bytes of them (more when one record is longer). done reports that the
// segment is exhausted (next == end, or the file turned out shorter).
func readChunk(f io.ReaderAt, off, end int64, want int) (msgs [][]byte, next int64, corrupt int, done bool, err error) {
	n := int64(max(want, 1))
	for {
		if n > end-off {
			n = end - off
		}
		if n <= 0 {
			return nil, end, 0, true, nil
		}
		buf := make([]byte, n)
		got, rerr := f.ReadAt(buf, off)
		final := off+n == end
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				return nil, off, 0, false, rerr
			}
			buf, final = buf[:got], true // shorter than we knew: take what is there
		}
		msgs, used, corrupt := parseRecords(buf, final)
		if final {
			return msgs, end, corrupt, true, nil
		}
		if used > 0 {
			return msgs, off + int64(used), corrupt, false, nil
		}
		n *= 2 // one record longer than the chunk
	}
}

// Open opens (creating it 0700) and locks dir and indexes the segments an
// earlier run left, counting their records. max bounds the bytes of
// segments kept (see Append); a segment rotates at max/8, at most 8 MiB.
func Open(dir string, max int64) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(lf); err != nil {
		lf.Close()
		return nil, fmt.Errorf("spool %s is in use by another writer: %w", dir, err)
	}
	segMax := max / 8
	if segMax > 8<<20 {
		segMax = 8 << 20
	}
	if segMax < 1 {
		segMax = 1
	}
	s := &Spool{dir: dir, max: max, segMax: segMax, lock: lf}
	ents, err := os.ReadDir(dir)
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, e := range ents {
		name := e.Name()
		if isTemp(name) {
			os.Remove(filepath.Join(dir, name)) // an interrupted prepend
			continue
		}
		base, ok := strings.CutSuffix(name, segExt)
		if !ok || len(base) != 20 || !e.Type().IsRegular() {
			continue
		}
		num, err := strconv.ParseUint(base, 10, 64)
		if err != nil {
			continue
		}
		s.segs = append(s.segs, &segment{num: num})
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].num < s.segs[j].num })
	for _, g := range s.segs {
		if err := s.scan(g); err != nil {
			s.Close()
			return nil, err
		}
		s.bytes += g.size
		s.lines += g.unread
	}
	return s, nil
}

// isTemp reports a temporary segment left by a prepend that was
// interrupted before its rename: atomicfile's ".NAME.tmpRANDOM", or
// "NAME.tmp" from lineaged before it wrote through atomicfile.
func isTemp(name string) bool {
	if strings.HasSuffix(name, segExt+tmpExt) {
		return true
	}
	return strings.HasPrefix(name, ".") && strings.Contains(name, segExt+tmpExt)
}

// scan sets g's size and counts its valid records.
func (s *Spool) scan(g *segment) error {
	f, err := os.Open(segPath(s.dir, g.num))
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	g.size = fi.Size()
	for off := int64(0); off < g.size; {
		msgs, next, _, done, err := readChunk(f, off, g.size, 1<<20)
		if err != nil {
			return err
		}
		g.unread += len(msgs)
		if done {
			break
		}
		off = next
	}
	return nil
}

// removeHead deletes the oldest segment, returning how many of its records
// were never read.
func (s *Spool) removeHead() int {
	g := s.segs[0]
	if s.rseg == g {
		s.rf.Close()
		s.rf, s.rseg = nil, nil
	}
	if s.wseg == g {
		s.wf.Close()
		s.wf, s.wseg = nil, nil
	}
	os.Remove(segPath(s.dir, g.num))
	s.segs = s.segs[1:]
	s.bytes -= g.size
	s.lines -= g.unread
	return g.unread
}

// Append writes msgs at the tail. When the spool would pass its size the
// oldest segments are dropped first, and when msgs alone would pass it,
// the oldest of msgs too: dropped counts messages lost either way. n is
// how many of msgs were written; on an error none were.
func (s *Spool) Append(msgs [][]byte) (n, dropped int, err error) {
	var recs int64
	for _, m := range msgs {
		recs += int64(len(m) + recOver)
	}
	for len(msgs) > 0 && recs > s.max {
		recs -= int64(len(msgs[0]) + recOver)
		msgs = msgs[1:]
		dropped++
	}
	if len(msgs) == 0 {
		return 0, dropped, nil
	}
	for len(s.segs) > 0 && s.bytes+recs > s.max {
		dropped += s.removeHead()
	}
	buf := make([]byte, 0, recs)
	for _, m := range msgs {
		buf = appendRecord(buf, m)
	}
	if s.wseg == nil || s.wseg.size >= s.segMax {
		if err := s.rotate(); err != nil {
			return 0, dropped + len(msgs), err
		}
	}
	g := s.wseg
	w, err := s.wf.Write(buf)
	if err != nil {
		if w > 0 && s.wf.Truncate(g.size) != nil {
			// The torn record stays (the reader counts it corrupt); start
			// a new segment so the next record is not glued to it.
			g.size += int64(w)
			s.bytes += int64(w)
			s.wf.Close()
			s.wf, s.wseg = nil, nil
		}
		return 0, dropped + len(msgs), err
	}
	g.size += int64(w)
	g.unread += len(msgs)
	s.bytes += int64(w)
	s.lines += len(msgs)
	s.dirty = true
	return len(msgs), dropped, nil
}

func (s *Spool) rotate() error {
	if s.wf != nil {
		if s.dirty {
			s.wf.Sync()
		}
		s.wf.Close()
		s.wf, s.wseg = nil, nil
	}
	num := firstSeg
	if len(s.segs) > 0 {
		num = s.segs[len(s.segs)-1].num + 1
	}
	f, err := os.OpenFile(segPath(s.dir, num), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	g := &segment{num: num}
	s.segs = append(s.segs, g)
	s.wf, s.wseg = f, g
	s.newSeg = true
	return nil
}

// Read returns the next messages, oldest first, about want bytes of them.
// Segments read to their end are deleted. corrupt counts records skipped;
// on a read error the segment is given up and lost counts its unread
// records. Nothing returned means the spool is empty.
func (s *Spool) Read(want int) (msgs [][]byte, corrupt, lost int, err error) {
	for len(s.segs) > 0 {
		g := s.segs[0]
		if g.readOff >= g.size {
			s.removeHead()
			continue
		}
		if s.rseg != g {
			if s.rf != nil {
				s.rf.Close()
			}
			s.rf, s.rseg = nil, nil
			f, err := os.Open(segPath(s.dir, g.num))
			if err != nil {
				return nil, 0, s.removeHead(), err
			}
			s.rf, s.rseg = f, g
		}
		m, next, c, done, err := readChunk(s.rf, g.readOff, g.size, max(want, 4096))
		if err != nil {
			return nil, 0, s.removeHead(), err
		}
		g.readOff = next
		if done {
			g.readOff = g.size
		}
		k := len(m)
		if k > g.unread {
			k = g.unread
		}
		g.unread -= k
		s.lines -= k
		if len(m) > 0 || c > 0 {
			return m, c, 0, nil
		}
	}
	return nil, 0, 0, nil
}

// Prepend puts msgs before everything in the spool, in a segment numbered
// below the oldest. The unread part of a partly read oldest segment is
// moved into it, so that what was read is not sent again.
func (s *Spool) Prepend(msgs [][]byte) (int, error) {
	var head *segment
	if len(s.segs) > 0 && s.segs[0].readOff > 0 {
		head = s.segs[0]
	}
	if len(msgs) == 0 && head == nil {
		return 0, nil
	}
	num := firstSeg
	if len(s.segs) > 0 {
		num = s.segs[0].num - 1
	}
	var buf []byte
	for _, m := range msgs {
		buf = appendRecord(buf, m)
	}
	if head != nil {
		rest := make([]byte, head.size-head.readOff)
		f, err := os.Open(segPath(s.dir, head.num))
		if err != nil {
			return 0, err
		}
		got, err := f.ReadAt(rest, head.readOff)
		f.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		buf = append(buf, rest[:got]...)
	}
	// Whole or not at all: the directory is fsynced before the head's
	// unread records are dropped from it below, so a power cut in
	// between sends them twice rather than never.
	if err := atomicfile.WriteFile(segPath(s.dir, num), buf, 0o600); err != nil {
		return 0, err
	}
	g := &segment{num: num, size: int64(len(buf)), unread: len(msgs)}
	if head != nil {
		g.unread += head.unread
		s.removeHead() // its unread records are in g now
	}
	s.segs = append([]*segment{g}, s.segs...)
	s.bytes += g.size
	s.lines += g.unread
	return len(msgs), nil
}

// Sync flushes appended records to disk, and the directory entry of a
// segment created since the last sync.
func (s *Spool) Sync() error {
	var err error
	if s.dirty && s.wf != nil {
		s.dirty = false
		err = s.wf.Sync()
	}
	if s.newSeg {
		s.newSeg = false
		if derr := atomicfile.SyncDir(s.dir); err == nil {
			err = derr
		}
	}
	return err
}

// Close syncs the spool and releases its lock. The Spool is not used after.
func (s *Spool) Close() error {
	err := s.Sync()
	if s.wf != nil {
		s.wf.Close()
		s.wf, s.wseg = nil, nil
	}
	if s.rf != nil {
		s.rf.Close()
		s.rf, s.rseg = nil, nil
	}
	if s.lock != nil {
		s.lock.Close() // releases the flock
		s.lock = nil
	}
	return err
}

// Lines is the number of valid records not yet read.
func (s *Spool) Lines() int { return s.lines }

// Bytes is the size of the segment files, read records and corrupt ones
// included.
func (s *Spool) Bytes() int64 { return s.bytes }

// Empty reports that no segment is left: every record was read and the
// last segment deleted (which the Read after the last records does).
// Lines can be 0 while a segment remains (corrupt records, or read
// records waiting for that Read).
func (s *Spool) Empty() bool { return len(s.segs) == 0 }

// Unsynced reports records appended since the last Sync.
func (s *Spool) Unsynced() bool { return s.dirty }
