// Command genlog builds a large raw audit log for benchmarks by
// concatenating a recorded auditd log N times.
//
// Each copy k (k = 0..N-1) is the recorded log with
//
//   - every msg=audit(SEC.FRAC:SERIAL) timestamp shifted by k*(span+1s),
//     where span is last-first timestamp of the recording;
//   - every SERIAL shifted by k*(maxSerial-minSerial+1), so serials keep
//     increasing from copy to copy and never collide. auditd's own records
//     (type=DAEMON_*) carry serials from auditd's counter, not the kernel's,
//     so the two are shifted separately, each by its own range: kernel
//     serials then stay gap-free across copy boundaries, as in one long
//     recording. (If the two shifted ranges would overlap, one common shift
//     over all serials is used instead.);
//   - every pid-valued field (pid=, ppid=, opid=, and exit= of a successful
//     fork/vfork/clone/clone3 SYSCALL) shifted by k*(maxPid-minPid+1). One
//     offset per copy keeps parent/child links intact inside the copy.
//     Pids 0 and 1 (none/kernel, init) are singletons and are not shifted.
//     genlog fails rather than produce a pid >= 4194304 (PID_MAX_LIMIT).
//
// Everything else is byte-identical. With -raw, the ENRICHED part of each
// line (from the 0x1D byte to the end of the line) is removed, which gives
// the RAW log format. Output is deterministic.
//
// Usage:
//
//	genlog [-in FILE] [-lines N] [-raw] -o FILE
//
// -in defaults to $LINEAGED_SHARED/testdata/recorded/devbox.log.xz, with
// LINEAGED_SHARED defaulting to ../shared (relative to the repo root).
// Plain, .gz and .xz inputs are read (.xz through the xz program); "-" is
// stdin (plain). -o "-" is stdout.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// pidMaxLimit is the kernel's PID_MAX_LIMIT on 64-bit: pids are < 4194304.
const pidMaxLimit = 4194304

const enrichSep = 0x1D

type editKind uint8

const (
	editTime         editKind = iota
	editSerial                // kernel serial
	editDaemonSerial          // auditd's own serial (type=DAEMON_*)
	editPid
)

// edit replaces line[start:end] (a decimal number, or SEC.FRAC for editTime)
// by a shifted value.
type edit struct {
	start, end int
	kind       editKind
	val        int64 // time in fraction units, serial, or pid
}

type tmplLine struct {
	text  []byte // line without its trailing newline (already stripped if -raw)
	edits []edit
}

type header struct {
	found        bool
	timeVal      int64 // SEC*10^fracDigits + FRAC
	fracDigits   int
	serial       int64
	tStart, tEnd int // span of SEC.FRAC in the line
	sStart, sEnd int // span of SERIAL in the line
	restOff      int // offset just after "):"
}

func main() {
	log := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "genlog: "+format+"\n", a...) }
	defIn := filepath.Join(sharedDir(), "testdata", "recorded", "devbox.log.xz")
	in := flag.String("in", defIn, `recorded audit log (plain, .gz or .xz; "-" = stdin)`)
	out := flag.String("o", "", `output file ("-" = stdout), required`)
	lines := flag.Int("lines", 600000, "minimum number of output lines (whole copies are written)")
	raw := flag.Bool("raw", false, "strip the ENRICHED part (0x1D to end of line): RAW-format output")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 || *lines <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	data, err := readInput(*in)
	if err != nil {
		log("%v", err)
		os.Exit(1)
	}
	st, err := run(data, *out, *lines, *raw)
	if err != nil {
		log("%v", err)
		os.Exit(1)
	}
	log("wrote %d lines (%d copies x %d) to %s; per copy: time +%s s, serial +%d (auditd's DAEMON_* +%d), pid +%d; raw=%v",
		st.outLines, st.copies, st.inLines, *out, st.timeShiftStr, st.serialShift, st.daemonSerialShift, st.pidShift, *raw)
}

func sharedDir() string {
	if d := os.Getenv("LINEAGED_SHARED"); d != "" {
		return d
	}
	return filepath.Join("..", "shared")
}

func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	switch {
	case strings.HasSuffix(path, ".xz"):
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		cmd := exec.Command("xz", "-dc", "--", path)
		cmd.Stderr = os.Stderr
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("xz -dc %s: %w", path, err)
		}
		return b, nil
	case strings.HasSuffix(path, ".gz"):
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return io.ReadAll(zr)
	default:
		return os.ReadFile(path)
	}
}

type stats struct {
	inLines, copies, outLines int
	serialShift, pidShift     int64
	daemonSerialShift         int64
	timeShiftStr              string
}

