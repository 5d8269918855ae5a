package netlink

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	mnl "github.com/mdlayher/netlink"
)

// This file mirrors the sock_diag structures of the Linux uapi headers.
// Their layout has not changed since 3.3 (unix_diag, udp_diag and
// SOCK_DIAG_BY_FAMILY arrived together), so the headers are pinned at
// v3.10, the oldest kernel lineaged supports:
//
//	https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/sock_diag.h
//	https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/inet_diag.h
//	https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/unix_diag.h
//
// Byte order: netlink itself is host order (binary.NativeEndian), but
// inet_diag_sockid carries ports and addresses as the socket stores them,
// in NETWORK order (__be16, __be32). Those fields stay byte arrays here and
// are turned into numbers or netip values only through binary.BigEndian or
// netip.AddrFrom4/AddrFrom16, which take bytes in network order.

// Address families and protocols as Linux numbers them. They are spelled
// out rather than taken from x/sys/unix so this file builds, and its
// decoders can be tested, on any platform (AF_INET6 is 30 on Darwin).
const (
	afUnix  = 1  // AF_UNIX
	afInet  = 2  // AF_INET
	afInet6 = 10 // AF_INET6

	ipprotoTCP = 6  // IPPROTO_TCP
	ipprotoUDP = 17 // IPPROTO_UDP
)

// Netlink message types of NETLINK_SOCK_DIAG (protocol 4, called
// NETLINK_INET_DIAG before 3.3).
const (
	// tcpdiagGetsock is TCPDIAG_GETSOCK (inet_diag.h): the request of
	// kernels before 3.3, carrying an inet_diag_req (v1). It asks for TCP
	// over both families at once. Kernels since 3.3 still answer it
	// (inet_diag_rcv_msg_compat), so the fallback runs on any host.
	tcpdiagGetsock mnl.HeaderType = 18
	// sockDiagByFamily is SOCK_DIAG_BY_FAMILY (sock_diag.h, 3.3+): the
	// request for every family, carrying a family-specific request whose
	// first two bytes are struct sock_diag_req {family, protocol}. Replies
	// carry the same type.
	sockDiagByFamily mnl.HeaderType = 20
)

// AllStates asks a dump for sockets in every state: idiag_states and
// udiag_states are bitmaps of 1<<state, with the TCP state numbers of
// include/net/tcp_states.h (UDP and UNIX reuse them).
const AllStates = ^uint32(0)

// TCP states (include/net/tcp_states.h). UDP sockets are ESTABLISHED when
// connect()ed and CLOSE otherwise; UNIX sockets use ESTABLISHED, LISTEN
// and CLOSE (unconnected).
const (
	StateEstablished uint8 = 1
	StateSynSent     uint8 = 2
	StateSynRecv     uint8 = 3
	StateFinWait1    uint8 = 4
	StateFinWait2    uint8 = 5
	StateTimeWait    uint8 = 6
	StateClose       uint8 = 7
	StateCloseWait   uint8 = 8
	StateLastAck     uint8 = 9
	StateListen      uint8 = 10
	StateClosing     uint8 = 11
	StateNewSynRecv  uint8 = 12 // 4.4+: request sockets of a listener
)

var stateNames = [...]string{
	StateEstablished: "ESTABLISHED", StateSynSent: "SYN_SENT", StateSynRecv: "SYN_RECV",
	StateFinWait1: "FIN_WAIT1", StateFinWait2: "FIN_WAIT2", StateTimeWait: "TIME_WAIT",
	StateClose: "CLOSE", StateCloseWait: "CLOSE_WAIT", StateLastAck: "LAST_ACK",
	StateListen: "LISTEN", StateClosing: "CLOSING", StateNewSynRecv: "NEW_SYN_RECV",
}

// StateName spells a socket state as ss(8) does, or its number.
func StateName(s uint8) string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return fmt.Sprintf("STATE_%d", s)
}

// inetDiagNoCookie is INET_DIAG_NOCOOKIE: "any socket" in a request's
// cookie.
const inetDiagNoCookie = ^uint32(0)

// Sizes of the mirrored structures.
const (
	inetDiagSockIDLen = 48 // struct inet_diag_sockid
	inetDiagReqLen    = 60 // struct inet_diag_req (v1, TCPDIAG_GETSOCK)
	inetDiagReqV2Len  = 56 // struct inet_diag_req_v2
	inetDiagMsgLen    = 72 // struct inet_diag_msg
	unixDiagReqLen    = 24 // struct unix_diag_req
	unixDiagMsgLen    = 16 // struct unix_diag_msg
	unixDiagVFSLen    = 8  // struct unix_diag_vfs
)

