package netlink

import (
	"cmp"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lineaged/lineaged/feature"
)

// A Table is one socket table a snapshot dumps: a family and a protocol.
type Table uint8

// The tables, in dump order.
const (
	TCP4 Table = iota
	TCP6
	UDP4
	UDP6
	Unix
	numTables
)

var tableInfo = [numTables]struct {
	name, family, transport string
	af, proto               uint8
	feature                 feature.Feature
}{
	TCP4: {"tcp4", "ipv4", "tcp", afInet, ipprotoTCP, feature.SockDiagInet},
	TCP6: {"tcp6", "ipv6", "tcp", afInet6, ipprotoTCP, feature.SockDiagInet},
	UDP4: {"udp4", "ipv4", "udp", afInet, ipprotoUDP, feature.SockDiagUDP},
	UDP6: {"udp6", "ipv6", "udp", afInet6, ipprotoUDP, feature.SockDiagUDP},
	Unix: {"unix", "unix", "unix", afUnix, 0, feature.SockDiagUnix},
}

func (t Table) valid() bool { return t < numTables }

// String names the table as ss(8) options do: tcp4, tcp6, udp4, udp6, unix.
func (t Table) String() string {
	if !t.valid() {
		return "table?"
	}
	return tableInfo[t].name
}

// Family is the ECS network.type-like family: ipv4, ipv6 or unix.
func (t Table) Family() string {
	if !t.valid() {
		return ""
	}
	return tableInfo[t].family
}

// Transport is the ECS network.transport: tcp, udp or unix.
func (t Table) Transport() string {
	if !t.valid() {
		return ""
	}
	return tableInfo[t].transport
}

// Feature is the kernel feature that serves the table.
func (t Table) Feature() feature.Feature {
	if !t.valid() {
		return ""
	}
	return tableInfo[t].feature
}

// Tables is a set of tables.
type Tables uint8

// AllTables holds every table.
const AllTables = Tables(1<<numTables - 1)

// Has reports whether t is in ts.
func (ts Tables) Has(t Table) bool { return t.valid() && ts&(1<<t) != 0 }

func (ts Tables) with(t Table) Tables { return ts | 1<<t }

// Role is what a socket is doing, as far as a snapshot can tell.
type Role uint8

const (
	// RoleOther: created but neither listening nor connected, or on its
	// way out (SYN_SENT, FIN_WAIT*, CLOSE_WAIT, ...), or unbound.
	RoleOther Role = iota
	// RoleListening: a TCP or UNIX listener, or a bound, unconnected UDP
	// or UNIX datagram socket (it receives from anyone: ss -l shows it).
	RoleListening
	// RoleConnected: an ESTABLISHED TCP or UNIX connection, or a
	// connect()ed UDP or UNIX datagram socket.
	RoleConnected
)

func (r Role) String() string {
	switch r {
	case RoleListening:
		return "listening"
	case RoleConnected:
		return "connected"
	}
	return "other"
}

// Socket is one socket of a snapshot, normalised over the tables.
type Socket struct {
	Table Table
	// Type is the AF_UNIX socket type (1 SOCK_STREAM, 2 SOCK_DGRAM,
	// 5 SOCK_SEQPACKET); 0 for inet sockets, whose table says it.
	Type  uint8
	State uint8 // TCP state number (StateName spells it)

	// Local and Remote are the inet endpoints, decoded from network
	// byte order. A dual-stack AF_INET6 socket shows IPv4 peers as
	// v4-mapped addresses (::ffff:a.b.c.d), as the kernel reports them.
	Local, Remote netip.AddrPort

	// Path is the AF_UNIX name ("/run/x.sock", "@abstract"), "" unbound.
	Path string
	// PeerPath is the name of the connected peer, when the peer is in
	// the same snapshot and named (a client's view of the server path).
	PeerPath string

	// Inode is the sockfs inode ("socket:[N]"), 0 for sockets no file
	// holds any more (TIME_WAIT, request sockets, closed but lingering).
	Inode uint64
	// Peer is the AF_UNIX peer's inode, 0 when not connected.
	Peer uint64

	UID    uint32 // owner (inet always; UNIX with 5.3+)
	HasUID bool

	// PIDs are the processes holding a file descriptor on the socket, in
	// ascending order; nil when not (yet) known. A listener inherited by
	// workers has several.
	PIDs []int

	// Accepted is set on the server end of a connection: a TCP socket
	// whose local port is a listener's, a UNIX socket carrying a
	// listener's name (accept() gives the new socket the listener's
	// address).
	Accepted bool
}