func run(data []byte, outPath string, minLines int, raw bool) (stats, error) {
	var st stats
	if len(data) == 0 {
		return st, errors.New("empty input")
	}
	// Split into lines; a missing final newline is supplied so copies
	// concatenate cleanly.
	raws := bytes.SplitAfter(data, []byte("\n"))
	if len(raws[len(raws)-1]) == 0 {
		raws = raws[:len(raws)-1]
	}
	tmpl := make([]tmplLine, 0, len(raws))
	var (
		fracDigits   = -1
		tMin, tMax   int64
		sMin, sMax   int64 // kernel serials
		dMin, dMax   int64 // auditd serials (DAEMON_*)
		haveS, haveD bool
		pMin, pMax   int64
		haveT, haveP bool
	)
	for i, l := range raws {
		l = bytes.TrimSuffix(l, []byte("\n"))
		if raw {
			if j := bytes.IndexByte(l, enrichSep); j >= 0 {
				l = l[:j]
			}
		}
		t := tmplLine{text: l}
		// Only the raw part (before 0x1D) is parsed for fields.
		rawPart := l
		if j := bytes.IndexByte(l, enrichSep); j >= 0 {
			rawPart = l[:j]
		}
		h := parseHeader(rawPart)
		if h.found {
			if fracDigits < 0 {
				fracDigits = h.fracDigits
			} else if fracDigits != h.fracDigits {
				return st, fmt.Errorf("line %d: timestamp has %d fraction digits, earlier lines %d", i+1, h.fracDigits, fracDigits)
			}
			if !haveT || h.timeVal < tMin {
				tMin = h.timeVal
			}
			if !haveT || h.timeVal > tMax {
				tMax = h.timeVal
			}
			haveT = true
			sk := editSerial
			if isDaemonRecord(rawPart[:h.tStart]) {
				sk = editDaemonSerial
				if !haveD || h.serial < dMin {
					dMin = h.serial
				}
				if !haveD || h.serial > dMax {
					dMax = h.serial
				}
				haveD = true
			} else {
				if !haveS || h.serial < sMin {
					sMin = h.serial
				}
				if !haveS || h.serial > sMax {
					sMax = h.serial
				}
				haveS = true
			}
			t.edits = append(t.edits,
				edit{h.tStart, h.tEnd, editTime, h.timeVal},
				edit{h.sStart, h.sEnd, sk, h.serial})
			for _, e := range pidFields(rawPart, h.restOff) {
				t.edits = append(t.edits, e)
				if !haveP || e.val < pMin {
					pMin = e.val
				}
				if !haveP || e.val > pMax {
					pMax = e.val
				}
				haveP = true
			}
		}
		tmpl = append(tmpl, t)
	}
	if !haveT {
		return st, errors.New("no msg=audit(...) header found in input")
	}
	st.inLines = len(tmpl)
	st.copies = (minLines + st.inLines - 1) / st.inLines
	st.outLines = st.copies * st.inLines

	unit := int64(1)
	for i := 0; i < fracDigits; i++ {
		unit *= 10
	}
	timeShift := tMax - tMin + unit // span + 1 s
	st.timeShiftStr = formatTime(timeShift, fracDigits)
	last := int64(st.copies - 1)
	switch {
	case haveS && haveD:
		st.serialShift = sMax - sMin + 1
		st.daemonSerialShift = dMax - dMin + 1
		// Shifted ranges [min, max+last*shift] must not overlap.
		if dMin <= sMax+last*st.serialShift && sMin <= dMax+last*st.daemonSerialShift {
			lo, hi := min(sMin, dMin), max(sMax, dMax)
			st.serialShift, st.daemonSerialShift = hi-lo+1, hi-lo+1
		}
	case haveS:
		st.serialShift = sMax - sMin + 1
	case haveD:
		st.daemonSerialShift = dMax - dMin + 1
	}
	if haveP {
		st.pidShift = pMax - pMin + 1
		if pMax+last*st.pidShift >= pidMaxLimit {
			return st, fmt.Errorf("%d copies would shift pids up to %d, beyond PID_MAX_LIMIT %d: ask for fewer lines",
				st.copies, pMax+last*st.pidShift, pidMaxLimit)
		}
	}

	var w io.Writer
	var f *os.File
	if outPath == "-" {
		w = os.Stdout
	} else {
		var err error
		f, err = os.Create(outPath)
		if err != nil {
			return st, err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	num := make([]byte, 0, 32)
	for k := 0; k < st.copies; k++ {
		kk := int64(k)
		for _, t := range tmpl {
			pos := 0
			for _, e := range t.edits {
				bw.Write(t.text[pos:e.start])
				num = num[:0]
				switch e.kind {
				case editTime:
					num = append(num, formatTime(e.val+kk*timeShift, fracDigits)...)
				case editSerial:
					num = strconv.AppendInt(num, e.val+kk*st.serialShift, 10)
				case editDaemonSerial:
					num = strconv.AppendInt(num, e.val+kk*st.daemonSerialShift, 10)
				case editPid:
					num = strconv.AppendInt(num, e.val+kk*st.pidShift, 10)
				}
				bw.Write(num)
				pos = e.end
			}
			bw.Write(t.text[pos:])
			bw.WriteByte('\n')
		}
	}
	if err := bw.Flush(); err != nil {
		return st, err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return st, err
		}
	}
	return st, nil
}

func formatTime(v int64, fracDigits int) string {
	if fracDigits == 0 {
		return strconv.FormatInt(v, 10)
	}
	unit := int64(1)
	for i := 0; i < fracDigits; i++ {
		unit *= 10
	}
	frac := strconv.FormatInt(v%unit, 10)
	return strconv.FormatInt(v/unit, 10) + "." + strings.Repeat("0", fracDigits-len(frac)) + frac
}

// parseHeader finds the first "msg=audit(SEC[.FRAC]:SERIAL):" in l.
func parseHeader(l []byte) header {
	var h header
	const pfx = "msg=audit("
	i := bytes.Index(l, []byte(pfx))
	if i < 0 || (i > 0 && l[i-1] != ' ') {
		return h
	}
	p := i + len(pfx)
	secStart := p
	for p < len(l) && isDigit(l[p]) {
		p++
	}
	if p == secStart {
		return h
	}
	sec, err := strconv.ParseInt(string(l[secStart:p]), 10, 64)
	if err != nil {
		return h
	}
	frac, fd := int64(0), 0
	if p < len(l) && l[p] == '.' {
		p++
		fs := p
		for p < len(l) && isDigit(l[p]) {
			p++
		}
		fd = p - fs
		if fd == 0 || fd > 9 {
			return h
		}
		frac, _ = strconv.ParseInt(string(l[fs:p]), 10, 64)
	}
	tEnd := p
	if p >= len(l) || l[p] != ':' {
		return h
	}
	p++
	sStart := p
	for p < len(l) && isDigit(l[p]) {
		p++
	}
	if p == sStart {
		return h
	}
	serial, err := strconv.ParseInt(string(l[sStart:p]), 10, 64)
	if err != nil || p >= len(l) || l[p] != ')' {
		return h
	}
	sEnd := p
	p++
	if p < len(l) && l[p] == ':' {
		p++
	}
	unit := int64(1)
	for j := 0; j < fd; j++ {
		unit *= 10
	}
	h = header{
		found: true, timeVal: sec*unit + frac, fracDigits: fd, serial: serial,
		tStart: secStart, tEnd: tEnd, sStart: sStart, sEnd: sEnd, restOff: p,
	}
	return h
}

// pidFields returns edits for the pid-valued fields of the record body
// l[off:]. Values in double or single quotes are skipped as a whole (audit
// quotes never contain their own quote character: such strings are
// hex-encoded), so "pid=" inside a command line is never touched.
func pidFields(l []byte, off int) []edit {
	var edits []edit
	var exitEdit *edit
	var arch, syscall, success string
	p := off
	for p < len(l) {
		for p < len(l) && l[p] == ' ' {
			p++
		}
		ks := p
		for p < len(l) && l[p] != '=' && l[p] != ' ' {
			p++
		}
		if p >= len(l) || l[p] != '=' {
			continue // bare word; skip
		}
		key := string(l[ks:p])
		p++
		vs := p
		if p < len(l) && (l[p] == '"' || l[p] == '\'') {
			q := l[p]
			p++
			for p < len(l) && l[p] != q {
				p++
			}
			if p < len(l) {
				p++
			}
			for p < len(l) && l[p] != ' ' {
				p++
			}
			continue
		}
		for p < len(l) && l[p] != ' ' {
			p++
		}
		val := l[vs:p]
		switch key {
		case "pid", "ppid", "opid":
			if v, ok := pidValue(val); ok {
				edits = append(edits, edit{vs, p, editPid, v})
			}
		case "exit":
			if v, ok := pidValue(val); ok {
				exitEdit = &edit{vs, p, editPid, v}
			}
		case "arch":
			arch = string(val)
		case "syscall":
			syscall = string(val)
		case "success":
			success = string(val)
		}
	}
	if exitEdit != nil && success == "yes" && isForkSyscall(arch, syscall) {
		edits = append(edits, *exitEdit)
		// keep edits in line order
		for i := len(edits) - 1; i > 0 && edits[i].start < edits[i-1].start; i-- {
			edits[i], edits[i-1] = edits[i-1], edits[i]
		}
	}
	return edits
}

// pidValue parses a plain decimal pid; 0, 1 and anything non-numeric
// (e.g. -1, "?") are left alone.
func pidValue(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || v <= 1 {
		return 0, false
	}
	return v, true
}

// isForkSyscall reports whether the syscall's exit value is a child pid.
func isForkSyscall(arch, syscall string) bool {
	switch arch {
	case "c000003e": // x86_64: clone, fork, vfork, clone3
		return syscall == "56" || syscall == "57" || syscall == "58" || syscall == "435"
	case "40000003": // i386: fork, clone, vfork, clone3
		return syscall == "2" || syscall == "120" || syscall == "190" || syscall == "435"
	case "c00000b7": // aarch64: clone, clone3
		return syscall == "220" || syscall == "435"
	}
	return false
}

// isDaemonRecord reports whether the line prefix before the timestamp has
// type=DAEMON_* (records written by auditd itself, numbered by auditd).
func isDaemonRecord(prefix []byte) bool {
	i := bytes.Index(prefix, []byte("type="))
	return i >= 0 && (i == 0 || prefix[i-1] == ' ') && bytes.HasPrefix(prefix[i+len("type="):], []byte("DAEMON_"))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
