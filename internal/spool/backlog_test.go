package spool

import (
	"fmt"
	"testing"

	"github.com/rs/zerolog"
)

// TestBacklogCounts: what is pushed is either spooled or counted dropped
// when it spills into a spool past its bound; the memory queue is empty
// after a spill.
func TestBacklogCounts(t *testing.T) {
	sp, err := Open(t.TempDir(), 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	b := NewBacklog(sp, zerolog.Nop())
	const n = 1000
	for i := 0; i < n; i++ {
		line := []byte(fmt.Sprintf(`{"n":%d,"pad":"0123456789012345678901234567890123456789"}`, i))
		b.Push([][]byte{line}, len(line))
		if i%100 == 99 {
			if err := b.Spill(); err != nil {
				t.Fatal(err)
			}
			if len(b.Mem) != 0 || b.MemBytes != 0 {
				t.Fatalf("after a spill: %d lines, %d bytes in memory", len(b.Mem), b.MemBytes)
			}
		}
	}
	if b.Spooled != n || b.Dropped == 0 || uint64(sp.Lines())+b.Dropped != n {
		t.Errorf("spooled %d, dropped %d, in the spool %d; want %d spooled, the spool's lines and the drops adding to it", b.Spooled, b.Dropped, sp.Lines(), n)
	}
	if b.LastError != "" {
		t.Errorf("last error %q", b.LastError)
	}
}
