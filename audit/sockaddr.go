package audit

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// Sockaddr is a decoded SOCKADDR record's saddr= value.
//
// saddr is the raw struct sockaddr the process passed to connect, bind,
// accept, sendto, ..., printed as hex (kernel/auditsc.c, audit_log_n_hex).
// sa_family is in host byte order (little-endian on x86_64 and aarch64,
// which is what this decoder assumes, as go-libaudit does); ports and IPv4/6
// addresses are in network byte order.
type Sockaddr struct {
	Family   string // "unix", "ipv4", "ipv6", "netlink" or the family number
	FamilyNo int
	IP       string
	Port     int
	Flow     uint32 // IPv6 flow info
	Path     string // AF_UNIX path; an abstract socket's leading NUL is shown as "@"
	NlPID    uint32 // AF_NETLINK port id
	NlGroups uint32 // AF_NETLINK multicast groups
}

// Families the decoder knows (include/linux/socket.h).
const (
	afUnix    = 1
	afInet    = 2
	afInet6   = 10
	afNetlink = 16
)

type errShortSockaddr struct {
	family string
	n      int
}

func (e errShortSockaddr) Error() string {
	return "saddr too short for " + e.family + ": " + strconv.Itoa(e.n) + " bytes"
}

type errNotHex struct{}

func (errNotHex) Error() string { return "saddr is not hex" }

// DecodeSockaddr decodes a hex saddr value.
func DecodeSockaddr(hexv []byte) (Sockaddr, error) {
	var sa Sockaddr
	if !IsHex(hexv) {
		return sa, errNotHex{}
	}
	var buf [128]byte
	raw := AppendHexDecoded(buf[:0], hexv)
	if len(raw) < 2 {
		return sa, errShortSockaddr{"any family", len(raw)}
	}
	fam := int(binary.LittleEndian.Uint16(raw))
	sa.FamilyNo = fam
	switch fam {
	case afUnix:
		sa.Family = "unix"
		p := raw[2:]
		if len(p) > 0 && p[0] == 0 {
			// Abstract namespace: the name is all the bytes after the NUL,
			// shown with the conventional "@" (as ss and lsof do).
			sa.Path = "@" + string(trimNul(p[1:]))
		} else {
			sa.Path = string(cutNul(p))
		}
	case afInet:
		sa.Family = "ipv4"
		if len(raw) < 8 {
			return sa, errShortSockaddr{"ipv4", len(raw)}
		}
		sa.Port = int(binary.BigEndian.Uint16(raw[2:4]))
		sa.IP = netip.AddrFrom4([4]byte(raw[4:8])).String()
	case afInet6:
		sa.Family = "ipv6"
		if len(raw) < 24 {
			return sa, errShortSockaddr{"ipv6", len(raw)}
		}
		sa.Port = int(binary.BigEndian.Uint16(raw[2:4]))
		sa.Flow = binary.BigEndian.Uint32(raw[4:8])
		// A v4-mapped address (::ffff:a.b.c.d) is shown as a.b.c.d, as
		// net.IP and go-libaudit do, so one peer has one spelling.
		sa.IP = netip.AddrFrom16([16]byte(raw[8:24])).Unmap().String()
	case afNetlink:
		sa.Family = "netlink"
		if len(raw) >= 12 {
			sa.NlPID = binary.LittleEndian.Uint32(raw[4:8])
			sa.NlGroups = binary.LittleEndian.Uint32(raw[8:12])
		}
	default:
		sa.Family = strconv.Itoa(fam)
	}
	return sa, nil
}

func cutNul(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

func trimNul(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}
