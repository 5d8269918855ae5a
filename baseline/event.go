package baseline

import (
	"sync"
	"time"

	"github.com/lineaged/lineaged/event"
)

// EventKeys returns the keys one event touches, without observing them
// (detection asks Status of each). The mapping:
//
//   - Only KindEvent events with a process executable count; an event
//     whose Outcome is "failure" counts only as a connect still in
//     progress (audit exit EINPROGRESS, a non-blocking connect): a failed
//     attempt learned as normal would hide a later success.
//   - Action "executed" (audit execve, proc connector exec) and
//     "existing" (a process found running at start): exec-edge with the
//     chain from e.Ancestry (or e.Parent when Ancestry is empty), and
//     user-exe with e.User.ID (skipped when empty). For "executed" also a
//     uid-transition when the parent's uid (ProcRef.UserID, as the graph
//     last saw it) and the new program's effective uid (User.EffectiveID,
//     else User.ID) are both known and differ: a setuid program, or a
//     service manager starting a program as another user. The exec'd
//     file itself gives no file-access key (exec-edge covers it).
//   - Action "changed-identity-of" (setuid-family calls, proc connector
//     uid events) with e.Target: uid-transition from the effective uid
//     (User.EffectiveID, else User.ID) to Target.EffectiveID (else
//     Target.ID), when both are known and differ. Group-only changes give
//     nothing.
//   - Any other event with e.File (path set) whose Operation collapses
//     (FileOp) to read, write or exec: file-access. So fanotify's
//     executed-file (a program or library mapped for execution) is
//     file-access exec; kernel module loads (which name a module, not a
//     file) and mounts are left out.
//   - Actions "bound-socket" (audit bind, e.Source), "socket-listening"
//     (sock_diag, e.Source) and "listen-for-connections" (audit listen,
//     which names an address only when the record had one): listen, for
//     ipv4/ipv6 with a port other than 0, and unix with a path. The
//     transport is not in the key: audit's bind does not tell it.
//   - Actions "connected-to" (audit connect), "socket-connected"
//     (sock_diag) and "sent-message-to" (sendto with an address), with
//     Network.Direction "egress" and e.Dest: connect, for ipv4/ipv6 by
//     endpoint class, unix by path. Accepted connections (ingress) are not
//     learned; netlink and other families are left out.
func EventKeys(e *event.Event) []string {
	return appendEventKeys(nil, e)
}

// AppendEventKeys is EventKeys appending to dst (reuse it to spare the
// allocation on a hot path).
func AppendEventKeys(dst []string, e *event.Event) []string { return appendEventKeys(dst, e) }

func appendEventKeys(dst []string, e *event.Event) []string {
	if e == nil || e.Kind != event.KindEvent || e.Process.Executable == "" {
		return dst
	}
	exe := e.Process.Executable
	failed := e.Outcome == event.OutcomeFailure
	switch e.Action {
	case event.ActionExecuted, event.ActionExisting:
		if failed {
			return dst
		}
		dst = append(dst, execEdgeKeyOf(e, exe))
		if e.User.ID != "" {
			dst = append(dst, userExeKeyMemo(e.User.ID, exe))
		}
		if e.Action == event.ActionExecuted && e.Parent != nil {
			from, to := e.Parent.UserID, effective(e.User.EffectiveID, e.User.ID)
			if from != "" && to != "" && from != to {
				dst = append(dst, UIDTransitionKey(exe, from, to))
			}
		}
		return dst
	case event.ActionChangedIdentityOf:
		if failed || e.Target == nil {
			return dst
		}
		from := effective(e.User.EffectiveID, e.User.ID)
		to := effective(e.Target.EffectiveID, e.Target.ID)
		if from != "" && to != "" && from != to {
			dst = append(dst, UIDTransitionKey(exe, from, to))
		}
		return dst
	case event.ActionBoundSocket, event.ActionSocketListening, event.ActionListenForConnections:
		if failed || e.Network == nil || e.Source == nil {
			return dst
		}
		switch ep := e.Source; e.Network.Family {
		case "ipv4", "ipv6":
			if ep.Port > 0 {
				dst = append(dst, ListenKey(exe, ep.Port))
			}
		case "unix":
			if ep.Path != "" {
				dst = append(dst, ListenUnixKey(exe, ep.Path))
			}
		}
		return dst
	case event.ActionConnectedTo, event.ActionSocketConnected, event.ActionSentMessageTo:
		if e.Network == nil || e.Dest == nil || e.Network.Direction != "egress" {
			return dst
		}
		if failed && (e.Audit == nil || e.Audit.ExitValue != "EINPROGRESS") {
			return dst
		}
		switch ep := e.Dest; e.Network.Family {
		case "ipv4", "ipv6":
			if ep.IP != "" {
				dst = append(dst, ConnectKey(exe, ep.IP, ep.Port))
			}
		case "unix":
			if ep.Path != "" {
				dst = append(dst, ConnectUnixKey(exe, ep.Path))
			}
		}
		return dst
	}
	if e.File != nil && e.File.Path != "" && !failed {
		if k := FileAccessKey(exe, e.File.Path, e.File.Operation); k != "" {
			dst = append(dst, k)
		}
	}
	return dst
}