// PID is the lowest pid holding the socket (the parent of forked
// workers, usually), 0 when unknown.
func (s *Socket) PID() int {
	if len(s.PIDs) == 0 {
		return 0
	}
	return s.PIDs[0]
}

// Role classifies the socket.
func (s *Socket) Role() Role {
	switch {
	case s.State == StateListen:
		return RoleListening
	case s.State == StateEstablished:
		return RoleConnected
	case s.State != StateClose:
		return RoleOther
	case s.Table == UDP4 || s.Table == UDP6:
		if s.Local.Port() != 0 {
			return RoleListening
		}
	case s.Table == Unix:
		if s.Path != "" && s.Type == sockDgram {
			return RoleListening
		}
	}
	return RoleOther
}

// AF_UNIX socket types (linux/net.h numbering).
const (
	sockStream    = 1 // SOCK_STREAM
	sockDgram     = 2 // SOCK_DGRAM
	sockSeqpacket = 5 // SOCK_SEQPACKET
)

// Snapshot is every socket of one network namespace at one time.
type Snapshot struct {
	// NetNS is the namespace's inode (the number in "net:[N]"), the
	// identity lineaged gives a network namespace.
	NetNS uint64
	// Name is the ip-netns(8) name, "" for an unnamed namespace.
	Name string
	Time time.Time
	// Tables says which tables were dumped completely. A table that is
	// not supported by the kernel, or whose dump failed, is absent, and
	// Diff reports nothing for its sockets (never a false close).
	Tables  Tables
	Sockets []Socket // ordered by table, then inode
}

// Namespace is a network namespace found on the host.
type Namespace struct {
	Inode uint64
	// Path is a file that opens it: /var/run/netns/NAME for a named
	// namespace (stable), else /proc/PID/ns/net of one of its processes
	// (valid while that process lives; checked against Inode on open).
	Path string
	Name string // ip-netns name, "" when unnamed
}

// Collector takes snapshots. Its exported fields are set before first
// use; its methods may then be called from several goroutines (each
// snapshot uses its own socket). It starts no goroutine that outlives a
// call: entering a namespace uses a short-lived one, joined before
// return (see netns_linux.go).
type Collector struct {
	ProcRoot string // /proc when empty
	NetnsDir string // /var/run/netns when empty (ip-netns bind mounts)
	// Owners maps socket inodes to processes; nil leaves Socket.PIDs
	// empty.
	Owners *OwnerIndex
	// Timeout bounds each dump; DefaultTimeout when zero.
	Timeout time.Duration

	mu     sync.Mutex
	probed map[feature.Feature]error // definite answers only
	// inconclusive holds the last inconclusive probe error per feature,
	// reported by Capabilities until a probe answers.
	inconclusive map[feature.Feature]error
	legacyTCP    bool // TCP answered only TCPDIAG_GETSOCK (< 3.3)
	stats        CollectorStats

	now func() time.Time // time.Now; tests pin it
}

// CollectorStats are the collector's counters.
type CollectorStats struct {
	Snapshots   uint64 // namespaces snapshotted (fully or partly)
	Failures    uint64 // namespaces that could not be entered or dialed
	DumpErrors  uint64 // table dumps that failed (the table left out)
	Unsupported uint64 // table dumps skipped because the kernel lacks the feature
}

// Stats returns a copy of the counters.
func (c *Collector) Stats() CollectorStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Collector) procRoot() string {
	if c.ProcRoot == "" {
		return "/proc"
	}
	return c.ProcRoot
}

func (c *Collector) netnsDir() string {
	if c.NetnsDir == "" {
		return "/var/run/netns"
	}
	return c.NetnsDir
}

func (c *Collector) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// Capabilities returns one row per entry of Features: the cached probe
// answers, probing (in the calling thread's namespace) those not known
// yet.
func (c *Collector) Capabilities() []feature.Capability {
	c.mu.Lock()
	missing := len(c.probed) < len(Features)
	c.mu.Unlock()
	if missing {
		conn, err := Dial()
		if err == nil {
			c.probe(conn)
			conn.Close()
		} else {
			c.mu.Lock()
			for _, f := range Features {
				if _, ok := c.probed[f]; ok {
					continue
				}
				answer := disabled(f)
				if answer == nil {
					answer = classify(f, err)
				}
				c.record(f, answer)
			}
			c.mu.Unlock()
		}
	}
	return capabilities(c.answers())
}

