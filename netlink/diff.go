package netlink

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lineaged/lineaged/event"
)

// ChangeKind says what happened to a socket between two snapshots.
type ChangeKind uint8

const (
	// Opened: the socket is in the new snapshot only.
	Opened ChangeKind = iota + 1
	// Updated: the socket is in both and became listening or connected
	// (bind+listen, or connect, after it was first seen).
	Updated
	// Closed: the socket is in the old snapshot only.
	Closed
)

func (k ChangeKind) String() string {
	switch k {
	case Opened:
		return "opened"
	case Updated:
		return "updated"
	case Closed:
		return "closed"
	}
	return "change?"
}

// Change is one socket opened, updated or closed between two snapshots.
type Change struct {
	Kind      ChangeKind
	Time      time.Time // the snapshot that showed it (the old one for a vanished namespace)
	NetNS     uint64
	NetNSName string
	// Socket is as last seen: in the new snapshot for Opened and Updated,
	// in the old one for Closed.
	Socket Socket
	// PrevState is the state in the old snapshot, for Updated.
	PrevState uint8
	// Edge is the IPC edge the socket is one end of, when the other end
	// and both owners are known (see Snapshot.Edges).
	Edge *IPCEdge
}

type sockKey struct {
	netns uint64
	table Table
	inode uint64
}

// Diff compares two snapshots of one namespace and returns the sockets
// opened, updated and closed between them: opened and updated first, in
// the new snapshot's order, then closed, in the old one's.
//
// Sockets are identified by inode. Those without one (TIME_WAIT, request
// sockets, sockets closed but lingering) are left out: no process holds
// them, and their owner's close was already reported when the inode went
// away. Only tables dumped in both snapshots are compared, so a dump
// that failed once never reads as every socket closed and reopened.
//
// prev nil reports every socket of cur as opened (a first snapshot);
// cur nil reports every socket of prev as closed (the namespace is gone).
// Snapshots of different namespaces share no socket: all of prev closes,
// all of cur opens.
func Diff(prev, cur *Snapshot) []Change {
	var tables Tables
	switch {
	case prev == nil && cur == nil:
		return nil
	case prev == nil:
		tables = cur.Tables
	case cur == nil:
		tables = prev.Tables
	default:
		tables = prev.Tables & cur.Tables
	}
	key := func(s *Snapshot, k *Socket) (sockKey, bool) {
		if k.Inode == 0 || !tables.Has(k.Table) {
			return sockKey{}, false
		}
		return sockKey{s.NetNS, k.Table, k.Inode}, true
	}

	var changes []Change
	before := make(map[sockKey]*Socket)
	if prev != nil {
		for i := range prev.Sockets {
			if k, ok := key(prev, &prev.Sockets[i]); ok {
				before[k] = &prev.Sockets[i]
			}
		}
	}
	if cur != nil {
		edges := edgesByInode(cur.Edges())
		seen := make(map[sockKey]bool, len(cur.Sockets))
		for i := range cur.Sockets {
			s := &cur.Sockets[i]
			k, ok := key(cur, s)
			if !ok {
				continue
			}
			seen[k] = true
			c := Change{Time: cur.Time, NetNS: cur.NetNS, NetNSName: cur.Name, Socket: *s, Edge: edges[s.Inode]}
			if old, ok := before[k]; !ok {
				c.Kind = Opened
			} else if r := s.Role(); r != old.Role() && r != RoleOther {
				c.Kind, c.PrevState = Updated, old.State
			} else {
				continue
			}
			changes = append(changes, c)
		}
		for k := range seen {
			delete(before, k)
		}
	}
	if prev != nil && len(before) > 0 {
		edges := edgesByInode(prev.Edges())
		when, name := prev.Time, prev.Name
		if cur != nil {
			when = cur.Time
		}
		for i := range prev.Sockets {
			s := &prev.Sockets[i]
			if k, ok := key(prev, s); ok && before[k] != nil {
				changes = append(changes, Change{Kind: Closed, Time: when, NetNS: prev.NetNS, NetNSName: name, Socket: *s, Edge: edges[s.Inode]})
			}
		}
	}
	return changes
}

