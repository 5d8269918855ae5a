package output

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/lineaged/lineaged/event"
)

// This file writes the objects of one line, each under its ECS name or,
// where ECS has none, under lineaged.* or auditd.* (SPEC §5).

// appendProcess writes process.*: the process, its saved uid
// (process.saved_user.id) and process.parent, whole unless the encoder
// writes ids only.
func (enc *Encoder) appendProcess(dst []byte, e *event.Event) []byte {
	p := &e.Process
	dst, m := openObject(dst, "process")
	dst = appendStr(dst, "entity_id", p.EntityID)
	if p.PID != 0 {
		dst = appendInt(dst, "pid", int64(p.PID))
	}
	dst = appendStr(dst, "executable", p.Executable)
	dst = appendStr(dst, "name", p.Name)
	terse := enc.terse(e)
	if terse {
		// The end of a process, as its exec line (the same entity_id)
		// already described it: which process, its code, its parent.
		if p.ExitCode != nil {
			dst = appendInt(dst, "exit_code", int64(*p.ExitCode))
		}
		dst = enc.appendParent(dst, e, true)
		return closeObject(dst, m)
	}
	if len(p.Args) > 0 {
		// The proctitle is argv again (audit's, cut at 128 bytes):
		// command_line and args carry it whole.
		dst = appendJoined(dst, "command_line", p.Args)
		dst = appendStrArray(dst, "args", p.Args)
		dst = appendInt(dst, "args_count", int64(len(p.Args)))
	} else {
		dst = appendStr(dst, "title", p.Title)
	}
	dst = appendStr(dst, "working_directory", p.WorkingDirectory)
	if p.ExitCode != nil {
		dst = appendInt(dst, "exit_code", int64(*p.ExitCode))
	}
	if p.StartMsec != 0 && p.StartMsec != e.TimeMsec {
		// Equal to @timestamp on the line that first saw the process
		// (its exec, mostly): the line's own time says it.
		dst = appendKey(dst, "start")
		dst = appendTime(dst, p.StartMsec)
	}
	if u := &e.User; u.SavedID != u.EffectiveID {
		// The saved uid says something where it differs from the
		// effective one (a setuid program that keeps its caller's).
		dst = appendIDObject(dst, "saved_user", u.SavedID)
	}

	dst = appendLeader(dst, "session_leader", p.SID, p.SessionLeader)
	dst = appendLeader(dst, "group_leader", p.PGID, p.GroupLeader)

	dst = enc.appendParent(dst, e, false)
	return closeObject(dst, m)
}

// terse reports a line that ends a process (exited, thread-exited) in
// compact and ids modes: its exec line has the rest.
func (enc *Encoder) terse(e *event.Event) bool {
	return enc.ancestry != AncestryFull && e.Category == event.CategoryProcess && e.Type == event.TypeEnd
}

// appendParent writes process.parent: the Parent reference, with the bare
// PPID standing in for a missing Parent or a Parent without a pid; whole
// unless the encoder writes ids only or the line is terse.
func (enc *Encoder) appendParent(dst []byte, e *event.Event, idsOnly bool) []byte {
	p := &e.Process
	dst, pm := openObject(dst, "parent")
	ppid := p.PPID
	if r := e.Parent; r != nil {
		if r.PID != 0 {
			ppid = r.PID
		}
		dst = appendStr(dst, "entity_id", r.EntityID)
		if ppid != 0 {
			dst = appendInt(dst, "pid", int64(ppid))
		}
		if enc.ancestry != AncestryIDs && !idsOnly {
			dst = appendStr(dst, "executable", r.Executable)
			dst = appendStr(dst, "name", baseName(r.Executable))
			if enc.ancestry == AncestryFull {
				dst = appendStrArray(dst, "args", r.Args)
			} else {
				// Bounded as the ancestors' are: the parent's own exec
				// line (its entity_id) has them all.
				dst = appendBoundedArgs(dst, r.Args, AncestryArgBytes)
			}
			dst = appendIDObject(dst, "user", r.UserID)
		}
	} else if ppid != 0 {
		dst = appendInt(dst, "pid", int64(ppid))
	}
	return closeObject(dst, pm)
}

// appendLeader writes ECS's process.session_leader or group_leader: the
// leader's pid (live: the process's sid or pgid) and its entity id when
// the graph has the leader.
func appendLeader(dst []byte, key string, pid int, entity string) []byte {
	if pid <= 0 {
		return dst
	}
	dst = appendKey(dst, key)
	dst = append(dst, '{')
	dst = appendStr(dst, "entity_id", entity)
	dst = appendInt(dst, "pid", int64(pid))
	return append(dst, '}')
}

