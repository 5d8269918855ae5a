package fanotify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// meta builds one event: a valid header (event_len covering info) then info.
func meta(mask uint64, fd, pid int32, info []byte) []byte {
	b, _ := EventMetadata{
		EventLen: uint32(fanEventMetadataLen + len(info)), Version: fanotifyMetadataVersion,
		MetadataLen: fanEventMetadataLen, Mask: mask, FD: fd, PID: pid,
	}.MarshalBinary()
	return append(b, info...)
}

// rawMeta builds a header with every field chosen by the test.
func rawMeta(eventLen uint32, vers uint8, metaLen uint16) []byte {
	b, _ := EventMetadata{EventLen: eventLen, Version: vers, MetadataLen: metaLen, Mask: fanOpen, FD: -1, PID: 1}.MarshalBinary()
	return b
}

// fidRecord builds a fanotify_event_info_fid record, padded to 4 bytes as
// the kernel pads it.
func fidRecord(typ uint8, fsid [2]int32, htype int32, handle []byte, name string) []byte {
	var b []byte
	b = append(b, typ, 0, 0, 0)
	b = binary.NativeEndian.AppendUint32(b, uint32(fsid[0]))
	b = binary.NativeEndian.AppendUint32(b, uint32(fsid[1]))
	b = binary.NativeEndian.AppendUint32(b, uint32(len(handle)))
	b = binary.NativeEndian.AppendUint32(b, uint32(htype))
	b = append(b, handle...)
	if typ == fanEventInfoTypeDFIDName {
		b = append(b, name...)
		b = append(b, 0)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	binary.NativeEndian.PutUint16(b[2:4], uint16(len(b)))
	return b
}

func TestEventMetadataRoundTrip(t *testing.T) {
	want := EventMetadata{EventLen: 24, Version: 3, MetadataLen: 24, Mask: fanOpen | fanCloseWrite, FD: 7, PID: 4242}
	b, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got EventMetadata
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// Negative fd (FAN_NOFD) survives the int32 round trip.
	want.FD = fanNoFD
	b, _ = want.MarshalBinary()
	if err := got.UnmarshalBinary(b); err != nil || got.FD != fanNoFD {
		t.Errorf("FAN_NOFD: got %d, %v", got.FD, err)
	}
}

func TestDecoder(t *testing.T) {
	three := append(append(meta(fanOpen, 5, 100, nil), meta(fanModify, 6, 101, nil)...), meta(fanCloseWrite, -1, 102, []byte{1, 2, 3, 4})...)
	cases := []struct {
		name string
		buf  []byte
		pids []int32
		err  error
	}{
		{"empty", nil, nil, nil},
		{"one", meta(fanOpen, 3, 9, nil), []int32{9}, nil},
		{"three with info", three, []int32{100, 101, 102}, nil},
		{"short header", meta(fanOpen, 3, 9, nil)[:23], nil, errShortMetadata},
		{"trailing bytes after an event", append(meta(fanOpen, 3, 9, nil), 1, 2, 3), []int32{9}, errShortMetadata},
		{"wrong version", rawMeta(24, 2, 24), nil, errVersion},
		{"future version", rawMeta(24, 4, 24), nil, errVersion},
		{"metadata_len below the header", rawMeta(24, 3, 16), nil, errMetadataLen},
		{"zero metadata_len", rawMeta(24, 3, 0), nil, errMetadataLen},
		{"event_len below metadata_len", rawMeta(20, 3, 24), nil, errEventLen},
		{"zero event_len", rawMeta(0, 3, 24), nil, errEventLen},
		{"event_len past the buffer", rawMeta(48, 3, 24), nil, errTruncatedEvent},
		{"huge event_len", rawMeta(^uint32(0), 3, 24), nil, errTruncatedEvent},
		{"second event truncated", append(meta(fanOpen, 3, 9, nil), rawMeta(4096, 3, 24)...), []int32{9}, errTruncatedEvent},
		{"longer metadata_len (future kernel)", append(rawMeta(32, 3, 32), make([]byte, 8)...), []int32{1}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(c.buf)
			var pids []int32
			for i := 0; d.Next(); i++ {
				if i > len(c.buf) {
					t.Fatal("decoder does not advance")
				}
				pids = append(pids, d.Metadata().PID)
			}
			if !reflect.DeepEqual(pids, c.pids) {
				t.Errorf("pids %v, want %v", pids, c.pids)
			}
			if !errors.Is(d.Err(), c.err) {
				t.Errorf("err %v, want %v", d.Err(), c.err)
			}
			if d.Next() {
				t.Error("Next true after the end")
			}
		})
	}
}

