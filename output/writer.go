package output

import (
	"errors"
	"io"

	"github.com/lineaged/lineaged/event"
)

const (
	// flushAt is the buffered size past which Write hands the buffer to
	// the underlying writer. An event line is typically 0.5–2 KiB.
	flushAt = 32 << 10
	// keepCap bounds the capacity kept after a flush, so that one huge
	// event (a long unparsed record, a giant argv) does not pin its
	// buffer for the life of the Writer.
	keepCap = 1 << 20
)

var errNilEvent = errors.New("output: nil event")

// Writer writes events as JSON lines to an io.Writer: one object and a
// '\n' per event, buffered.
//
// Each call to the underlying Write carries whole lines only, so a writer
// below it that rotates files or frames syslog messages between calls
// never splits a line. A Writer is not safe for concurrent use.
type Writer struct {
	w     io.Writer
	buf   []byte
	count uint64
	err   error // sticky, as in bufio.Writer
	size  int   // write out once this much is buffered
	enc   *Encoder
}

// NewWriter returns a Writer that buffers up to about 32 KiB before
// writing to w. Call Flush to write out what is buffered.
func NewWriter(w io.Writer) *Writer { return NewWriterSize(w, flushAt) }

// NewWriterSize returns a Writer that writes to w once size bytes are
// buffered (or on Flush): the live agent, which flushes on a timer, uses a
// large one so that a burst costs a few write(2) calls, not hundreds.
func NewWriterSize(w io.Writer, size int) *Writer {
	if size <= 0 {
		size = flushAt
	}
	return &Writer{w: w, buf: make([]byte, 0, size+4<<10), size: size, enc: std}
}

// SetEncoder makes w write with enc (nil: the default Options).
func (w *Writer) SetEncoder(enc *Encoder) {
	if enc == nil {
		enc = std
	}
	w.enc = enc
}

// Write encodes e as one line into the buffer, writing the buffer out once
// it passes its size. After the underlying writer has failed, Write and
// Flush return that error and write nothing more.
func (w *Writer) Write(e *event.Event) error {
	if w.err != nil {
		return w.err
	}
	if e == nil {
		return errNilEvent
	}
	w.buf = w.enc.Append(w.buf, e)
	w.buf = append(w.buf, '\n')
	w.count++
	if len(w.buf) >= w.size {
		return w.Flush()
	}
	return nil
}

// Flush writes any buffered lines to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		// Sticky: after a short write a retry would emit half a line or
		// a line twice. Recovery (reopen, reconnect) belongs to the layer
		// that owns the destination.
		w.err = err
		return err
	}
	if cap(w.buf) > keepCap {
		w.buf = make([]byte, 0, flushAt+4<<10)
	} else {
		w.buf = w.buf[:0]
	}
	return nil
}

// Count returns the number of lines accepted by Write. Lines still
// buffered when the underlying writer fails are counted but not delivered.
func (w *Writer) Count() uint64 { return w.count }