// appendAncestry writes lineaged.ancestry as output.ancestry chooses
// (SPEC §5): full, every member of each ancestor (args bounded by
// AncestryArgBytes); compact, entity id and pid of the parent (which
// process.parent carries whole) and entity id, pid and executable farther
// up; ids, entity id and pid. An ancestor the source had no record of is
// {"pid":N,"unknown":true} in every mode.
func (enc *Encoder) appendAncestry(dst []byte, e *event.Event) []byte {
	if len(e.Ancestry) == 0 || enc.terse(e) {
		return dst
	}
	dst = appendKey(dst, "ancestry")
	dst = append(dst, '[')
	for i := range e.Ancestry {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		r := &e.Ancestry[i]
		dst = appendStr(dst, "entity_id", r.EntityID)
		if r.PID != 0 {
			dst = appendInt(dst, "pid", int64(r.PID))
		}
		switch {
		case enc.ancestry == AncestryFull:
			dst = appendStr(dst, "executable", r.Executable)
			dst = appendBoundedArgs(dst, r.Args, AncestryArgBytes)
			dst = appendIDObject(dst, "user", r.UserID)
		case enc.ancestry == AncestryCompact && i > 0:
			dst = appendStr(dst, "executable", r.Executable)
		}
		if r.Unknown {
			dst = appendKey(dst, "unknown")
			dst = append(dst, "true"...)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// baseName is the last element of an executable path ("" for none).
func baseName(p string) string {
	if p == "" {
		return ""
	}
	return p[strings.LastIndexByte(p, '/')+1:]
}

// known reports whether an id is set: audit spells a never-set login uid
// or session "unset", which SPEC §5 omits like any unknown value.
func known(id string) bool { return id != "" && id != "unset" }

// appendID writes key: id when the id is known.
func appendID(dst []byte, key, id string) []byte {
	if !known(id) {
		return dst
	}
	return appendStr(dst, key, id)
}

// appendIDObject appends `"key":{"id":v}` when v is known.
func appendIDObject(dst []byte, key, v string) []byte {
	if !known(v) {
		return dst
	}
	dst = appendKey(dst, key)
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, v)
	return append(dst, '}')
}

// appendUser writes user.*: the acting identities ECS names (uid, gid,
// the euid and egid where they differ from them, and Auditbeat's
// user.audit.id for the login uid), and
// user.target's id, name and group for a switch of identity. The saved
// and filesystem uids go to process.saved_user.id and auditd.data.fsuid,
// the target's other ids to lineaged.target.
func appendUser(dst []byte, u *event.User, target *event.User) []byte {
	dst, m := openObject(dst, "user")
	dst = appendID(dst, "id", u.ID)
	dst = appendStr(dst, "name", u.Name)
	if (known(u.EffectiveID) && u.EffectiveID != u.ID) || (known(u.EffGroupID) && u.EffGroupID != u.GroupID) {
		// Written where the effective ids differ from the real ones (a
		// setuid or setgid program): absent, they are the same.
		dst = appendKey(dst, "effective")
		dst = append(dst, '{')
		dst = appendID(dst, "id", u.EffectiveID)
		dst = appendIDObject(dst, "group", u.EffGroupID)
		dst = append(dst, '}')
	}
	dst = appendIDObject(dst, "audit", u.AuditID)
	dst = appendGroup(dst, u.GroupID, u.GroupName)
	if t := target; t != nil {
		var tm int
		dst, tm = openObject(dst, "target")
		dst = appendID(dst, "id", t.ID)
		dst = appendStr(dst, "name", t.Name)
		dst = appendGroup(dst, t.GroupID, t.GroupName)
		dst = closeObject(dst, tm)
	}
	return closeObject(dst, m)
}

// appendGroup writes group: {id, name} when either is known.
func appendGroup(dst []byte, id, name string) []byte {
	dst, m := openObject(dst, "group")
	dst = appendID(dst, "id", id)
	dst = appendStr(dst, "name", name)
	return closeObject(dst, m)
}

// isModule reports a kernel module's name, which the audit source keeps
// as a File with the operation "module": ECS's file.* describes files, so
// the name is written as Auditbeat does, auditd.data.name.
func isModule(f *event.File) bool { return f != nil && f.Operation == "module" }

// appendFile writes file.*: the path, its name, directory and extension,
// and what audit's PATH record says of it. The operation is lineaged's
// (lineaged.file.operation) and the PATH nametype Auditbeat's
// (auditd.path.nametype).
func appendFile(dst []byte, f *event.File) []byte {
	if f == nil {
		return dst
	}
	dst, m := openObject(dst, "file")
	dst = appendStr(dst, "path", f.Path)
	dir, name := splitPath(f.Path)
	dst = appendStr(dst, "name", name)
	dst = appendStr(dst, "directory", dir)
	dst = appendStr(dst, "extension", extension(name))
	dst = appendStr(dst, "inode", f.Inode)
	dst = appendStr(dst, "mode", f.Mode)
	dst = appendStr(dst, "uid", f.UID)
	dst = appendStr(dst, "gid", f.GID)
	dst = appendStr(dst, "device", f.Device)
	return closeObject(dst, m)
}

// splitPath splits a path at its last slash: "/etc/passwd" is "/etc" and
// "passwd", "/x" is "/" and "x", "x" has no directory, "/etc/" no name.
func splitPath(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	switch {
	case i < 0:
		return "", p
	case i == 0:
		return "/", p[1:]
	}
	return p[:i], p[i+1:]
}

// extension is ECS file.extension: the suffix after the name's last dot,
// without it ("gz" of "a.tar.gz"); none for a dot file (".bashrc") or a
// name ending in a dot.
func extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// appendNetwork writes network.*. ECS network.type takes ipv4 or ipv6
// only (every family, those included, is kept as auditd.socket.family),
// and network.direction ingress or egress from the host's point of view;
// a bind or listen is lineaged.network.state listening.
func appendNetwork(dst []byte, n *event.Network) []byte {
	if n == nil {
		return dst
	}
	dst, m := openObject(dst, "network")
	if n.Family == "ipv4" || n.Family == "ipv6" {
		dst = appendStr(dst, "type", n.Family)
	}
	dst = appendStr(dst, "transport", n.Transport)
	if n.Direction == "ingress" || n.Direction == "egress" {
		dst = appendStr(dst, "direction", n.Direction)
	}
	return closeObject(dst, m)
}

// appendEndpoint writes source.* or destination.*: ip and port for inet
// families, and address, which ECS defines as the raw address: the IP, or
// the AF_UNIX path when there is no IP.
func appendEndpoint(dst []byte, key string, ep *event.Endpoint) []byte {
	if ep == nil {
		return dst
	}
	dst, m := openObject(dst, key)
	if validIP(ep.IP) {
		dst = appendStr(dst, "ip", ep.IP)
	}
	if ep.Port != 0 {
		dst = appendInt(dst, "port", int64(ep.Port))
	}
	if ep.IP != "" {
		dst = appendStr(dst, "address", ep.IP)
	} else {
		dst = appendStr(dst, "address", ep.Path)
	}
	return closeObject(dst, m)
}

// validIP reports whether s is an IP address: ECS types source.ip and
// destination.ip as ip, and an index refuses a whole document for one
// that is not (old audit logs print addr=? or "?," for none). Anything
// else is still written, as the endpoint's address.
func validIP(s string) bool {
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// appendRelated writes related.*, ECS's pivot fields: the users of the
// event (each by name where known, else by id; the effective and login
// ids where they differ from the real one), its IPs, and the host names
// its records name.
func appendRelated(dst []byte, e *event.Event) []byte {
	dst, m := openObject(dst, "related")
	var users [6]string
	n := 0
	add := func(v string) {
		if !known(v) {
			return
		}
		for _, u := range users[:n] {
			if u == v {
				return
			}
		}
		if n < len(users) {
			users[n] = v
			n++
		}
	}
	u := &e.User
	add(nameOrID(u.Name, u.ID))
	if u.EffectiveID != u.ID {
		add(u.EffectiveID)
	}
	if u.AuditID != u.ID {
		add(u.AuditID)
	}
	if t := e.Target; t != nil {
		add(nameOrID(t.Name, t.ID))
	}
	dst = appendStrArray(dst, "user", users[:n])

	var ips [2]string
	n = 0
	if e.Source != nil && validIP(e.Source.IP) {
		ips[n] = e.Source.IP
		n++
	}
	if e.Dest != nil && validIP(e.Dest.IP) && (n == 0 || ips[0] != e.Dest.IP) {
		ips[n] = e.Dest.IP
		n++
	}
	dst = appendStrArray(dst, "ip", ips[:n])

	if a := e.Audit; a != nil {
		for _, kv := range a.Data {
			if kv.Key == "hostname" && kv.Value != "" && kv.Value[0] != '?' {
				dst = appendKey(dst, "hosts")
				dst = append(dst, '[')
				dst = appendString(dst, kv.Value)
				dst = append(dst, ']')
				break
			}
		}
	}
	return closeObject(dst, m)
}

func nameOrID(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

// appendAuditd writes auditd.*: Auditbeat's names for the raw audit
// fields ECS lacks. What another field of the line already says is left
// out: the result (event.outcome), a PATH record's NORMAL nametype (the
// usual one), and the record types unless Options.RecordTypes asks.
func (enc *Encoder) appendAuditd(dst []byte, e *event.Event) []byte {
	dst, m := openObject(dst, "auditd")
	if a := e.Audit; a != nil {
		if a.Sequence != 0 {
			dst = appendKey(dst, "sequence")
			dst = strconv.AppendUint(dst, uint64(a.Sequence), 10)
		}
		dst = appendID(dst, "session", a.Session)
		if e.Outcome == "" {
			dst = appendStr(dst, "result", a.Result)
		}
	}
	dst = appendAuditData(dst, e)
	if a := e.Audit; a != nil {
		if enc.recordTypes {
			dst = appendStrArray(dst, "record_types", a.RecordTypes)
		}
		dst = appendStrArray(dst, "unparsed", a.Unparsed)
	}
	if f := e.File; f != nil && f.NameType != "" && f.NameType != "NORMAL" {
		dst = appendKey(dst, "path")
		dst = append(dst, `{"nametype":`...)
		dst = appendString(dst, f.NameType)
		dst = append(dst, '}')
	}
	if n := e.Network; n != nil && n.Family != "" {
		dst = appendKey(dst, "socket")
		dst = append(dst, `{"family":`...)
		dst = appendString(dst, n.Family)
		dst = append(dst, '}')
	}
	return closeObject(dst, m)
}

// execArgs are the SYSCALL fields of an execve that the line says
// better elsewhere: a0-a3 are pointers into the caller's memory (argv is
// process.args), items counts the PATH records (file.*).
var execArgs = []event.KV{{Key: "a0"}, {Key: "a1"}, {Key: "a2"}, {Key: "a3"}, {Key: "items"}}

// appendAuditData writes auditd.data: the syscall, arch and exit value,
// the tty, the fsuid (where it differs from the euid) and a kernel
// module's name from the event's own fields, then the records' other
// fields (a record field of the same name as one already written is
// skipped: first wins). An execve's pointer arguments and its success
// return value (always 0) are left out.
func appendAuditData(dst []byte, e *event.Event) []byte {
	var own [6 + 5]event.KV // room for execArgs after them: no allocation
	n := 0
	put := func(k, v string) {
		if v != "" {
			own[n] = event.KV{Key: k, Value: v}
			n++
		}
	}
	var kvs []event.KV
	exec := false
	if a := e.Audit; a != nil {
		exec = a.Syscall == "execve" || a.Syscall == "execveat"
		put("syscall", a.Syscall)
		put("arch", a.Arch)
		if !exec || e.Outcome != event.OutcomeSuccess {
			put("exit", a.ExitValue)
		}
		kvs = a.Data
	}
	put("tty", e.Process.TTY)
	if u := &e.User; known(u.FilesysID) && u.FilesysID != u.EffectiveID {
		put("fsuid", u.FilesysID)
	}
	if isModule(e.File) {
		put("name", e.File.Path)
	}
	if n == 0 && len(kvs) == 0 {
		return dst
	}
	dst, m := openObject(dst, "data")
	dst = appendKVs(dst, own[:n], nil)
	written := own[:n]
	if exec {
		written = append(written, execArgs...)
	}
	dst = appendKVs(dst, kvs, written)
	return closeObject(dst, m)
}

// appendKVObject writes kvs as the object key (see appendKVs).
func appendKVObject(dst []byte, key string, kvs []event.KV, written []event.KV) []byte {
	dst, m := openObject(dst, key)
	dst = appendKVs(dst, kvs, written)
	return closeObject(dst, m)
}

// appendJoined writes v joined by single spaces as one JSON string
// (process.command_line), without building the joined string.
func appendJoined(dst []byte, key string, v []string) []byte {
	dst = appendKey(dst, key)
	dst = append(dst, '"')
	for i, s := range v {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = appendStringBody(dst, s)
	}
	return append(dst, '"')
}