func effective(eff, real string) string {
	if eff != "" {
		return eff
	}
	return real
}

// keyMemo remembers the exec-edge and user-exe keys of recent events: a
// host runs the same few programs under the same few lineages all day, and
// building a key costs a few allocations. Bounded: cleared when full.
var keyMemo struct {
	sync.Mutex
	edge map[[ChainDepth + 1]string]string
	user map[[2]string]string
}

const keyMemoMax = 1 << 14

// execEdgeKeyOf is ExecEdgeKey(ancestryExes(e), exe), memoised.
func execEdgeKeyOf(e *event.Event, exe string) string {
	var k [ChainDepth + 1]string
	anc := e.Ancestry
	if len(anc) == 0 && e.Parent != nil {
		anc = []event.ProcRef{*e.Parent}
	}
	n := min(len(anc), ChainDepth)
	for i := range n {
		if !anc[i].Unknown {
			k[i] = anc[i].Executable
		}
	}
	// The chain's length matters ("-" for none, "?" for unknown), so an
	// absent ancestor must differ from an unknown one: mark the end.
	if n < ChainDepth {
		k[n] = "\x00end"
	}
	k[ChainDepth] = exe
	keyMemo.Lock()
	key, ok := keyMemo.edge[k]
	keyMemo.Unlock()
	if ok {
		return key
	}
	key = ExecEdgeKey(ancestryExes(e), exe)
	keyMemo.Lock()
	if keyMemo.edge == nil || len(keyMemo.edge) >= keyMemoMax {
		keyMemo.edge = make(map[[ChainDepth + 1]string]string)
	}
	keyMemo.edge[k] = key
	keyMemo.Unlock()
	return key
}

func userExeKeyMemo(uid, exe string) string {
	k := [2]string{uid, exe}
	keyMemo.Lock()
	key, ok := keyMemo.user[k]
	keyMemo.Unlock()
	if ok {
		return key
	}
	key = UserExeKey(uid, exe)
	keyMemo.Lock()
	if keyMemo.user == nil || len(keyMemo.user) >= keyMemoMax {
		keyMemo.user = make(map[[2]string]string)
	}
	keyMemo.user[k] = key
	keyMemo.Unlock()
	return key
}

// ancestryExes lists the ancestors' executables nearest first; an unknown
// ancestor is "" (rendered "?").
func ancestryExes(e *event.Event) []string {
	anc := e.Ancestry
	if len(anc) == 0 && e.Parent != nil {
		anc = []event.ProcRef{*e.Parent}
	}
	n := min(len(anc), ChainDepth)
	out := make([]string, n)
	for i := range n {
		if !anc[i].Unknown {
			out[i] = anc[i].Executable
		}
	}
	return out
}

// ObserveEvent records the keys EventKeys gives for e at the event's time
// (TimeMsec) and adds e.Host to Hosts; it returns the keys.
func (b *Baseline) ObserveEvent(e *event.Event) []string {
	keys := EventKeys(e)
	if len(keys) == 0 {
		return nil
	}
	t := time.UnixMilli(e.TimeMsec).UTC()
	for _, k := range keys {
		b.observe(k, t)
	}
	b.AddHost(e.Host)
	return keys
}