// answers returns the probe answers known: definite ones, and the last
// inconclusive error of the others.
func (c *Collector) answers() map[feature.Feature]error {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := make(map[feature.Feature]error, len(Features))
	for f, err := range c.inconclusive {
		errs[f] = err
	}
	for f, err := range c.probed {
		errs[f] = err
	}
	return errs
}

// probe asks the kernel, through conn, about every feature without a
// definite answer yet.
func (c *Collector) probe(conn *Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range Features {
		if _, ok := c.probed[f]; ok {
			continue
		}
		legacy, err := probeFeature(conn, f)
		c.record(f, err)
		if f == feature.SockDiagInet && err == nil {
			c.legacyTCP = legacy
		}
	}
}

// record keeps a probe answer: definite ones for good, inconclusive ones
// only to report them until a later probe answers. Called with c.mu held.
func (c *Collector) record(f feature.Feature, err error) {
	if !definite(err) {
		if c.inconclusive == nil {
			c.inconclusive = make(map[feature.Feature]error)
		}
		c.inconclusive[f] = err
		return
	}
	delete(c.inconclusive, f)
	c.cache(f, err)
}

func (c *Collector) cache(f feature.Feature, err error) {
	if c.probed == nil {
		c.probed = make(map[feature.Feature]error, len(Features))
	}
	c.probed[f] = err
}

// unsupported returns the cached "not supported" answer for f, or nil.
func (c *Collector) unsupported(f feature.Feature) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probed[f]
}

// Snapshot dumps every supported table of namespace ns and maps the
// sockets to their processes. It returns the snapshot with what could be
// dumped, and an error joining what could not; a nil snapshot means the
// namespace could not be entered.
func (c *Collector) Snapshot(ns Namespace) (*Snapshot, error) {
	snaps, err := c.snapshots([]Namespace{ns})
	if len(snaps) == 0 {
		return nil, err
	}
	return snaps[0], err
}

// SnapshotAll snapshots every network namespace of the host (Namespaces),
// with one /proc walk at most for all of them. Namespaces that vanish or
// cannot be entered are left out and reported in the joined error.
func (c *Collector) SnapshotAll() ([]*Snapshot, error) {
	nss, err := c.Namespaces()
	if err != nil {
		return nil, err
	}
	return c.snapshots(nss)
}

