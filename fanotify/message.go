package fanotify

import (
	"bytes"
	"encoding/binary"
)

// EventMetadata is struct fanotify_event_metadata, the fixed header of
// every event read from a fanotify file descriptor. All fields are in host
// byte order.
//
//	struct fanotify_event_metadata {
//		__u32 event_len;     // this event, header and info records
//		__u8  vers;          // FANOTIFY_METADATA_VERSION (3)
//		__u8  reserved;
//		__u16 metadata_len;  // this header; info records follow it
//		__aligned_u64 mask;  // FAN_* bits of what happened
//		__s32 fd;            // open file, or FAN_NOFD (-1)
//		__s32 pid;           // tgid of the actor (tid with FAN_REPORT_TID)
//	};
//
// https://elixir.bootlin.com/linux/v6.6/source/include/uapi/linux/fanotify.h#L152
type EventMetadata struct {
	EventLen    uint32
	Version     uint8
	MetadataLen uint16
	Mask        uint64
	FD          int32
	PID         int32
}

// MarshalBinary encodes m as the kernel lays it out (tests and fuzz seeds
// use it to build buffers).
func (m EventMetadata) MarshalBinary() ([]byte, error) {
	b := make([]byte, fanEventMetadataLen)
	binary.NativeEndian.PutUint32(b[0:4], m.EventLen)
	b[4] = m.Version
	binary.NativeEndian.PutUint16(b[6:8], m.MetadataLen)
	binary.NativeEndian.PutUint64(b[8:16], m.Mask)
	binary.NativeEndian.PutUint32(b[16:20], uint32(m.FD))
	binary.NativeEndian.PutUint32(b[20:24], uint32(m.PID))
	return b, nil
}

// UnmarshalBinary decodes the header at the start of b and checks what
// the header alone can prove: the version, and that metadata_len and
// event_len are large enough to be walked past. Whether event_len fits
// the buffer is the Decoder's check, since b may hold only the header.
func (m *EventMetadata) UnmarshalBinary(b []byte) error {
	if len(b) < fanEventMetadataLen {
		return errShortMetadata
	}
	m.EventLen = binary.NativeEndian.Uint32(b[0:4])
	m.Version = b[4]
	m.MetadataLen = binary.NativeEndian.Uint16(b[6:8])
	m.Mask = binary.NativeEndian.Uint64(b[8:16])
	m.FD = int32(binary.NativeEndian.Uint32(b[16:20]))
	m.PID = int32(binary.NativeEndian.Uint32(b[20:24]))
	// A different version means the kernel changed the layout; nothing
	// after the version byte can be trusted, the fd field included.
	if m.Version != fanotifyMetadataVersion {
		return errVersion
	}
	if m.MetadataLen < fanEventMetadataLen {
		return errMetadataLen
	}
	// event_len >= metadata_len >= 24 also guarantees progress: a zero
	// event_len can never keep a decoder on the same offset.
	if m.EventLen < uint32(m.MetadataLen) {
		return errEventLen
	}
	return nil
}

// Decoder walks the events of one read(2) from a fanotify descriptor,
// bounds-checking each before it is handed out:
//
//	d := NewDecoder(buf[:n])
//	for d.Next() {
//		m, info := d.Metadata(), d.Info()
//	}
//	if err := d.Err(); err != nil { ... }
//
// On an error the rest of the buffer is abandoned. Any descriptors in the
// abandoned events cannot be found, so they leak; the kernel never writes
// such a buffer, and a version change is reported rather than guessed at.
type Decoder struct {
	b    []byte
	m    EventMetadata
	info []byte
	err  error
}

// NewDecoder returns a Decoder over b, which it does not copy.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Next advances to the next event and reports whether there is one.
func (d *Decoder) Next() bool {
	if d.err != nil || len(d.b) == 0 {
		return false
	}
	if err := d.m.UnmarshalBinary(d.b); err != nil {
		d.err = err
		return false
	}
	if uint64(d.m.EventLen) > uint64(len(d.b)) {
		d.err = errTruncatedEvent
		return false
	}
	d.info = d.b[d.m.MetadataLen:d.m.EventLen]
	d.b = d.b[d.m.EventLen:]
	return true
}

// Metadata returns the current event's header.
func (d *Decoder) Metadata() EventMetadata { return d.m }