// InetDiagSockID is struct inet_diag_sockid (inet_diag.h): the identity of
// an inet socket. Ports and addresses are in network byte order and kept
// as bytes; use the accessors to read them.
//
// Mirrors https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/inet_diag.h
type InetDiagSockID struct {
	SPort  [2]byte   // idiag_sport, __be16
	DPort  [2]byte   // idiag_dport, __be16
	Src    [16]byte  // idiag_src, __be32[4]: IPv4 uses the first 4 bytes
	Dst    [16]byte  // idiag_dst, __be32[4]
	If     uint32    // idiag_if, host order: bound interface index, 0 for none
	Cookie [2]uint32 // idiag_cookie, host order: the kernel's socket id
}

// SourcePort returns the local port (network order decoded).
func (id *InetDiagSockID) SourcePort() uint16 { return binary.BigEndian.Uint16(id.SPort[:]) }

// DestPort returns the remote port (network order decoded).
func (id *InetDiagSockID) DestPort() uint16 { return binary.BigEndian.Uint16(id.DPort[:]) }

// Source returns the local address and port for a socket of family
// (AF_INET or AF_INET6 numbers); the zero AddrPort for another family.
func (id *InetDiagSockID) Source(family uint8) netip.AddrPort {
	return addrPort(family, &id.Src, id.SourcePort())
}

// Dest returns the remote address and port, as Source does.
func (id *InetDiagSockID) Dest(family uint8) netip.AddrPort {
	return addrPort(family, &id.Dst, id.DestPort())
}

func addrPort(family uint8, b *[16]byte, port uint16) netip.AddrPort {
	switch family {
	case afInet:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), port)
	case afInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(*b), port)
	}
	return netip.AddrPort{}
}

// MarshalBinary encodes id as the kernel lays it out.
func (id *InetDiagSockID) MarshalBinary() ([]byte, error) {
	b := make([]byte, inetDiagSockIDLen)
	id.put(b)
	return b, nil
}

func (id *InetDiagSockID) put(b []byte) {
	copy(b[0:2], id.SPort[:])
	copy(b[2:4], id.DPort[:])
	copy(b[4:20], id.Src[:])
	copy(b[20:36], id.Dst[:])
	binary.NativeEndian.PutUint32(b[36:], id.If)
	binary.NativeEndian.PutUint32(b[40:], id.Cookie[0])
	binary.NativeEndian.PutUint32(b[44:], id.Cookie[1])
}

// UnmarshalBinary decodes an inet_diag_sockid.
func (id *InetDiagSockID) UnmarshalBinary(b []byte) error {
	if len(b) < inetDiagSockIDLen {
		return errShortInetDiagSockID
	}
	copy(id.SPort[:], b[0:2])
	copy(id.DPort[:], b[2:4])
	copy(id.Src[:], b[4:20])
	copy(id.Dst[:], b[20:36])
	id.If = binary.NativeEndian.Uint32(b[36:])
	id.Cookie[0] = binary.NativeEndian.Uint32(b[40:])
	id.Cookie[1] = binary.NativeEndian.Uint32(b[44:])
	return nil
}

// anyCookie is the cookie a dump request carries: match any socket.
var anyCookie = [2]uint32{inetDiagNoCookie, inetDiagNoCookie}

// InetDiagReqV2 is struct inet_diag_req_v2 (inet_diag.h, 3.3+), sent with
// SOCK_DIAG_BY_FAMILY. Family and Protocol select the table (AF_INET or
// AF_INET6; IPPROTO_TCP or IPPROTO_UDP); States is a bitmap of 1<<state.
//
// Mirrors https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/inet_diag.h
type InetDiagReqV2 struct {
	Family   uint8 // sdiag_family
	Protocol uint8 // sdiag_protocol
	Ext      uint8 // idiag_ext: INET_DIAG_* extensions wanted (lineaged asks for none)
	States   uint32
	ID       InetDiagSockID // matched only by exact (non-dump) requests
}

// MarshalBinary encodes r.
func (r *InetDiagReqV2) MarshalBinary() ([]byte, error) {
	b := make([]byte, inetDiagReqV2Len)
	b[0], b[1], b[2] = r.Family, r.Protocol, r.Ext // b[3] is pad
	binary.NativeEndian.PutUint32(b[4:], r.States)
	r.ID.put(b[8:])
	return b, nil
}