func (c *Collector) snapshots(nss []Namespace) ([]*Snapshot, error) {
	var errs []error
	snaps := make([]*Snapshot, 0, len(nss))
	for _, ns := range nss {
		conn, err := dialNamespace(ns)
		if err != nil {
			c.count(func(s *CollectorStats) { s.Failures++ })
			errs = append(errs, err)
			continue
		}
		if c.Timeout > 0 {
			conn.SetTimeout(c.Timeout)
		}
		snap, err := c.dumpAll(conn, ns)
		conn.Close()
		if err != nil {
			errs = append(errs, err)
		}
		snaps = append(snaps, snap)
	}
	if c.Owners != nil && len(snaps) > 0 {
		if err := c.Owners.Resolve(snaps...); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range snaps {
		s.annotate()
	}
	return snaps, errors.Join(errs...)
}

func (c *Collector) count(fn func(*CollectorStats)) {
	c.mu.Lock()
	fn(&c.stats)
	c.mu.Unlock()
}

// dumpAll fills a snapshot of ns from conn, one table at a time: a table
// the kernel lacks is skipped, a table whose dump fails is left out of
// Tables, and the others are still taken (one feature degrades at a
// time).
func (c *Collector) dumpAll(conn *Conn, ns Namespace) (*Snapshot, error) {
	conn.netns = ns.Inode
	c.probe(conn)
	snap := &Snapshot{NetNS: ns.Inode, Name: ns.Name, Time: c.clock()}
	c.mu.Lock()
	legacy := c.legacyTCP
	c.mu.Unlock()

	var errs []error
	for t := range numTables {
		f := t.Feature()
		if err := c.unsupported(f); err != nil {
			c.count(func(s *CollectorStats) { s.Unsupported++ })
			continue
		}
		var err error
		switch {
		case legacy && t == TCP4:
			// TCPDIAG_GETSOCK dumps both families at once.
			err = c.dumpCompat(conn, snap)
		case legacy && t == TCP6:
			continue // taken with TCP4
		case t == Unix:
			err = dumpUnix(conn, snap)
		default:
			err = dumpInet(conn, snap, t)
		}
		if err != nil {
			c.count(func(s *CollectorStats) { s.DumpErrors++ })
			errs = append(errs, err)
		}
	}
	c.count(func(s *CollectorStats) { s.Snapshots++ })
	return snap, errors.Join(errs...)
}

func dumpInet(conn *Conn, snap *Snapshot, t Table) error {
	ti := tableInfo[t]
	msgs, err := conn.DumpInet(InetDiagReqV2{Family: ti.af, Protocol: ti.proto, States: AllStates, ID: InetDiagSockID{Cookie: anyCookie}})
	if err != nil {
		return err
	}
	for i := range msgs {
		snap.Sockets = append(snap.Sockets, inetSocket(t, &msgs[i]))
	}
	snap.Tables = snap.Tables.with(t)
	return nil
}

func (c *Collector) dumpCompat(conn *Conn, snap *Snapshot) error {
	msgs, err := conn.dumpInetCompat(InetDiagReq{Family: afInet, States: AllStates, ID: InetDiagSockID{Cookie: anyCookie}})
	if err != nil {
		return err
	}
	for i := range msgs {
		switch msgs[i].Family {
		case afInet:
			snap.Sockets = append(snap.Sockets, inetSocket(TCP4, &msgs[i]))
		case afInet6:
			snap.Sockets = append(snap.Sockets, inetSocket(TCP6, &msgs[i]))
		}
	}
	snap.Tables = snap.Tables.with(TCP4).with(TCP6)
	return nil
}

func dumpUnix(conn *Conn, snap *Snapshot) error {
	msgs, err := conn.DumpUnix(UnixDiagReq{
		Family: afUnix, States: AllStates, Cookie: anyCookie,
		Show: UDiagShowName | UDiagShowPeer | UDiagShowVFS | UDiagShowUID,
	})
	if err != nil {
		return err
	}
	for i := range msgs {
		m := &msgs[i]
		snap.Sockets = append(snap.Sockets, Socket{
			Table: Unix, Type: m.Type, State: m.State, Path: m.Path(),
			Inode: uint64(m.Ino), Peer: uint64(m.Peer), UID: m.UID, HasUID: m.HasUID,
		})
	}
	snap.Tables = snap.Tables.with(Unix)
	return nil
}

func inetSocket(t Table, m *InetDiagMsg) Socket {
	return Socket{
		Table: t, State: m.State, Local: m.Source(), Remote: m.Dest(),
		Inode: uint64(m.Inode), UID: m.UID, HasUID: true,
	}
}

// annotate orders the sockets and fills what needs the whole snapshot:
// PeerPath, and Accepted (the server end of each connection).
func (s *Snapshot) annotate() {
	slices.SortFunc(s.Sockets, func(a, b Socket) int {
		return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(a.Inode, b.Inode),
			a.Local.Compare(b.Local), a.Remote.Compare(b.Remote))
	})
	unixByInode := make(map[uint64]int)
	unixListen := make(map[string]bool)
	tcpListen := make(map[uint16][]netip.Addr)
	for i := range s.Sockets {
		k := &s.Sockets[i]
		switch {
		case k.Table == Unix:
			if k.Inode != 0 {
				unixByInode[k.Inode] = i
			}
			if k.State == StateListen && k.Path != "" {
				unixListen[k.Path] = true
			}
		case (k.Table == TCP4 || k.Table == TCP6) && k.State == StateListen:
			tcpListen[k.Local.Port()] = append(tcpListen[k.Local.Port()], k.Local.Addr().Unmap())
		}
	}
	for i := range s.Sockets {
		k := &s.Sockets[i]
		switch {
		case k.Table == Unix:
			if j, ok := unixByInode[k.Peer]; ok && k.Peer != 0 {
				k.PeerPath = s.Sockets[j].Path
			}
			k.Accepted = k.State == StateEstablished && k.Path != "" && unixListen[k.Path]
		case k.Table == TCP4 || k.Table == TCP6:
			if k.State == StateListen || k.Inode == 0 {
				continue // listeners, and sockets no process holds any more
			}
			local := k.Local.Addr().Unmap()
			for _, a := range tcpListen[k.Local.Port()] {
				if a.IsUnspecified() || a == local {
					k.Accepted = true
					break
				}
			}
		}
	}
}
