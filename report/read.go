package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lineaged/lineaged/event"
)

// Doc is the part of one of lineaged's JSON lines (output package, SPEC
// §5) that the report reads. Unknown members are ignored, so a line from a
// newer lineaged still reads; so does one from before the ECS renames
// (event.Renamed): ParseLine moves the old members to the new ones'
// places (Process.Ancestry, File.Operation, Network.Direction).
type Doc struct {
	Timestamp string `json:"@timestamp"`
	Event     struct {
		ID        string           `json:"id"`
		Kind      string           `json:"kind"`
		Category  []event.Category `json:"category"`
		Type      []event.Type     `json:"type"`
		Action    event.Action     `json:"action"`
		Outcome   event.Outcome    `json:"outcome"`
		Severity  event.Severity   `json:"severity"`
		RiskScore int              `json:"risk_score"`
		Reason    string           `json:"reason"`
	} `json:"event"`
	Message string `json:"message"`
	Host    struct {
		Name string `json:"name"`
	} `json:"host"`
	Process struct {
		EntityID   string   `json:"entity_id"`
		PID        int      `json:"pid"`
		Executable string   `json:"executable"`
		Name       string   `json:"name"`
		Args       []string `json:"args"`
		ExitCode   *int     `json:"exit_code"`
		Parent     *Ref     `json:"parent"`
		// Ancestry is lineaged.ancestry, or an earlier lineaged's
		// process.ancestry, nearest parent first. ParseLine fills the
		// parent's members from process.parent (compact and ids modes
		// carry only its ids there).
		Ancestry []Ref `json:"ancestry"`
	} `json:"process"`
	User struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Effective struct {
			ID string `json:"id"`
		} `json:"effective"`
		Audit struct {
			ID string `json:"id"`
		} `json:"audit"`
		Target *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"target"`
	} `json:"user"`
	File *struct {
		Path      string `json:"path"`
		Operation string `json:"operation"`
	} `json:"file"`
	Source      *Endpoint `json:"source"`
	Destination *Endpoint `json:"destination"`
	Network     *struct {
		Transport string `json:"transport"`
		Direction string `json:"direction"`
	} `json:"network"`
	Auditd *struct {
		Result      string            `json:"result"`
		Data        map[string]string `json:"data"`
		RecordTypes []string          `json:"record_types"`
	} `json:"auditd"`
	Rule *struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Ruleset string `json:"ruleset"`
	} `json:"rule"`
	Threat *struct {
		Technique struct {
			ID []string `json:"id"`
		} `json:"technique"`
	} `json:"threat"`
	Lineaged *struct {
		Alert *struct {
			Key   string   `json:"key"`
			Count int      `json:"count"`
			Novel []string `json:"novel"`
		} `json:"alert"`
		Evidence      []Evidence `json:"evidence"`
		Ancestry      []Ref      `json:"ancestry"`
		ParentUnknown bool       `json:"parent_unknown"`
		File          *struct {
			Operation string `json:"operation"`
		} `json:"file"`
		Network *struct {
			State string `json:"state"`
		} `json:"network"`
		Config *struct {
			Source   string            `json:"source"`
			Settings map[string]string `json:"settings"`
			Rules    []string          `json:"rules"`
		} `json:"config"`
	} `json:"lineaged"`
	Labels map[string]string `json:"labels"`
	Tags   []string          `json:"tags"`

	// Time is @timestamp parsed (zero when absent or unreadable).
	Time time.Time `json:"-"`
}

// Ref is a process object of process.parent and process.ancestry.
type Ref struct {
	EntityID   string   `json:"entity_id,omitempty"`
	PID        int      `json:"pid,omitempty"`
	Executable string   `json:"executable,omitempty"`
	Args       []string `json:"args,omitempty"`
	User       struct {
		ID string `json:"id,omitempty"`
	} `json:"user"`
	Unknown bool `json:"unknown,omitempty"`
}

// Endpoint is source.* or destination.*.
type Endpoint struct {
	IP      string `json:"ip,omitempty"`
	Port    int    `json:"port,omitempty"`
	Address string `json:"address,omitempty"`
}

// Evidence is one element of lineaged.evidence.
type Evidence struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

// IsAlert tells alerts from events.
func (d *Doc) IsAlert() bool { return d.Event.Kind == "alert" }

// Category is the first event.category ("" when none).
func (d *Doc) Category() event.Category {
	if len(d.Event.Category) == 0 {
		return ""
	}
	return d.Event.Category[0]
}

// HasTag reports whether the audit rule key k tagged the event.
func (d *Doc) HasTag(k string) bool {
	for _, t := range d.Tags {
		if t == k {
			return true
		}
	}
	return false
}

// Bad is one line the reader could not use.
type Bad struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (b Bad) String() string { return fmt.Sprintf("%s:%d: %s", b.File, b.Line, b.Reason) }

// MaxLine bounds one JSON line. lineaged's encoder caps arguments, so its
// lines are far shorter; a longer line is counted as bad, not read whole.
const MaxLine = 4 << 20

// ParseLine decodes one JSON line into d (reset first). It fails on
// anything but one JSON object, and on a @timestamp that is present but
// not RFC 3339.
func ParseLine(line []byte, d *Doc) error {
	*d = Doc{}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return errors.New("not a JSON object")
	}
	if err := json.Unmarshal(line, d); err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if d.Timestamp == "" {
		return errors.New("no @timestamp")
	}
	t, err := time.Parse(time.RFC3339Nano, d.Timestamp)
	if err != nil {
		return fmt.Errorf("@timestamp %q is not RFC 3339", d.Timestamp)
	}
	d.Time = t
	d.upgrade()
	return nil
}

// upgrade puts what lineaged writes under lineaged.* since the ECS
// renames where the report's code reads it, so lines from before and
// after read alike.
func (d *Doc) upgrade() {
	if d.File != nil && d.File.Operation == "" && d.Event.Action == event.ActionExecuted {
		// An exec line's file is the program run; the operation is
		// left implied since the ECS renames.
		d.File.Operation = "exec"
	}
	l := d.Lineaged
	if l == nil {
		return
	}
	if len(l.Ancestry) > 0 && len(d.Process.Ancestry) == 0 {
		d.Process.Ancestry = l.Ancestry
	}
	if a, p := d.Process.Ancestry, d.Process.Parent; len(a) > 0 && p != nil && a[0].EntityID == p.EntityID {
		// compact and ids: process.parent has the parent whole.
		if a[0].Executable == "" {
			a[0].Executable = p.Executable
		}
		if len(a[0].Args) == 0 {
			a[0].Args = p.Args
		}
		if a[0].User.ID == "" {
			a[0].User.ID = p.User.ID
		}
	}
	if l.ParentUnknown && d.Process.Parent != nil {
		d.Process.Parent.Unknown = true
	}
	if l.File != nil && d.File != nil && d.File.Operation == "" {
		d.File.Operation = l.File.Operation
	}
	if l.Network != nil && l.Network.State != "" && d.Network != nil && d.Network.Direction == "" {
		d.Network.Direction = l.Network.State
	}
}

// Reader reads JSON lines from files, one Doc at a time. Bad lines are
// counted and the first of them kept with file and line, never dropped
// silently; an empty line is skipped and not counted.
type Reader struct {
	// Progress, when set, is called with the bytes read so far (over all
	// files of this Reader) at most every 256 KiB.
	Progress func(read int64)

	BadCount int
	Bad      []Bad // the first 20
	Lines    int

	read, lastTick int64
}

// Each calls fn for every good line of the files in order. It returns the
// first error opening or reading a file (naming it), or fn's error.
func (r *Reader) Each(files []string, fn func(d *Doc) error) error {
	var d Doc
	for _, name := range files {
		if err := r.file(name, &d, fn); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reader) file(name string, d *Doc, fn func(d *Doc) error) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("report: %v", err)
	}
	defer f.Close()
	return r.stream(name, f, d, fn)
}

func (r *Reader) stream(name string, in io.Reader, d *Doc, fn func(d *Doc) error) error {
	br := bufio.NewReaderSize(in, 256<<10)
	n := 0
	for {
		line, err := readLine(br)
		if len(line) > 0 || err == nil {
			n++
			r.read += int64(len(line)) + 1
			if r.Progress != nil && r.read-r.lastTick >= 256<<10 {
				r.lastTick = r.read
				r.Progress(r.read)
			}
			switch {
			case len(line) > MaxLine:
				r.bad(name, n, fmt.Sprintf("line longer than %d bytes (not read)", MaxLine))
			case len(bytes.TrimSpace(line)) == 0:
			default:
				r.Lines++
				if perr := ParseLine(line, d); perr != nil {
					r.bad(name, n, perr.Error())
				} else if ferr := fn(d); ferr != nil {
					return ferr
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("report: reading %s after line %d: %v", name, n, err)
		}
	}
	if r.Progress != nil {
		r.Progress(r.read)
	}
	return nil
}

// readLine returns the next line without its '\n'. A line longer than
// MaxLine is returned truncated to MaxLine+1 bytes (its rest skipped), so
// the caller can count it.
func readLine(br *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long) <= MaxLine {
				long = append(long, frag...)
			}
			continue
		}
		if long != nil {
			if len(long) <= MaxLine {
				long = append(long, frag...)
			}
			frag = long
		}
		return bytes.TrimSuffix(frag, []byte{'\n'}), err
	}
}

func (r *Reader) bad(file string, line int, reason string) {
	r.BadCount++
	if len(r.Bad) < 20 {
		r.Bad = append(r.Bad, Bad{File: file, Line: line, Reason: reason})
	}
}
