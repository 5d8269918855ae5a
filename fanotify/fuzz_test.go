package fanotify

import "testing"

// FuzzDecodeEvents feeds arbitrary read buffers to the event decoder and
// each event's info records to the info and fid decoders. They must
// neither panic nor loop, every event must lie inside the buffer, and
// every handle and name inside its record.
func FuzzDecodeEvents(f *testing.F) {
	fid := fidRecord(fanEventInfoTypeFID, [2]int32{1, 2}, 1, []byte{1, 2, 3, 4, 5, 6, 7, 8}, "")
	dfid := fidRecord(fanEventInfoTypeDFIDName, [2]int32{3, 4}, 0x81, []byte{8, 7, 6, 5, 4, 3, 2, 1}, "shadow")
	f.Add(meta(fanOpen|fanModify, 5, 100, nil))
	f.Add(append(meta(fanCloseWrite, fanNoFD, 7, fid), meta(fanOpenExec, fanNoFD, 8, dfid)...))
	f.Add(meta(fanQOverflow, fanNoFD, 0, nil))
	f.Add(rawMeta(0, 3, 24))
	f.Add(rawMeta(24, 2, 24))
	f.Add(meta(fanOpen, fanNoFD, 1, []byte{1, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		total, n := 0, 0
		for d.Next() {
			m := d.Metadata()
			if m.EventLen < fanEventMetadataLen || int(m.MetadataLen) > int(m.EventLen) {
				t.Fatalf("accepted bad lengths %+v", m)
			}
			total += int(m.EventLen)
			if total > len(b) {
				t.Fatalf("events overrun the buffer: %d > %d", total, len(b))
			}
			if n++; n > len(b)/fanEventMetadataLen {
				t.Fatal("more events than the buffer can hold")
			}
			info := d.Info()
			id := NewInfoDecoder(info)
			k := 0
			for id.Next() {
				rec := id.Record()
				if len(rec) < fanEventInfoHeaderLen || len(rec) > len(info) {
					t.Fatalf("record of %d bytes in %d", len(rec), len(info))
				}
				if k++; k > len(info)/fanEventInfoHeaderLen {
					t.Fatal("more records than the info can hold")
				}
				var f FID
				if f.UnmarshalBinary(rec) == nil {
					if len(f.Handle)+fanEventInfoFIDLen+fileHandleHeaderLen > len(rec) || len(f.Handle) > maxHandleSize {
						t.Fatalf("handle of %d bytes in a record of %d", len(f.Handle), len(rec))
					}
					if len(f.Name) > len(rec) {
						t.Fatalf("name longer than its record")
					}
				}
			}
		}
	})
}
