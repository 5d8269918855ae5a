package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/lineaged/lineaged/event"
)

// Input is one audit log to read.
type Input struct {
	Name string    // file name for reports ("-" for standard input)
	R    io.Reader // plain or gzip; gzip is detected by its magic bytes
}

// Malformed is one line that could not be parsed.
type Malformed struct {
	File   string
	Line   int
	Reason string
}

func (m Malformed) String() string { return m.File + ":" + strconv.Itoa(m.Line) + ": " + m.Reason }

// LogConfig configures a LogSource.
type LogConfig struct {
	// Host names events of records without a node= prefix.
	Host string
	// MaxInFlight and TimeoutMsec tune reassembly (defaults: the live
	// source's, 256 events and 2 s of log time; a complete event waits
	// 100 ms of log time for a lower serial still missing, as live).
	MaxInFlight int
	TimeoutMsec int64
	// MaxLine is the longest line accepted (default 1 MiB); longer lines
	// are reported as malformed, never cut silently.
	MaxLine int
	// Progress, when set, is called now and then with bytes read so far.
	Progress func(read int64)
}

// LogStats is what a LogSource read.
type LogStats struct {
	Files          int
	Lines          uint64
	Bytes          int64
	Records        uint64
	Events         uint64 // events built
	MalformedCount uint64
	Malformed      []Malformed // the first MaxMalformedKept positions
	Reassembly     ReassemblerStats
	Normalize      NormalizeStats
	Nodes          int // distinct audit nodes (hosts) seen
	// Clock is the newest record time read (Unix msec).
	Clock int64
}

// MaxMalformedKept bounds the malformed positions a LogSource keeps (all
// are counted).
const MaxMalformedKept = 1000

// linesPerBatch bounds one ReadBatch, so the caller can check for an
// interrupt and report progress between batches.
const linesPerBatch = 16384

// LogSource reads raw audit logs (RAW and ENRICHED, node= prefixes, hex
// fields, interleaved and out-of-order records, gzip) and emits one event
// per reassembled audit event, as an event.Source whose ReadBatch reads
// the next lines and returns io.EOF once every input is read and every
// event in flight is out. It never stops at a bad line: malformed lines
// are counted and their positions kept. Records of different nodes never
// meet in one event (one reassembler per node); the clock of each is the
// newest record time seen from it (log time, not the wall clock).
type LogSource struct {
	cfg    LogConfig
	inputs []Input
	next   int // index of the input being read
	cur    *logReader
	pool   *RecordPool
	norm   *Normalizer
	hosts  map[string]*logHost
	order  []*logHost
	ev     event.Event
	emit   func(*event.Event)
	stats  LogStats
	first  error // the first input that could not be read
	done   bool
}

// logHost is what is kept per audit node: its reassembler and clock.
type logHost struct {
	ra    *Reassembler
	clock int64
}

// NewLogSource returns a source over inputs, read in the order given
// (OrderByTime sorts them).
func NewLogSource(cfg LogConfig, inputs []Input) *LogSource {
	// The live source's reassembly bounds: a log written in arrival
	// order holds the kernel's reorderings too (an exec numbered before
	// an exit that arrives after it), and replay must make of them what
	// live made (agent.Agreement).
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = liveMaxInFlight
	}
	if cfg.TimeoutMsec == 0 {
		cfg.TimeoutMsec = liveTimeoutMsec
	}
	if cfg.MaxLine == 0 {
		cfg.MaxLine = 1 << 20
	}
	return &LogSource{cfg: cfg, inputs: inputs, pool: &RecordPool{}, norm: NewNormalizer(cfg.Host), hosts: map[string]*logHost{}}
}

// Name is "log".
func (s *LogSource) Name() string { return "log" }

// FD is -1: ReadBatch reads the files directly.
func (s *LogSource) FD() int { return -1 }

// Close does nothing: the caller owns the readers.
func (s *LogSource) Close() error { return nil }

// Health is the source's figures as a health row.
func (s *LogSource) Health() event.Health {
	return event.Health{Name: "log", State: event.StateRunning, Detail: strconv.Itoa(len(s.inputs)) + " files",
		Events: s.stats.Events, Lost: s.stats.MalformedCount}
}

// Err is the first input that could not be read (each is also counted
// as malformed; the others are still read).
func (s *LogSource) Err() error { return s.first }

// Stats returns what was read so far (reassembly summed over nodes).
func (s *LogSource) Stats() LogStats {
	st := s.stats
	st.Malformed = append([]Malformed(nil), s.stats.Malformed...)
	st.Normalize = s.norm.Stats
	st.Nodes = len(s.hosts)
	for _, h := range s.order {
		r := h.ra.Stats()
		st.Reassembly.Events += r.Events
		st.Reassembly.Records += r.Records
		st.Reassembly.Lost += r.Lost
		st.Reassembly.Late += r.Late
		st.Reassembly.Resets += r.Resets
		st.Reassembly.Expired += r.Expired
		st.Reassembly.Overflowed += r.Overflowed
	}
	return st
}