// UnmarshalBinary decodes an inet_diag_req_v2 (tests and fakes read
// requests with it).
func (r *InetDiagReqV2) UnmarshalBinary(b []byte) error {
	if len(b) < inetDiagReqV2Len {
		return errShortInetDiagReqV2
	}
	r.Family, r.Protocol, r.Ext = b[0], b[1], b[2]
	r.States = binary.NativeEndian.Uint32(b[4:])
	return r.ID.UnmarshalBinary(b[8:])
}

// InetDiagReq is struct inet_diag_req, the request of kernels before 3.3,
// sent with TCPDIAG_GETSOCK. The kernel dumps TCP over both families
// whatever Family says (the compat path sets AF_UNSPEC).
//
// Mirrors https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/inet_diag.h
type InetDiagReq struct {
	Family uint8 // idiag_family
	SrcLen uint8 // idiag_src_len: prefix lengths, used by exact requests only
	DstLen uint8 // idiag_dst_len
	Ext    uint8 // idiag_ext
	ID     InetDiagSockID
	States uint32 // idiag_states
	DBs    uint32 // idiag_dbs: "tables to dump", never implemented by the kernel
}

// MarshalBinary encodes r.
func (r *InetDiagReq) MarshalBinary() ([]byte, error) {
	b := make([]byte, inetDiagReqLen)
	b[0], b[1], b[2], b[3] = r.Family, r.SrcLen, r.DstLen, r.Ext
	r.ID.put(b[4:])
	binary.NativeEndian.PutUint32(b[52:], r.States)
	binary.NativeEndian.PutUint32(b[56:], r.DBs)
	return b, nil
}

// UnmarshalBinary decodes an inet_diag_req.
func (r *InetDiagReq) UnmarshalBinary(b []byte) error {
	if len(b) < inetDiagReqLen {
		return errShortInetDiagReq
	}
	r.Family, r.SrcLen, r.DstLen, r.Ext = b[0], b[1], b[2], b[3]
	if err := r.ID.UnmarshalBinary(b[4:]); err != nil {
		return err
	}
	r.States = binary.NativeEndian.Uint32(b[52:])
	r.DBs = binary.NativeEndian.Uint32(b[56:])
	return nil
}

// InetDiagMsg is struct inet_diag_msg (inet_diag.h): one TCP or UDP socket
// of a dump reply. Attributes may follow it (INET_DIAG_SHUTDOWN since
// 3.8, more in later kernels, and whatever idiag_ext asked for); lineaged
// asks for none and ignores those the kernel adds on its own.
//
// Mirrors https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/inet_diag.h
type InetDiagMsg struct {
	Family  uint8 // idiag_family: AF_INET or AF_INET6
	State   uint8 // idiag_state: a TCP state number
	Timer   uint8 // idiag_timer: pending TCP timer (0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe)
	Retrans uint8 // idiag_retrans
	ID      InetDiagSockID
	Expires uint32 // idiag_expires, ms until the timer fires
	RQueue  uint32 // idiag_rqueue: bytes queued to read (listeners: accept backlog)
	WQueue  uint32 // idiag_wqueue: bytes queued to send (listeners: backlog limit)
	UID     uint32 // idiag_uid: the socket's owner, mapped into the dumper's user namespace
	// Inode is idiag_inode: the sockfs inode ("socket:[N]" in
	// /proc/PID/fd), 0 once no file holds the socket (TIME_WAIT and
	// request sockets, and sockets closed but still lingering).
	Inode uint32
}

// Source returns the local address and port.
func (m *InetDiagMsg) Source() netip.AddrPort { return m.ID.Source(m.Family) }

// Dest returns the remote address and port (zero address and port for
// listeners and unconnected UDP sockets).
func (m *InetDiagMsg) Dest() netip.AddrPort { return m.ID.Dest(m.Family) }

// MarshalBinary encodes m (tests and fakes build replies with it).
func (m *InetDiagMsg) MarshalBinary() ([]byte, error) {
	b := make([]byte, inetDiagMsgLen)
	b[0], b[1], b[2], b[3] = m.Family, m.State, m.Timer, m.Retrans
	m.ID.put(b[4:])
	binary.NativeEndian.PutUint32(b[52:], m.Expires)
	binary.NativeEndian.PutUint32(b[56:], m.RQueue)
	binary.NativeEndian.PutUint32(b[60:], m.WQueue)
	binary.NativeEndian.PutUint32(b[64:], m.UID)
	binary.NativeEndian.PutUint32(b[68:], m.Inode)
	return b, nil
}

