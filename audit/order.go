package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"sort"
	"strconv"
)

// OrderByTime returns the inputs sorted by the timestamp of their first
// audit record, and whether that changed their order. Operators type
// `lineaged replay /var/log/audit/audit.log*`, which the shell expands
// newest first (audit.log, audit.log.1, ...); lineage is built forward in
// time, so the oldest file must come first. Inputs are left as given when
// one is standard input or any has no readable timestamp. Each input's
// reader is wrapped so that nothing peeked is lost.
func OrderByTime(inputs []Input) ([]Input, bool) {
	if len(inputs) < 2 {
		return inputs, false
	}
	type keyed struct {
		in Input
		ts int64
	}
	ks := make([]keyed, len(inputs))
	ok := true
	for i, in := range inputs {
		br := bufio.NewReaderSize(in.R, 256<<10)
		in.R = br
		ks[i].in = in
		if in.Name == "-" {
			ok = false
			continue
		}
		head, _ := br.Peek(64 << 10)
		ts, found := firstStamp(head)
		if !found {
			ok = false
		}
		ks[i].ts = ts
	}
	out := make([]Input, len(inputs))
	for i := range ks {
		out[i] = ks[i].in
	}
	if !ok {
		return out, false
	}
	sorted := sort.SliceIsSorted(ks, func(a, b int) bool { return ks[a].ts < ks[b].ts })
	if sorted {
		return out, false
	}
	sort.SliceStable(ks, func(a, b int) bool { return ks[a].ts < ks[b].ts })
	for i := range ks {
		out[i] = ks[i].in
	}
	return out, true
}

// firstStamp finds the first "msg=audit(SEC.MSEC" in the head of a file,
// decompressing a gzip head as far as it goes.
func firstStamp(head []byte) (int64, bool) {
	if len(head) > 1 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return 0, false
		}
		buf := make([]byte, 64<<10)
		n, _ := io.ReadFull(zr, buf)
		head = buf[:n]
	}
	i := bytes.Index(head, []byte("msg=audit("))
	if i < 0 {
		return 0, false
	}
	rest := head[i+len("msg=audit("):]
	dot := bytes.IndexByte(rest, '.')
	colon := bytes.IndexByte(rest, ':')
	if dot <= 0 || colon <= dot {
		return 0, false
	}
	sec, err1 := strconv.ParseInt(string(rest[:dot]), 10, 64)
	msec, err2 := strconv.ParseInt(string(rest[dot+1:colon]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return sec*1000 + msec, true
}