// ReadBatch reads up to linesPerBatch lines, emitting the events they
// complete; at the end of the last input it completes what is in flight
// and returns io.EOF.
func (s *LogSource) ReadBatch(emit func(*event.Event)) error {
	if s.done {
		return io.EOF
	}
	s.emit = emit
	defer func() { s.emit = nil }()
	for n := 0; n < linesPerBatch; {
		if s.cur == nil {
			if s.next == len(s.inputs) {
				for _, h := range s.order {
					h.ra.Flush()
				}
				s.done = true
				return io.EOF
			}
			in := s.inputs[s.next]
			s.next++
			s.stats.Files++
			r, err := newLogReader(in, &s.stats.Bytes, s.cfg.MaxLine)
			if err != nil {
				s.inputError(in.Name, err)
				continue
			}
			s.cur = r
		}
		read, err := s.cur.lines(linesPerBatch-n, s.line)
		n += read
		if s.cfg.Progress != nil {
			s.cfg.Progress(s.stats.Bytes)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.inputError(s.cur.name, fmt.Errorf("read after line %d: %w", s.cur.lineNo, err))
			}
			s.cur.close()
			s.cur = nil
		}
	}
	return nil
}

// Flush completes every event in flight (after an interrupt; ReadBatch
// does it at the end of the last input).
func (s *LogSource) Flush(emit func(*event.Event)) {
	s.emit = emit
	for _, h := range s.order {
		h.ra.Flush()
	}
	s.emit = nil
}

// inputError records an input that could not be read: an error for that
// file, counted as malformed; the other inputs are still read.
func (s *LogSource) inputError(name string, err error) {
	err = fmt.Errorf("%s: %w", name, err)
	if s.first == nil {
		s.first = err
	}
	s.malformed(name, 0, err.Error())
}

func (s *LogSource) malformed(file string, line int, reason string) {
	s.stats.MalformedCount++
	if len(s.stats.Malformed) < MaxMalformedKept {
		s.stats.Malformed = append(s.stats.Malformed, Malformed{File: file, Line: line, Reason: reason})
	}
}

// line handles one line (without its end) of the current input; tooLong
// marks a line longer than MaxLine, whose text was dropped.
func (s *LogSource) line(n int, line []byte, tooLong bool) {
	s.stats.Lines++
	name := s.cur.name
	line = bytes.TrimRight(line, "\r\n")
	if tooLong || len(line) > s.cfg.MaxLine {
		s.malformed(name, n, "line longer than "+strconv.Itoa(s.cfg.MaxLine)+" bytes (not processed)")
		return
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return // blank lines are not records and not errors
	}
	r := s.pool.Get()
	if err := r.Parse(line); err != nil {
		s.pool.Put(r)
		s.malformed(name, n, err.Error())
		return
	}
	s.stats.Records++
	h := s.host(r.Node)
	// The clock is log time: the newest record time seen from the host.
	// Events older than the timeout relative to it are complete.
	if t := r.TimeMsec(); t > h.clock {
		h.clock = t
	}
	if t := r.TimeMsec(); t > s.stats.Clock {
		s.stats.Clock = t
	}
	h.ra.Push(r, h.clock)
}

// host returns the state of the node a record came from ("" for records
// without node=).
func (s *LogSource) host(node []byte) *logHost {
	if h, ok := s.hosts[string(node)]; ok {
		return h
	}
	h := &logHost{}
	h.ra = NewReassembler(s.cfg.MaxInFlight, s.cfg.TimeoutMsec, s.complete)
	h.ra.SetReorder(liveReorderMsec)
	h.ra.SetPool(s.pool)
	s.hosts[string(node)] = h
	s.order = append(s.order, h)
	return h
}

func (s *LogSource) complete(g *Group) {
	e := &s.ev
	s.norm.Normalize(g, e)
	e.Module = event.ModuleAudit
	s.stats.Events++
	s.emit(e)
}

// logReader reads the lines of one input, gzip or plain, assembling lines
// longer than its buffer up to a limit.
type logReader struct {
	name    string
	br      *bufio.Reader
	zr      *gzip.Reader
	maxLine int
	lineNo  int
	long    []byte // a line longer than the buffer, assembled
	tooLong bool
}

// countingReader counts bytes for the progress report.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	*c.n += int64(n)
	return n, err
}

func newLogReader(in Input, count *int64, maxLine int) (*logReader, error) {
	lr := &logReader{name: in.Name, maxLine: maxLine}
	lr.br = bufio.NewReaderSize(countingReader{in.R, count}, 256<<10)
	if magic, _ := lr.br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(lr.br)
		if err != nil {
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		lr.zr = zr
		lr.br = bufio.NewReaderSize(zr, 256<<10)
	}
	return lr, nil
}

func (lr *logReader) close() {
	if lr.zr != nil {
		lr.zr.Close()
	}
}

// lines reads up to max lines, passing each (number, text, too long) to
// fn; it returns how many it read and io.EOF at the end of the input.
func (lr *logReader) lines(max int, fn func(n int, line []byte, tooLong bool)) (int, error) {
	read := 0
	for read < max {
		chunk, err := lr.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Part of a line longer than the buffer: keep it up to
			// maxLine; past that, drop the rest and report the line.
			if !lr.tooLong {
				if len(lr.long)+len(chunk) > lr.maxLine {
					lr.tooLong, lr.long = true, lr.long[:0]
				} else {
					lr.long = append(lr.long, chunk...)
				}
			}
			continue
		}
		line := chunk
		switch {
		case lr.tooLong:
			line = nil
		case len(lr.long) > 0:
			lr.long = append(lr.long, chunk...)
			line = lr.long
		}
		if len(line) > 0 || lr.tooLong {
			lr.lineNo++
			read++
			fn(lr.lineNo, line, lr.tooLong)
		}
		lr.tooLong = false
		lr.long = lr.long[:0]
		if cap(lr.long) > 4<<20 {
			lr.long = nil // do not keep a huge buffer for the rest of the file
		}
		if err != nil {
			return read, err
		}
	}
	return read, nil
}