// UnmarshalBinary decodes an inet_diag_msg; bytes past it (attributes)
// are ignored.
func (m *InetDiagMsg) UnmarshalBinary(b []byte) error {
	if len(b) < inetDiagMsgLen {
		return errShortInetDiagMsg
	}
	m.Family, m.State, m.Timer, m.Retrans = b[0], b[1], b[2], b[3]
	if err := m.ID.UnmarshalBinary(b[4:]); err != nil {
		return err
	}
	m.Expires = binary.NativeEndian.Uint32(b[52:])
	m.RQueue = binary.NativeEndian.Uint32(b[56:])
	m.WQueue = binary.NativeEndian.Uint32(b[60:])
	m.UID = binary.NativeEndian.Uint32(b[64:])
	m.Inode = binary.NativeEndian.Uint32(b[68:])
	return nil
}

// Flags of unix_diag_req.udiag_show: which attributes the kernel appends.
// A kernel ignores flags it does not know, so asking for more is safe.
const (
	UDiagShowName = 0x01 // UNIX_DIAG_NAME: the bound name (3.3)
	UDiagShowVFS  = 0x02 // UNIX_DIAG_VFS: inode and device of the socket file (3.3)
	UDiagShowPeer = 0x04 // UNIX_DIAG_PEER: inode of the connected peer (3.3)
	UDiagShowUID  = 0x40 // UNIX_DIAG_UID: the socket's owner (5.3)
)

// Attribute types following a unix_diag_msg (enum in unix_diag.h; NAME is
// 0, which the netlink convention otherwise reserves).
const (
	unixDiagName = 0 // UNIX_DIAG_NAME: sun_path bytes, no sockaddr family
	unixDiagVFS  = 1 // UNIX_DIAG_VFS: struct unix_diag_vfs
	unixDiagPeer = 2 // UNIX_DIAG_PEER: __u32 peer inode
	unixDiagUID  = 7 // UNIX_DIAG_UID: __u32 uid (5.3+)
)

// UnixDiagReq is struct unix_diag_req (unix_diag.h, 3.3+), sent with
// SOCK_DIAG_BY_FAMILY and family AF_UNIX.
//
// Mirrors https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/unix_diag.h
type UnixDiagReq struct {
	Family   uint8  // sdiag_family: AF_UNIX
	Protocol uint8  // sdiag_protocol: 0 (unused by unix_diag)
	States   uint32 // udiag_states: bitmap of 1<<state
	Ino      uint32 // udiag_ino: exact requests only
	Show     uint32 // udiag_show: UDiagShow* flags
	Cookie   [2]uint32
}

// MarshalBinary encodes r.
func (r *UnixDiagReq) MarshalBinary() ([]byte, error) {
	b := make([]byte, unixDiagReqLen)
	b[0], b[1] = r.Family, r.Protocol // b[2:4] is pad
	binary.NativeEndian.PutUint32(b[4:], r.States)
	binary.NativeEndian.PutUint32(b[8:], r.Ino)
	binary.NativeEndian.PutUint32(b[12:], r.Show)
	binary.NativeEndian.PutUint32(b[16:], r.Cookie[0])
	binary.NativeEndian.PutUint32(b[20:], r.Cookie[1])
	return b, nil
}

// UnmarshalBinary decodes a unix_diag_req.
func (r *UnixDiagReq) UnmarshalBinary(b []byte) error {
	if len(b) < unixDiagReqLen {
		return errShortUnixDiagReq
	}
	r.Family, r.Protocol = b[0], b[1]
	r.States = binary.NativeEndian.Uint32(b[4:])
	r.Ino = binary.NativeEndian.Uint32(b[8:])
	r.Show = binary.NativeEndian.Uint32(b[12:])
	r.Cookie[0] = binary.NativeEndian.Uint32(b[16:])
	r.Cookie[1] = binary.NativeEndian.Uint32(b[20:])
	return nil
}

// UnixDiagVFS is struct unix_diag_vfs: the file a path socket is bound to.
//
// Mirrors https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/unix_diag.h
type UnixDiagVFS struct {
	Ino uint32 // udiag_vfs_ino
	Dev uint32 // udiag_vfs_dev, the kernel's internal dev_t encoding
}

