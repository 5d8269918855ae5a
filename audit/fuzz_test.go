package audit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/event"
)

var fuzzSeeds = []string{
	`type=SYSCALL msg=audit(1795748077.758:293920): arch=c000003e syscall=59 success=yes exit=0 a0=559b5673a540 items=2 ppid=17015 pid=17040 auid=4294967295 uid=0 tty=(none) ses=4294967295 comm="bash" exe="/usr/bin/bash" key="exec"` + "\x1dARCH=x86_64 SYSCALL=execve AUID=\"unset\"",
	`node=web1 type=EXECVE msg=audit(1.002:3): argc=3 a0="bash" a1_len=4 a1[0]=4142 a1[1]="CD" a2=2F746D70`,
	`type=PROCTITLE msg=audit(1.002:3): proctitle=62617368002F6F70742F`,
	`type=SOCKADDR msg=audit(1.002:3): saddr=0A001F90000000000000000000000000000000000000000100000000`,
	`type=USER_ACCT msg=audit(1.002:3): pid=1 uid=0 msg='PAM: accounting acct="joe smith" : exe="/usr/sbin/crond" (hostname=x, addr=?, terminal=cron res=success)'`,
	`type=AVC msg=audit(1.002:3): avc:  denied  { read write } for  pid=13010 comm="pickup"`,
	`type=LOGIN msg=audit(1.002:3): pid=1 uid=0 old auid=4294967295 new auid=1000 old ses=4294967295 new ses=2`,
	`type=UNKNOWN[1334] msg=audit(1.002:3): x='unterminated`,
	`type=SERVICE_START msg=audit(1.002:3): msg='unit=x res=success`,
}

// FuzzParse: any input is either refused with an error or parsed into
// fields that lie inside the line, deterministically.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		if err := r.Parse(line); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		if len(r.TypeName) == 0 {
			t.Fatal("parsed without a type name")
		}
		for _, fl := range append(append([]Field(nil), r.Fields...), r.Interp...) {
			for _, b := range [][]byte{fl.Key, fl.Value} {
				if len(b) > 0 && !bytes.Contains(line, b) && !bytes.Contains(r.scratch, b) && string(b) != "seresult" && string(b) != "seperms" {
					t.Fatalf("field bytes %q come from neither the line nor the scratch buffer", b)
				}
			}
			_ = fl.String()
			_ = Argv(fl)
		}
		c := r.Clone()
		if len(c.Fields) != len(r.Fields) || c.Serial != r.Serial || c.Type != r.Type {
			t.Fatalf("re-parse differs: %d/%d fields", len(c.Fields), len(r.Fields))
		}
		for i := range c.Fields {
			if !bytes.Equal(c.Fields[i].Key, r.Fields[i].Key) || !bytes.Equal(c.Fields[i].Value, r.Fields[i].Value) {
				t.Fatalf("field %d differs after re-parse", i)
			}
		}
	})
}

// FuzzDecodeSockaddr: arbitrary saddr hex never panics; a decoded inet
// address has a port in range.
func FuzzDecodeSockaddr(f *testing.F) {
	for _, s := range []string{"02000050A9FEA9FE0000000000000000", "0100", "01002F72756E00", "0A00", "10000000", "0A001F90000000000000000000000000000000000000000100000000", "FFFF"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, hexv []byte) {
		sa, err := DecodeSockaddr(hexv)
		if err != nil {
			return
		}
		if sa.Port < 0 || sa.Port > 65535 || sa.Family == "" {
			t.Fatalf("bad decode %+v", sa)
		}
	})
}

// FuzzNormalize: any sequence of lines goes through reassembly and
// normalisation without a panic, and every event has a category and action.
func FuzzNormalize(f *testing.F) {
	f.Add(strings.Join(fuzzSeeds, "\n"))
	f.Add("type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=42 success=yes\ntype=SOCKADDR msg=audit(1.0:1): saddr=01\ntype=EXECVE msg=audit(1.0:1): argc=99999999 a99999=x a5[3]=41")
	f.Fuzz(func(t *testing.T, text string) {
		n := NewNormalizer("h")
		ra := NewReassembler(8, 1000, func(g *Group) {
			var e event.Event
			n.Normalize(g, &e)
			if e.Action == "" || e.Category == "" {
				t.Fatalf("event without action/category from %d records", len(g.Records))
			}
		})
		for _, l := range strings.Split(text, "\n") {
			r := ra.Record()
			if err := r.Parse([]byte(l)); err != nil {
				ra.Release(r)
				continue
			}
			ra.Push(r, r.TimeMsec())
		}
		ra.Flush()
	})
}