// IPCEdge is a connection between two processes of the host, both ends of
// which are in one snapshot with their owners known: a UNIX connection
// (the ends name each other as peers) or a TCP connection inside one
// namespace (each end's local address is the other's remote one). Inside
// a namespace such a TCP connection is always routed over its loopback
// device, whatever the addresses.
type IPCEdge struct {
	NetNS     uint64
	Transport string // "tcp" or "unix"
	// Client is the connecting end and Server the accepting one when the
	// snapshot tells them apart (Socket.Accepted); otherwise (a
	// socketpair, a simultaneous open) Client is the lower inode.
	Client, Server EdgeEnd
}

// EdgeEnd is one end of an IPCEdge.
type EdgeEnd struct {
	PID   int    // lowest pid holding the socket
	Inode uint64 // the socket's inode
}

// Edges returns the snapshot's IPC edges, each once. Connections whose
// ends are held by one process only are left out (a process talking to
// itself is no edge of the graph).
func (s *Snapshot) Edges() []IPCEdge {
	type tuple struct{ local, remote netip.AddrPort }
	tcp := make(map[tuple]int)
	unixIno := make(map[uint64]int)
	for i := range s.Sockets {
		k := &s.Sockets[i]
		if k.Inode == 0 || k.State != StateEstablished {
			continue
		}
		switch k.Table {
		case TCP4, TCP6:
			tcp[tuple{unmap(k.Local), unmap(k.Remote)}] = i
		case Unix:
			unixIno[k.Inode] = i
		}
	}
	var out []IPCEdge
	for i := range s.Sockets {
		k := &s.Sockets[i]
		if k.Inode == 0 || k.State != StateEstablished {
			continue
		}
		j, ok := -1, false
		switch k.Table {
		case TCP4, TCP6:
			j, ok = tcp[tuple{unmap(k.Remote), unmap(k.Local)}]
		case Unix:
			j, ok = unixIno[k.Peer]
			ok = ok && k.Peer != 0 && s.Sockets[j].Peer == k.Inode
		}
		if !ok || j <= i { // each pair once, from its first end
			continue
		}
		if e, ok := s.edge(k, &s.Sockets[j]); ok {
			out = append(out, e)
		}
	}
	return out
}