// Info returns the current event's info records (empty unless the group
// reports fids), aliasing the decoder's buffer.
func (d *Decoder) Info() []byte { return d.info }

// Err returns the error that stopped the decoder, if any.
func (d *Decoder) Err() error { return d.err }

// InfoDecoder walks the info records that follow an event's metadata
// (fanotify_event_info_header, then a type-specific body). Types it does
// not know (pidfd 5.15, error 5.16, range and mount 6.14) are skipped by
// their length, so a newer kernel cannot derail it.
//
// https://elixir.bootlin.com/linux/v6.6/source/include/uapi/linux/fanotify.h#L125
type InfoDecoder struct {
	b   []byte
	typ uint8
	rec []byte
	err error
}

// NewInfoDecoder returns an InfoDecoder over an event's info bytes.
func NewInfoDecoder(b []byte) *InfoDecoder { return &InfoDecoder{b: b} }

// Next advances to the next record and reports whether there is one.
func (d *InfoDecoder) Next() bool {
	if d.err != nil || len(d.b) == 0 {
		return false
	}
	if len(d.b) < fanEventInfoHeaderLen {
		d.err = errShortInfo
		return false
	}
	n := int(binary.NativeEndian.Uint16(d.b[2:4]))
	// len counts the header itself, so anything under 4 is corrupt, and a
	// zero would otherwise loop forever on the same record.
	if n < fanEventInfoHeaderLen || n > len(d.b) {
		d.err = errInfoLen
		return false
	}
	d.typ = d.b[0]
	d.rec = d.b[:n]
	d.b = d.b[n:]
	return true
}

// Type returns the current record's info_type (FAN_EVENT_INFO_TYPE_*).
func (d *InfoDecoder) Type() uint8 { return d.typ }

// Record returns the current record, header included.
func (d *InfoDecoder) Record() []byte { return d.rec }

// Err returns the error that stopped the decoder, if any.
func (d *InfoDecoder) Err() error { return d.err }

// FID is a decoded fanotify_event_info_fid record: the filesystem id and
// file handle of the object (FAN_EVENT_INFO_TYPE_FID) or of its parent
// directory (DFID, DFID_NAME), and for DFID_NAME the entry's name.
//
//	struct fanotify_event_info_fid {
//		struct fanotify_event_info_header hdr;
//		__kernel_fsid_t fsid;            // statfs(2) f_fsid
//		unsigned char handle[];          // struct file_handle, then the name
//	};
//	struct file_handle {
//		__u32 handle_bytes;
//		int   handle_type;
//		unsigned char f_handle[];
//	};
//
// https://elixir.bootlin.com/linux/v6.6/source/include/uapi/linux/fanotify.h#L131
type FID struct {
	InfoType   uint8
	FSID       [2]int32
	HandleType int32
	Handle     []byte // aliases the read buffer
	Name       string // DFID_NAME only; "." when the event is on the directory itself
}

// UnmarshalBinary decodes one FID, DFID or DFID_NAME record (header
// included), checking every length against the record.
func (f *FID) UnmarshalBinary(rec []byte) error {
	if len(rec) < fanEventInfoFIDLen+fileHandleHeaderLen {
		return errShortFID
	}
	f.InfoType = rec[0]
	f.FSID[0] = int32(binary.NativeEndian.Uint32(rec[4:8]))
	f.FSID[1] = int32(binary.NativeEndian.Uint32(rec[8:12]))
	h := rec[fanEventInfoFIDLen:]
	hb := binary.NativeEndian.Uint32(h[0:4])
	f.HandleType = int32(binary.NativeEndian.Uint32(h[4:8]))
	// MAX_HANDLE_SZ bounds what open_by_handle_at accepts anyway; the
	// comparison in uint64 keeps a huge handle_bytes from wrapping.
	if hb > maxHandleSize || uint64(fileHandleHeaderLen)+uint64(hb) > uint64(len(h)) {
		return errHandleLen
	}
	f.Handle = h[fileHandleHeaderLen : fileHandleHeaderLen+hb]
	f.Name = ""
	if f.InfoType == fanEventInfoTypeDFIDName {
		rest := h[fileHandleHeaderLen+hb:]
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return errNameNotNUL
		}
		f.Name = string(rest[:i])
	}
	return nil
}