func TestDecoderInfo(t *testing.T) {
	rec := fidRecord(fanEventInfoTypeFID, [2]int32{1, 2}, 1, []byte{9, 9, 9, 9, 9, 9, 9, 9}, "")
	d := NewDecoder(meta(fanOpen, fanNoFD, 7, rec))
	if !d.Next() {
		t.Fatal(d.Err())
	}
	if !bytes.Equal(d.Info(), rec) {
		t.Errorf("info %x, want %x", d.Info(), rec)
	}
}

func TestFID(t *testing.T) {
	handle := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	cases := []struct {
		name string
		rec  []byte
		want FID
		err  error
	}{
		{"fid", fidRecord(fanEventInfoTypeFID, [2]int32{-5, 77}, 0x81, handle, ""),
			FID{InfoType: fanEventInfoTypeFID, FSID: [2]int32{-5, 77}, HandleType: 0x81, Handle: handle}, nil},
		{"dfid_name", fidRecord(fanEventInfoTypeDFIDName, [2]int32{1, 2}, 1, handle, "passwd"),
			FID{InfoType: fanEventInfoTypeDFIDName, FSID: [2]int32{1, 2}, HandleType: 1, Handle: handle, Name: "passwd"}, nil},
		{"dfid_name on the directory itself", fidRecord(fanEventInfoTypeDFIDName, [2]int32{1, 2}, 1, handle, "."),
			FID{InfoType: fanEventInfoTypeDFIDName, FSID: [2]int32{1, 2}, HandleType: 1, Handle: handle, Name: "."}, nil},
		{"empty handle", fidRecord(fanEventInfoTypeFID, [2]int32{}, 1, nil, ""),
			FID{InfoType: fanEventInfoTypeFID, HandleType: 1, Handle: []byte{}}, nil},
		{"short", fidRecord(fanEventInfoTypeFID, [2]int32{}, 1, nil, "")[:19], FID{}, errShortFID},
		{"handle_bytes past the record", func() []byte {
			r := fidRecord(fanEventInfoTypeFID, [2]int32{}, 1, handle, "")
			binary.NativeEndian.PutUint32(r[12:16], 13)
			return r
		}(), FID{}, errHandleLen},
		{"handle_bytes wraps", func() []byte {
			r := fidRecord(fanEventInfoTypeFID, [2]int32{}, 1, handle, "")
			binary.NativeEndian.PutUint32(r[12:16], ^uint32(0)-4)
			return r
		}(), FID{}, errHandleLen},
		{"handle over MAX_HANDLE_SZ", fidRecord(fanEventInfoTypeFID, [2]int32{}, 1, make([]byte, 132), ""), FID{}, errHandleLen},
		{"name without NUL", func() []byte {
			r := fidRecord(fanEventInfoTypeFID, [2]int32{}, 1, handle, "")
			r[0] = fanEventInfoTypeDFIDName
			return append(r, 'a', 'b')
		}(), FID{}, errNameNotNUL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got FID
			err := got.UnmarshalBinary(c.rec)
			if !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if err == nil && !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestInfoDecoder(t *testing.T) {
	fid := fidRecord(fanEventInfoTypeFID, [2]int32{1, 2}, 1, []byte{1, 2, 3, 4, 5, 6, 7, 8}, "")
	pidfd := []byte{4, 0, 8, 0, 0, 0, 0, 0} // FAN_EVENT_INFO_TYPE_PIDFD (5.15): skipped by length
	cases := []struct {
		name  string
		buf   []byte
		types []uint8
		err   error
	}{
		{"none", nil, nil, nil},
		{"fid", fid, []uint8{1}, nil},
		{"unknown type then fid", append(append([]byte{}, pidfd...), fid...), []uint8{4, 1}, nil},
		{"zero length", []byte{1, 0, 0, 0, 9, 9, 9, 9}, nil, errInfoLen},
		{"length below header", []byte{1, 0, 3, 0}, nil, errInfoLen},
		{"length past the event", []byte{1, 0, 64, 0, 0, 0, 0, 0}, nil, errInfoLen},
		{"short header", []byte{1, 0}, nil, errShortInfo},
		{"record then garbage", append(append([]byte{}, fid...), 2), []uint8{1}, errShortInfo},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewInfoDecoder(c.buf)
			var types []uint8
			for d.Next() {
				types = append(types, d.Type())
				if len(types) > len(c.buf) {
					t.Fatal("info decoder does not advance")
				}
			}
			if !reflect.DeepEqual(types, c.types) {
				t.Errorf("types %v, want %v", types, c.types)
			}
			if !errors.Is(d.Err(), c.err) {
				t.Errorf("err %v, want %v", d.Err(), c.err)
			}
		})
	}
}