func (s *Snapshot) edge(a, b *Socket) (IPCEdge, bool) {
	if a.PID() == 0 || b.PID() == 0 || a.PID() == b.PID() {
		return IPCEdge{}, false
	}
	client, server := a, b
	switch {
	case a.Accepted && !b.Accepted:
		client, server = b, a
	case a.Accepted == b.Accepted && b.Inode < a.Inode:
		client, server = b, a
	}
	return IPCEdge{
		NetNS: s.NetNS, Transport: a.Table.Transport(),
		Client: EdgeEnd{PID: client.PID(), Inode: client.Inode},
		Server: EdgeEnd{PID: server.PID(), Inode: server.Inode},
	}, true
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func edgesByInode(edges []IPCEdge) map[uint64]*IPCEdge {
	m := make(map[uint64]*IPCEdge, 2*len(edges))
	for i := range edges {
		m[edges[i].Client.Inode] = &edges[i]
		m[edges[i].Server.Inode] = &edges[i]
	}
	return m
}

// Actions of sock_diag events (event.action).
const (
	ActionListening event.Action = event.ActionSocketListening
	ActionConnected event.Action = event.ActionSocketConnected
	ActionOpened    event.Action = event.ActionSocketOpened // neither listening nor connected (yet)
	ActionClosed    event.Action = event.ActionSocketClosed
)

// Event converts c into the normalised event: module "sock_diag",
// category "network", type "start" (listening or opened), "connection"
// (connected) or "end" (closed). Source and destination follow ECS and
// the audit source: for a listener, source is the local end; for an
// accepted connection, source is the client and destination the local
// end; otherwise source is local and destination remote. The process is
// only a pid (when known): the graph adds the rest. ID is left to the
// caller, who numbers the stream.
func (c *Change) Event() event.Event {
	s := &c.Socket
	role := s.Role()
	e := event.Event{
		TimeMsec: c.Time.UnixMilli(),
		Kind:     event.KindEvent,
		Category: event.CategoryNetwork,
		Outcome:  event.OutcomeSuccess,
		Module:   event.ModuleSockDiag,
		Process:  event.Process{PID: s.PID()},
		Network:  &event.Network{Family: s.Table.Family(), Transport: s.Table.Transport(), NetNS: c.NetNS},
	}
	switch {
	case c.Kind == Closed:
		e.Type, e.Action = event.TypeEnd, ActionClosed
	case role == RoleListening:
		e.Type, e.Action = event.TypeStart, ActionListening
	case role == RoleConnected:
		e.Type, e.Action = event.TypeConnection, ActionConnected
	default:
		e.Type, e.Action = event.TypeStart, ActionOpened
	}

	local, remote := localEndpoint(s), remoteEndpoint(s)
	switch role {
	case RoleListening:
		e.Network.Direction = "listening"
		e.Source = local
	case RoleConnected:
		if s.Accepted {
			e.Network.Direction = "ingress"
			e.Source, e.Dest = remote, local
		} else {
			e.Network.Direction = "egress"
			e.Source, e.Dest = local, remote
		}
	default:
		e.Source, e.Dest = local, remote
	}
	if s.HasUID {
		e.User.ID = strconv.FormatUint(uint64(s.UID), 10)
	}

	e.Labels = append(e.Labels,
		event.KV{Key: "socket_inode", Value: strconv.FormatUint(s.Inode, 10)},
		event.KV{Key: "socket_state", Value: StateName(s.State)})
	if c.Kind == Updated {
		e.Labels = append(e.Labels, event.KV{Key: "socket_previous_state", Value: StateName(c.PrevState)})
	}
	if s.Table == Unix {
		e.Labels = append(e.Labels, event.KV{Key: "socket_type", Value: unixTypeName(s.Type)})
		if s.Peer != 0 {
			e.Labels = append(e.Labels, event.KV{Key: "peer_inode", Value: strconv.FormatUint(s.Peer, 10)})
		}
	}
	if len(s.PIDs) > 1 {
		pids := make([]string, len(s.PIDs))
		for i, p := range s.PIDs {
			pids[i] = strconv.Itoa(p)
		}
		e.Labels = append(e.Labels, event.KV{Key: "socket_pids", Value: strings.Join(pids, ",")})
	}
	if c.Edge != nil {
		other := c.Edge.Server
		if other.Inode == s.Inode {
			other = c.Edge.Client
		}
		e.Labels = append(e.Labels,
			event.KV{Key: "ipc_peer_pid", Value: strconv.Itoa(other.PID)},
			event.KV{Key: "ipc_peer_inode", Value: strconv.FormatUint(other.Inode, 10)})
	}
	if c.NetNSName != "" {
		e.Labels = append(e.Labels, event.KV{Key: "netns_name", Value: c.NetNSName})
	}
	e.Message = summary(&e, s)
	return e
}

func localEndpoint(s *Socket) *event.Endpoint {
	if s.Table == Unix {
		if s.Path == "" {
			return nil
		}
		return &event.Endpoint{Path: s.Path}
	}
	if !s.Local.Addr().IsValid() {
		return nil
	}
	return &event.Endpoint{IP: s.Local.Addr().String(), Port: int(s.Local.Port())}
}

func remoteEndpoint(s *Socket) *event.Endpoint {
	if s.Table == Unix {
		if s.PeerPath == "" {
			return nil
		}
		return &event.Endpoint{Path: s.PeerPath}
	}
	if !s.Remote.Addr().IsValid() || s.Remote.Port() == 0 && s.Remote.Addr().IsUnspecified() {
		return nil
	}
	return &event.Endpoint{IP: s.Remote.Addr().String(), Port: int(s.Remote.Port())}
}

func unixTypeName(t uint8) string {
	switch t {
	case sockStream:
		return "stream"
	case sockDgram:
		return "dgram"
	case sockSeqpacket:
		return "seqpacket"
	}
	return strconv.Itoa(int(t))
}

// summary is the event's message: "tcp4 socket-listening 0.0.0.0:22 (pid 1)".
func summary(e *event.Event, s *Socket) string {
	var b strings.Builder
	b.WriteString(s.Table.String())
	b.WriteByte(' ')
	b.WriteString(string(e.Action))
	for i, ep := range []*event.Endpoint{e.Source, e.Dest} {
		if ep == nil {
			continue
		}
		if i == 1 {
			b.WriteString(" ->")
		}
		b.WriteByte(' ')
		if ep.Path != "" {
			b.WriteString(ep.Path)
		} else {
			b.WriteString(net.JoinHostPort(ep.IP, strconv.Itoa(ep.Port)))
		}
	}
	if pid := s.PID(); pid != 0 {
		fmt.Fprintf(&b, " (pid %d)", pid)
	}
	return b.String()
}