// UnixDiagMsg is struct unix_diag_msg (unix_diag.h) with the attributes
// lineaged asks for, decoded.
//
// Mirrors https://github.com/torvalds/linux/blob/v3.10/include/uapi/linux/unix_diag.h
type UnixDiagMsg struct {
	Family uint8     // udiag_family: AF_UNIX
	Type   uint8     // udiag_type: SOCK_STREAM (1), SOCK_DGRAM (2), SOCK_SEQPACKET (5)
	State  uint8     // udiag_state: ESTABLISHED, LISTEN or CLOSE
	Ino    uint32    // udiag_ino: the sockfs inode, as in /proc/PID/fd
	Cookie [2]uint32 // udiag_cookie

	// Name is UNIX_DIAG_NAME: sun_path as bound, nil for an unbound
	// socket. An abstract name starts with a NUL byte; a path name may
	// end with the NUL the binder counted. Path() spells it for people.
	Name []byte
	// Peer is UNIX_DIAG_PEER: the inode of the connected peer, 0 when
	// none (listeners, unconnected sockets, or the attribute absent).
	Peer uint32
	// VFS is UNIX_DIAG_VFS, valid when HasVFS: only path sockets have it.
	VFS    UnixDiagVFS
	HasVFS bool
	// UID is UNIX_DIAG_UID, valid when HasUID (5.3+; older kernels
	// ignore UDIAG_SHOW_UID and send nothing).
	UID    uint32
	HasUID bool
}

// Path spells Name as ss(8) and lineaged's events do: "/run/x.sock" for a
// path socket (trailing NULs dropped), "@name" for an abstract one, ""
// when unbound.
func (m *UnixDiagMsg) Path() string { return unixPath(m.Name) }

func unixPath(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if b[0] == 0 {
		// Abstract namespace: every byte after the NUL is significant,
		// NULs included; the leading one is shown as '@'.
		return "@" + string(b[1:])
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// MarshalBinary encodes m and its attributes (tests and fakes build
// replies with it).
func (m *UnixDiagMsg) MarshalBinary() ([]byte, error) {
	b := make([]byte, unixDiagMsgLen)
	b[0], b[1], b[2] = m.Family, m.Type, m.State
	binary.NativeEndian.PutUint32(b[4:], m.Ino)
	binary.NativeEndian.PutUint32(b[8:], m.Cookie[0])
	binary.NativeEndian.PutUint32(b[12:], m.Cookie[1])
	ae := mnl.NewAttributeEncoder()
	if m.Name != nil {
		ae.Bytes(unixDiagName, m.Name)
	}
	if m.HasVFS {
		ae.Do(unixDiagVFS, func() ([]byte, error) {
			v := make([]byte, unixDiagVFSLen)
			binary.NativeEndian.PutUint32(v[0:], m.VFS.Ino)
			binary.NativeEndian.PutUint32(v[4:], m.VFS.Dev)
			return v, nil
		})
	}
	if m.Peer != 0 {
		ae.Uint32(unixDiagPeer, m.Peer)
	}
	if m.HasUID {
		ae.Uint32(unixDiagUID, m.UID)
	}
	attrs, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	return append(b, attrs...), nil
}

// UnmarshalBinary decodes a unix_diag_msg and its attributes. Attributes
// lineaged did not ask for (RQLEN, MEMINFO, SHUTDOWN, ICONS) are skipped;
// one of a known type with the wrong length is an error.
func (m *UnixDiagMsg) UnmarshalBinary(b []byte) error {
	if len(b) < unixDiagMsgLen {
		return errShortUnixDiagMsg
	}
	*m = UnixDiagMsg{
		Family: b[0], Type: b[1], State: b[2],
		Ino:    binary.NativeEndian.Uint32(b[4:]),
		Cookie: [2]uint32{binary.NativeEndian.Uint32(b[8:]), binary.NativeEndian.Uint32(b[12:])},
	}
	// unix_diag_msg is 16 bytes, already NLMSG_ALIGNed: attributes start
	// right after it.
	ad, err := mnl.NewAttributeDecoder(b[unixDiagMsgLen:])
	if err != nil {
		return fmt.Errorf("unix_diag_msg attributes: %w", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case unixDiagName:
			m.Name = ad.Bytes() // a copy: the decoder owns no caller memory
			if m.Name == nil {
				m.Name = []byte{} // bound with an empty name (autobind in progress)
			}
		case unixDiagVFS:
			ad.Do(func(v []byte) error {
				if len(v) < unixDiagVFSLen {
					return errShortUnixDiagVFS
				}
				m.VFS = UnixDiagVFS{Ino: binary.NativeEndian.Uint32(v[0:]), Dev: binary.NativeEndian.Uint32(v[4:])}
				m.HasVFS = true
				return nil
			})
		case unixDiagPeer:
			m.Peer = ad.Uint32() // the decoder's sticky error catches a wrong length
		case unixDiagUID:
			m.UID, m.HasUID = ad.Uint32(), true
		}
	}
	if err := ad.Err(); err != nil {
		return fmt.Errorf("unix_diag_msg attributes: %w", err)
	}
	return nil
}
