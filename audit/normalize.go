package audit

import (
	"strconv"
	"strings"

	"github.com/elastic/go-libaudit/v2/auparse"
	"github.com/lineaged/lineaged/event"
)

// Normalizer turns reassembled record groups into normalised events
// (SPEC §5 field names). It keeps a small intern table so the strings that
// repeat across events (uids, ttys, executables, syscall names) are
// allocated once. Not safe for concurrent use.
type Normalizer struct {
	// Host names events whose records carry no node= prefix.
	Host string

	intern   map[string]string
	keyCache map[string][]string
	scratch  scratchObjs
	buf      []byte
	args     [][]byte
	argSet   []bool
	typeStr  map[uint16]string

	Stats NormalizeStats
}

// NormalizeStats counts what the normaliser met.
type NormalizeStats struct {
	Events          uint64
	UnknownTypes    uint64 // records of types this build does not know (kept raw)
	ExecArgsMissing uint64 // exec events whose EXECVE records lacked some of argc's arguments
	BadSockaddr     uint64 // SOCKADDR records whose saddr could not be decoded
}

// NewNormalizer returns a normaliser for events of host.
func NewNormalizer(host string) *Normalizer {
	return &Normalizer{Host: host, intern: make(map[string]string, 4096), typeStr: make(map[uint16]string, 64),
		keyCache: make(map[string][]string, 64)}
}

// scratchObjs are the pointed-to parts of an event, reused per event.
type scratchObjs struct {
	audit          event.Audit
	file, file2    event.File
	network        event.Network
	source, dest   event.Endpoint
	target         event.User
	recordTypes    []string
	data, unparsed []event.KV
}

func (s *scratchObjs) reset() {
	s.audit = event.Audit{RecordTypes: s.audit.RecordTypes[:0], Data: s.audit.Data[:0], Unparsed: s.audit.Unparsed[:0]}
}

// title renders a proctitle (argv joined by NULs, hex when it holds one)
// as one space-separated string, without intermediate allocations.
func (n *Normalizer) title(f Field) string {
	if f.Quote != 0 || !IsHex(f.Value) {
		return n.str(f.Value)
	}
	n.buf = AppendHexDecoded(n.buf[:0], f.Value)
	b := n.buf
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	for i, c := range b {
		if c == 0 {
			b[i] = ' '
		}
	}
	return n.str(b)
}

// str returns b as a string, interned when short (values that repeat).
func (n *Normalizer) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 128 {
		return string(b)
	}
	if s, ok := n.intern[string(b)]; ok {
		return s
	}
	if len(n.intern) > 1<<16 {
		clear(n.intern) // bounded: a new table rather than unbounded growth
	}
	s := string(b)
	n.intern[s] = s
	return s
}

// decoded returns the string a field carries (hex decoded), interned.
func (n *Normalizer) decoded(f Field) string {
	if f.Quote == 0 && IsHex(f.Value) {
		n.buf = AppendString(n.buf[:0], f)
		return n.str(n.buf)
	}
	return n.str(f.Value)
}

func (n *Normalizer) typeName(r *Record) string {
	if s, ok := n.typeStr[r.Type]; ok && r.Type != 0 {
		return s
	}
	s := string(r.TypeName)
	if r.Type != 0 {
		n.typeStr[r.Type] = s
	}
	return s
}

// Normalize fills e from the records of g. e is reset first.
func (n *Normalizer) Normalize(g *Group, e *event.Event) {
	*e = event.Event{}
	n.Stats.Events++
	if len(g.Records) == 0 {
		return
	}
	first := g.Records[0]
	e.TimeMsec = first.TimeMsec()
	e.Host = n.Host
	if first.Node != nil {
		e.Host = n.str(first.Node)
	}
	// The Audit, File, Network and endpoint objects are the normaliser's
	// own, reused for every event: an event is valid until the next call.
	// Strings and Args are never reused (the graph keeps them).
	n.scratch.reset()
	a := &n.scratch.audit
	a.Sequence = g.Serial
	e.Audit = a
	var sys, execve, cwd, proctitle, sockaddr *Record
	var paths []*Record
	for _, r := range g.Records {
		a.RecordTypes = append(a.RecordTypes, n.typeName(r))
		switch r.Type {
		case TypeSyscall:
			if sys == nil {
				sys = r
			}
		case TypeExecve:
			if execve == nil {
				execve = r
			}
		case TypeCwd:
			cwd = r
		case TypePath:
			paths = append(paths, r)
		case TypeProctitle:
			proctitle = r
		case TypeSockaddr:
			sockaddr = r
		case 0:
			n.Stats.UnknownTypes++
			a.Unparsed = append(a.Unparsed, string(r.Line))
		}
	}
	if g.Late {
		a.Data = append(a.Data, event.KV{Key: "partial", Value: "late records of an event already emitted"})
	}
	if cwd != nil {
		if f, ok := cwd.Field("cwd"); ok {
			e.Process.WorkingDirectory = n.decoded(f)
		}
	}
	if proctitle != nil {
		if f, ok := proctitle.Field("proctitle"); ok {
			e.Process.Title = n.title(f)
		}
	}
	if sys != nil {
		n.syscall(e, sys, g.Records, execve, paths, sockaddr)
		if r := primaryRecord(g.Records); r != nil {
			n.overlay(e, r)
		}
		return
	}
	n.other(e, first)
}

// subject fills the acting process and user from a record with the usual
// pid/ppid/uid/... fields (SYSCALL, or a user-space message's header). One
// pass over the fields: this runs for every event.
func (n *Normalizer) subject(e *event.Event, r *Record) {
	u := &e.User
	for _, f := range r.Fields {
		k := f.Key
		if len(k) == 0 {
			continue
		}
		// Fields later in the record win, as in go-libaudit's map; a nested
		// user message's uid/pid do not override the sender's.
		switch string(k) {
		case "pid":
			if !f.Nested {
				if p, ok := ParseInt(f.Value); ok {
					e.Process.PID = int(p)
				}
			}
		case "ppid":
			if p, ok := ParseInt(f.Value); ok {
				e.Process.PPID = int(p)
			}
		case "exe":
			e.Process.Executable = n.decoded(f)
		case "comm":
			e.Process.Name = n.decoded(f)
		case "tty":
			if v := string(f.Value); v != "(none)" && v != "?" {
				e.Process.TTY = n.str(f.Value)
			}
		case "uid":
			if !f.Nested {
				u.ID = n.idValue(f.Value)
			}
		case "euid":
			u.EffectiveID = n.idValue(f.Value)
		case "suid":
			if !f.Nested {
				u.SavedID = n.idValue(f.Value)
			}
		case "fsuid":
			u.FilesysID = n.idValue(f.Value)
		case "auid":
			if !f.Nested {
				u.AuditID = n.idValue(f.Value)
			}
		case "gid":
			u.GroupID = n.idValue(f.Value)
		case "egid":
			u.EffGroupID = n.idValue(f.Value)
		case "ses":
			if !f.Nested {
				e.Audit.Session = n.idValue(f.Value)
			}
		case "key":
			e.Audit.Keys = n.keys(f)
		}
	}
	if v, ok := r.Interpreted("UID"); ok {
		u.Name = n.str(v)
	}
	if v, ok := r.Interpreted("GID"); ok {
		u.GroupName = n.str(v)
	}
}

// idValue returns a uid/gid/ses value with the audit "unset" spelled out.
func (n *Normalizer) idValue(v []byte) string {
	switch string(v) {
	case "4294967295", "-1":
		return "unset"
	case "?", "(none)", "":
		return ""
	}
	return n.str(v)
}

// keys splits an audit rule key. Several keys of one rule are joined by
// 0x01 and then the whole value is hex encoded (auditctl -k a -k b).
func (n *Normalizer) keys(f Field) []string {
	v := f.Value
	if len(v) == 0 || string(v) == "(null)" {
		return nil
	}
	if k, ok := n.keyCache[string(v)]; ok {
		return k // shared and never modified
	}
	k := n.splitKeys(f)
	if len(n.keyCache) > 4096 {
		clear(n.keyCache)
	}
	n.keyCache[string(v)] = k
	return k
}

func (n *Normalizer) splitKeys(f Field) []string {
	v := f.Value
	if f.Quote == 0 && IsHex(v) {
		n.buf = AppendHexDecoded(n.buf[:0], v)
		var out []string
		for _, k := range strings.Split(string(n.buf), "\x01") {
			if k != "" {
				out = append(out, n.str([]byte(k)))
			}
		}
		return out
	}
	// go-libaudit's convention: key="key=net" is the key "net".
	if i := strings.IndexByte(string(v), '='); i >= 0 {
		v = v[i+1:]
	}
	return []string{n.str(v)}
}

func (n *Normalizer) outcome(r *Record) event.Outcome {
	if v, ok := r.Get("success"); ok {
		if string(v) == "yes" {
			return event.OutcomeSuccess
		}
		return event.OutcomeFailure
	}
	if v, ok := r.Get("res"); ok {
		s := string(v)
		if s == "1" || strings.HasPrefix(s, "suc") || s == "yes" {
			return event.OutcomeSuccess
		}
		return event.OutcomeFailure
	}
	return event.OutcomeUnknown
}

// syscall normalises an event built around a SYSCALL record.
func (n *Normalizer) syscall(e *event.Event, sys *Record, recs []*Record, execve *Record, paths []*Record, sockaddr *Record) {
	a := e.Audit
	n.subject(e, sys)
	e.Outcome = n.outcome(sys)
	a.Result = "fail"
	if e.Outcome == event.OutcomeSuccess {
		a.Result = "success"
	}
	archV, _ := sys.Get("arch")
	arch := ParseArch(archV)
	a.Arch = n.str([]byte(ArchName(archV)))
	sc := ""
	if v, ok := sys.Get("syscall"); ok {
		if num, ok := ParseInt(v); ok {
			sc = SyscallName(arch, int(num))
		}
		if sc == "" {
			if iv, ok := sys.Interpreted("SYSCALL"); ok {
				sc = n.str(iv)
			} else {
				sc = n.str(v)
			}
		}
	}
	a.Syscall = sc
	// 32-bit ABIs: the 32-bit-id variants (setuid32, chown32, ...) do what
	// their plain names do, and i386 multiplexes the socket calls through
	// socketcall(2) with the call number in a0.
	sc = canonicalSyscall(sc, sys)
	if v, ok := sys.Get("exit"); ok {
		a.ExitValue = n.str(v)
		if num, ok := ParseInt(v); ok && num < 0 {
			if name := errnoName(-num); name != "" {
				a.ExitValue = name
			}
		}
	}

	switch sc {
	case "execve", "execveat":
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeStart, event.ActionExecuted
		if execve != nil {
			e.Process.Args = n.execArgs(e, recs)
		}
		if e.Process.Args == nil && e.Process.Title != "" {
			if pt, ok := findType(recs, TypeProctitle); ok {
				if f, ok := pt.Field("proctitle"); ok {
					e.Process.Args = Argv(f)
				}
			}
		}
		if p := n.pickPath(paths, e.Process.WorkingDirectory, ""); p != nil {
			e.File = p
			e.File.Operation = "exec"
		}
	case "exit":
		// exit(2) ends one thread; only exit_group ends the process.
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeInfo, event.ActionThreadExited
	case "exit_group":
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeEnd, event.ActionExited
		if v, ok := sys.Get("a0"); ok {
			if c, err := strconv.ParseUint(string(v), 16, 64); err == nil {
				code := int(c & 0xff)
				e.Process.ExitCode = &code
			}
		}
	case "connect", "bind", "accept", "accept4", "listen", "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg":
		n.network(e, sc, sockaddr)
	case "setuid", "setreuid", "setresuid", "setfsuid", "setgid", "setregid", "setresgid", "setfsgid", "setgroups", "capset":
		n.setid(e, sc, sys)
	case "init_module", "finit_module", "delete_module":
		e.Category, e.Type = event.CategoryDriver, event.TypeStart
		e.Action = event.ActionLoadedKernelModule
		if sc == "delete_module" {
			e.Type, e.Action = event.TypeEnd, event.ActionUnloadedKernelModule
		}
		if km, ok := findType(recs, 1330); ok { // KERN_MODULE name=
			if f, ok := km.Field("name"); ok {
				e.File = &event.File{Path: n.decoded(f), Operation: "module"}
			}
		}
	case "ptrace":
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeAccess, event.ActionTracedProcess
	case "kill", "tkill", "tgkill":
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeInfo, event.ActionSentSignal
	case "mount", "umount2", "umount", "fsmount", "move_mount":
		e.Category, e.Type, e.Action = event.CategoryFile, event.TypeChange, event.ActionMounted
		if strings.HasPrefix(sc, "umount") {
			e.Action = event.ActionUnmounted
		}
		e.File = n.pickPath(paths, e.Process.WorkingDirectory, "")
	default:
		if op, typ, ok := fileOp(sc, sys, hasNameType(paths, "CREATE")); ok {
			e.Category, e.Type = event.CategoryFile, typ
			e.Action = fileAction(op)
			cwd := e.Process.WorkingDirectory
			if !dirIsCWD(sc, sys) {
				cwd = "" // relative to a directory fd the record does not name
			}
			switch op {
			case "delete":
				e.File = n.pickPath(paths, cwd, "DELETE")
			case "rename":
				// file.path is where the file went (the CREATE item): a
				// rename over /etc/passwd must name /etc/passwd. The
				// source stays beside it.
				if src := n.pickPath(paths, cwd, "DELETE"); src != nil && src.NameType == "DELETE" {
					e.Audit.Data = append(e.Audit.Data, event.KV{Key: "old_path", Value: src.Path})
				}
				e.File = n.pickPath(paths, cwd, "CREATE")
			default:
				e.File = n.pickPath(paths, cwd, "")
			}
			if e.File != nil {
				e.File.Operation = op
			}
		} else {
			// A syscall this version does not classify (a rule may
			// watch anything): kept with its name as the action.
			e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeInfo, event.Action(sc)
			if sc == "" {
				e.Action = event.ActionSyscall // a SYSCALL record without syscall=
			}
			if len(paths) > 0 {
				e.File = n.pickPath(paths, e.Process.WorkingDirectory, "")
			}
		}
	}
	if e.Category == event.CategoryProcess || e.Category == "" {
		// Watch rules fire on any syscall touching the path: a PATH
		// record makes it a file event even when the syscall is unusual.
		if e.Action != event.ActionExecuted && e.Action != event.ActionExited && e.File != nil {
			e.Category = event.CategoryFile
		}
	}
	if sockaddr != nil && e.Network == nil {
		n.network(e, "", sockaddr)
	}
	n.dataKV(e, sys)
}

// primaryRecord returns a record that says what a syscall event is about
// better than the syscall does: auditctl's sendto that changed a rule is an
// audit configuration change (CONFIG_CHANGE), iptables' setsockopt a
// firewall change (NETFILTER_CFG), a denied open an LSM denial (AVC).
func primaryRecord(recs []*Record) *Record {
	for _, r := range recs {
		switch TypeName(r.Type) {
		case "LOGIN", "CONFIG_CHANGE", "NETFILTER_CFG", "MAC_CONFIG_CHANGE", "MAC_STATUS", "MAC_POLICY_LOAD", "AVC", "SECCOMP", "ANOM_ABEND", "ANOM_PROMISCUOUS":
			return r
		}
	}
	return nil
}

// overlay classifies a syscall event by its primary record and adds that
// record's fields and rule key; the acting process stays the syscall's.
func (n *Normalizer) overlay(e *event.Event, r *Record) {
	// An exec stays an exec: an AVC of a permissive SELinux or a
	// complaining AppArmor rides on successful execs, and lineage must see
	// them. Its fields are still added.
	if cl, ok := recordClasses[r.Type]; ok && e.Action != event.ActionExecuted {
		e.Category, e.Type, e.Action = cl.category, cl.typ, cl.action
	}
	if f, ok := r.Field("key"); ok {
		for _, k := range n.keys(f) {
			if !contains(e.Audit.Keys, k) {
				// Full slice expression: the cached slice is never
				// written through, append copies.
				e.Audit.Keys = append(e.Audit.Keys[:len(e.Audit.Keys):len(e.Audit.Keys)], k)
			}
		}
	}
	if _, ok := r.Get("res"); ok {
		e.Outcome = n.outcome(r)
		e.Audit.Result = "fail"
		if e.Outcome == event.OutcomeSuccess {
			e.Audit.Result = "success"
		}
	}
	n.otherData(e, r)
	if r.Type == TypeLogin {
		n.loginTarget(e, r)
	}
}

// loginTarget records the login uid a LOGIN record set.
func (n *Normalizer) loginTarget(e *event.Event, r *Record) {
	if v, ok := r.Get("auid"); ok {
		t := &n.scratch.target
		*t = event.User{AuditID: n.idValue(v)}
		e.Target = t
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func findType(recs []*Record, t uint16) (*Record, bool) {
	for _, r := range recs {
		if r.Type == t {
			return r, true
		}
	}
	return nil, false
}

// dataKV keeps a few raw SYSCALL fields operators filter on.
func (n *Normalizer) dataKV(e *event.Event, sys *Record) {
	for _, k := range [...]string{"items", "a0", "a1", "a2", "a3"} {
		if v, ok := sys.Get(k); ok {
			e.Audit.Data = append(e.Audit.Data, event.KV{Key: k, Value: n.str(v)})
		}
	}
}

// execArgs assembles argv from the EXECVE records of an event: aN=value,
// and for an argument longer than the kernel's per-record budget
// (MAX_EXECVE_AUDIT_LEN, 7500 bytes) aN_len=TOTAL followed by aN[0]=,
// aN[1]=... chunks, possibly spread over several EXECVE records.
func (n *Normalizer) execArgs(e *event.Event, recs []*Record) []string {
	argc := -1
	n.args = n.args[:0]
	n.argSet = n.argSet[:0]
	dropped := 0
	for _, r := range recs {
		if r.Type != TypeExecve {
			continue
		}
		for _, f := range r.Fields {
			k := f.Key
			if string(k) == "argc" {
				if v, ok := ParseInt(f.Value); ok && v >= 0 && argc < 0 {
					argc = int(v)
				}
				continue
			}
			if len(k) < 2 || k[0] != 'a' || k[1] < '0' || k[1] > '9' {
				continue
			}
			// aN, aN_len, aN[i]
			j := 1
			idx := 0
			for j < len(k) && k[j] >= '0' && k[j] <= '9' && j < 9 {
				idx = idx*10 + int(k[j]-'0')
				j++
			}
			if idx >= maxExecArgs {
				dropped++
				continue
			}
			for len(n.args) <= idx {
				n.args = append(n.args, nil)
				n.argSet = append(n.argSet, false)
			}
			switch {
			case j == len(k): // aN=
				n.args[idx] = AppendString(n.args[idx][:0], f)
				n.argSet[idx] = true
			case k[j] == '[': // aN[i]= chunk, appended in arrival order
				n.args[idx] = AppendRawString(n.args[idx], f)
				n.argSet[idx] = true
			}
		}
	}
	// The list is as long as the arguments the records hold, never sized
	// from argc alone (a corrupt argc must not allocate a million slots).
	out := make([]string, len(n.args))
	missing := 0
	for i := range out {
		if n.argSet[i] {
			out[i] = string(n.args[i])
			n.args[i] = n.args[i][:0]
			n.argSet[i] = false
		} else {
			missing++ // a hole: left "" in place so positions stay right
		}
	}
	if argc > len(out) {
		missing += argc - len(out)
	}
	missing += dropped
	if missing > 0 {
		n.Stats.ExecArgsMissing++
		e.Audit.Data = append(e.Audit.Data,
			event.KV{Key: "argc", Value: strconv.Itoa(argc)},
			event.KV{Key: "args_missing", Value: strconv.Itoa(missing)})
	}
	return out
}

// maxExecArgs bounds the argument index taken from EXECVE records. The
// kernel's own bound is ARG_MAX bytes (about 1 M one-byte arguments);
// beyond 128 Ki arguments they are counted as missing, not stored.
const maxExecArgs = 1 << 17

// AppendRawString is AppendString without the cut at NUL, for the chunks
// of a split argument.
func AppendRawString(dst []byte, f Field) []byte {
	if f.Quote == 0 && IsHex(f.Value) {
		return AppendHexDecoded(dst, f.Value)
	}
	return append(dst, f.Value...)
}

// pickPath chooses the PATH record an event is about: the first of
// nametype prefer when given, else the first whose nametype is not PARENT
// (the directory of a created or deleted entry), else the first. A
// relative name is made absolute with cwd when cwd is not empty.
func (n *Normalizer) pickPath(paths []*Record, cwd string, prefer string) *event.File {
	var pick *Record
	for _, p := range paths {
		nt, _ := p.Get("nametype")
		if nt == nil {
			nt, _ = p.Get("objtype")
		}
		if prefer != "" && string(nt) == prefer {
			pick = p
			break
		}
		if pick == nil && string(nt) != "PARENT" {
			pick = p
		}
	}
	if pick == nil && len(paths) > 0 {
		pick = paths[0]
	}
	if pick == nil {
		return nil
	}
	f := &n.scratch.file
	if prefer == "DELETE" {
		f = &n.scratch.file2 // rename asks for the source, then the target
	}
	*f = event.File{}
	if nf, ok := pick.Field("name"); ok && string(nf.Value) != "(null)" {
		f.Path = n.decoded(nf)
		if f.Path != "" && f.Path[0] != '/' && cwd != "" {
			f.Path = strings.TrimSuffix(cwd, "/") + "/" + strings.TrimPrefix(f.Path, "./")
		}
	}
	if v, ok := pick.Get("inode"); ok {
		f.Inode = n.str(v)
	}
	if v, ok := pick.Get("mode"); ok {
		f.Mode = n.str(v)
	}
	if v, ok := pick.Get("ouid"); ok {
		f.UID = n.str(v)
	}
	if v, ok := pick.Get("ogid"); ok {
		f.GID = n.str(v)
	}
	if v, ok := pick.Get("dev"); ok {
		f.Device = n.str(v)
	}
	if v, ok := pick.Get("nametype"); ok {
		f.NameType = n.str(v)
	} else if v, ok := pick.Get("objtype"); ok {
		f.NameType = n.str(v)
	}
	return f
}

// Open flags (include/uapi/asm-generic/fcntl.h; the same values on x86_64
// and aarch64).
const (
	oAccMode = 0x3
	oWronly  = 0x1
	oRdwr    = 0x2
	oCreat   = 0x40
	oTrunc   = 0x200
)

// fileOp classifies a file syscall: the operation and the ECS event.type.
func fileOp(sc string, sys *Record, created bool) (op string, typ event.Type, ok bool) {
	switch sc {
	case "open", "openat", "openat2", "open_by_handle_at", "creat":
		flagArg := "a1"
		if sc == "openat" || sc == "open_by_handle_at" {
			flagArg = "a2"
		}
		if sc == "creat" {
			if !created {
				return "write", event.TypeChange, true // creat on an existing file truncates it
			}
			return "create", event.TypeCreation, true
		}
		if sc == "openat2" {
			// a2 points at struct open_how: flags are not in the record.
			return "open", event.TypeAccess, true
		}
		v, _ := sys.Get(flagArg)
		fl, err := strconv.ParseUint(string(v), 16, 64)
		if err != nil {
			return "open", event.TypeAccess, true
		}
		switch {
		case fl&oCreat != 0 && created:
			// O_CREAT creates only when the name did not exist: the
			// kernel then writes a PATH item with nametype=CREATE.
			return "create", event.TypeCreation, true
		case fl&oCreat != 0:
			return "write", event.TypeChange, true
		case fl&oTrunc != 0, fl&oAccMode == oWronly, fl&oAccMode == oRdwr:
			return "write", event.TypeChange, true
		}
		return "read", event.TypeAccess, true
	case "truncate", "ftruncate":
		return "write", event.TypeChange, true
	case "unlink", "unlinkat", "rmdir":
		return "delete", event.TypeDeletion, true
	case "rename", "renameat", "renameat2":
		return "rename", event.TypeChange, true
	case "mkdir", "mkdirat", "mknod", "mknodat":
		return "create", event.TypeCreation, true
	case "link", "linkat", "symlink", "symlinkat":
		return "link", event.TypeCreation, true
	case "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "fchownat", "lchown",
		"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
		"utime", "utimes", "utimensat", "futimesat":
		return "attr", event.TypeChange, true
	case "read", "readv", "pread64", "write", "writev", "pwrite64", "close",
		"stat", "lstat", "fstat", "newfstatat", "statx", "access", "faccessat", "faccessat2", "readlink", "readlinkat",
		"getxattr", "lgetxattr", "fgetxattr", "listxattr":
		if strings.HasPrefix(sc, "write") || strings.HasPrefix(sc, "pwrite") {
			return "write", event.TypeChange, true
		}
		return "read", event.TypeAccess, true
	}
	return "", "", false
}

// hasNameType reports whether any PATH record has the given nametype.
func hasNameType(paths []*Record, nt string) bool {
	for _, p := range paths {
		if v, ok := p.Get("nametype"); ok && string(v) == nt {
			return true
		}
	}
	return false
}

// atFDCWD is AT_FDCWD (-100) as the record prints a0, in 64 or 32 bits.
const atFDCWD64, atFDCWD32 = "ffffffffffffff9c", "ffffff9c"

// dirIsCWD reports whether a file syscall's relative names are relative to
// the working directory: always for the plain calls, and for the *at calls
// only when their directory argument is AT_FDCWD. Otherwise the name is
// relative to a directory fd the record does not name (rm -rf walks trees
// with unlinkat(dirfd, name)), and joining it with the cwd would invent a
// path.
func dirIsCWD(sc string, sys *Record) bool {
	if !strings.HasSuffix(sc, "at") && !strings.HasSuffix(sc, "at2") && sc != "open_by_handle_at" {
		return true
	}
	v, _ := sys.Get("a0")
	return string(v) == atFDCWD64 || string(v) == atFDCWD32
}

// canonicalSyscall maps 32-bit ABI variants to the name whose semantics
// they share, so classification needs one list.
func canonicalSyscall(sc string, sys *Record) string {
	switch sc {
	case "setuid32", "setreuid32", "setresuid32", "setfsuid32", "setgid32", "setregid32", "setresgid32",
		"setfsgid32", "setgroups32", "chown32", "lchown32", "fchown32":
		return sc[:len(sc)-2]
	case "socketcall":
		// include/uapi/linux/net.h SYS_* call numbers.
		v, _ := sys.Get("a0")
		switch string(v) {
		case "2":
			return "bind"
		case "3":
			return "connect"
		case "4":
			return "listen"
		case "5":
			return "accept"
		case "b":
			return "sendto"
		case "c":
			return "recvfrom"
		case "10":
			return "sendmsg"
		case "11":
			return "recvmsg"
		case "12":
			return "accept4"
		}
	}
	return sc
}

func fileAction(op string) event.Action {
	switch op {
	case "read", "open":
		return event.ActionOpenedFile
	case "write":
		return event.ActionWroteToFile
	case "create":
		return event.ActionCreated
	case "delete":
		return event.ActionDeleted
	case "rename":
		return event.ActionRenamed
	case "link":
		return event.ActionLinked
	case "attr":
		return event.ActionChangedFileAttributesOf
	}
	return event.Action(op)
}

func (n *Normalizer) network(e *event.Event, sc string, sockaddr *Record) {
	var ep *event.Endpoint
	var nw *event.Network
	if sockaddr != nil {
		if f, ok := sockaddr.Field("saddr"); ok {
			sa, err := DecodeSockaddr(f.Value)
			if err != nil {
				n.Stats.BadSockaddr++
				e.Audit.Data = append(e.Audit.Data, event.KV{Key: "saddr", Value: string(f.Value)})
			} else {
				nw = &n.scratch.network
				*nw = event.Network{Family: sa.Family}
				ep = &n.scratch.dest
				*ep = event.Endpoint{IP: n.str([]byte(sa.IP)), Port: sa.Port, Path: sa.Path}
				if sa.FamilyNo == afNetlink {
					ep.Port = int(sa.NlPID) // the netlink port id names the peer
				}
			}
		}
	}
	if sc == "" {
		// A SOCKADDR on a syscall classified otherwise: keep the address.
		if ep != nil {
			e.Dest, e.Network = ep, nw
		}
		return
	}
	if nw == nil {
		nw = &n.scratch.network
		*nw = event.Network{}
	}
	e.Network = nw
	switch sc {
	case "connect":
		e.Category, e.Type, e.Action = event.CategoryNetwork, event.TypeConnection, event.ActionConnectedTo
		nw.Direction = "egress"
		e.Dest = ep
	case "bind":
		e.Category, e.Type, e.Action = event.CategoryNetwork, event.TypeStart, event.ActionBoundSocket
		e.Source = ep
	case "listen":
		e.Category, e.Type, e.Action = event.CategoryNetwork, event.TypeStart, event.ActionListenForConnections
		nw.Direction = "listening"
	case "accept", "accept4":
		e.Category, e.Type, e.Action = event.CategoryNetwork, event.TypeConnection, event.ActionAcceptedConnectionFrom
		nw.Direction = "ingress"
		e.Source = ep
	case "sendto", "sendmsg", "sendmmsg":
		e.Category, e.Type, e.Action = event.CategoryNetwork, event.TypeInfo, event.ActionSentMessageTo
		nw.Direction = "egress"
		e.Dest = ep
	default: // recv*
		e.Category, e.Type, e.Action = event.CategoryNetwork, event.TypeInfo, event.ActionReceivedFrom
		nw.Direction = "ingress"
		e.Source = ep
	}
}

// setid records the identity a setuid-family call asked for. Arguments are
// hex; (uid_t)-1 means "leave unchanged".
func (n *Normalizer) setid(e *event.Event, sc string, sys *Record) {
	e.Category, e.Type, e.Action = event.CategoryIam, event.TypeChange, event.ActionChangedIdentityOf
	arg := func(k string) string {
		v, ok := sys.Get(k)
		if !ok {
			return ""
		}
		x, err := strconv.ParseUint(string(v), 16, 64)
		if err != nil || uint32(x) == 0xffffffff {
			return ""
		}
		return strconv.FormatUint(uint64(uint32(x)), 10)
	}
	t := &n.scratch.target
	*t = event.User{}
	switch sc {
	case "setuid":
		t.ID = arg("a0")
	case "setfsuid":
		t.FilesysID = arg("a0")
	case "setreuid":
		t.ID, t.EffectiveID = arg("a0"), arg("a1")
	case "setresuid":
		t.ID, t.EffectiveID, t.SavedID = arg("a0"), arg("a1"), arg("a2")
	case "setgid", "setfsgid": // event.User has no fs gid: the gid it sets
		t.GroupID = arg("a0")
	case "setregid", "setresgid":
		t.GroupID, t.EffGroupID = arg("a0"), arg("a1")
	case "capset":
		e.Action = event.ActionChangedCapabilities
	case "setgroups":
		e.Action = event.ActionChangedGroups
	}
	if *t != (event.User{}) {
		e.Target = t
	}
}

// other normalises single records that are not syscall events: user-space
// messages (PAM, sshd, sudo, useradd...), audit configuration changes,
// daemon records, LSM denials, and types this build does not know.
func (n *Normalizer) other(e *event.Event, r *Record) {
	n.subject(e, r)
	e.Outcome = n.outcome(r)
	switch e.Outcome {
	case event.OutcomeSuccess:
		e.Audit.Result = "success"
	case event.OutcomeFailure:
		e.Audit.Result = "fail"
	}
	cl, ok := recordClasses[r.Type]
	if !ok {
		cl = recordClass{event.CategoryHost, event.TypeInfo, ""}
		if r.Type >= TypeFirstUser && r.Type <= TypeLastUser || r.Type >= TypeFirstUser2 {
			cl = recordClass{event.CategoryProcess, event.TypeInfo, ""}
		}
	}
	e.Category, e.Type, e.Action = cl.category, cl.typ, cl.action
	if e.Action == "" {
		e.Action = event.Action(strings.ToLower(strings.ReplaceAll(n.typeName(r), "_", "-")))
	}
	n.otherData(e, r)
	if r.Type == TypeLogin {
		// LOGIN: the login uid was set (auid) for a new session.
		n.loginTarget(e, r)
	}
	if r.Type == 0 {
		e.Message = "record type " + string(r.TypeName) + " is not known to this build; kept raw under auditd.unparsed"
	}
}

// otherData takes the fields a user-space message, configuration change or
// LSM record carries about its subject and object.
func (n *Normalizer) otherData(e *event.Event, r *Record) {
	for _, f := range r.Fields {
		switch string(f.Key) {
		case "acct":
			// The account the message is about (logging in, being
			// authorised, changed): not the sender, whose uid is user.id.
			t := &n.scratch.target
			if e.Target != t {
				*t = event.User{}
				e.Target = t
			}
			t.Name = n.decoded(f)
		case "id":
			if f.Nested {
				t := &n.scratch.target
				if e.Target != t {
					*t = event.User{}
					e.Target = t
				}
				t.ID = n.str(f.Value)
			}
		case "addr":
			if v := string(f.Value); v != "?" && v != "" {
				e.Source = &event.Endpoint{IP: n.str(f.Value)}
			}
		case "hostname", "terminal", "op", "unit", "grantors", "cmd", "audit_enabled", "audit_pid",
			"audit_backlog_limit", "audit_failure", "list", "old", "new", "ver", "format", "kernel",
			"new-auid", "old-auid", "new-ses", "old-ses", "old_auid", "new_auid", "old_ses", "new_ses",
			"seresult", "seperms", "profile", "operation", "name", "apparmor", "denied_mask", "requested_mask",
			"sig", "reason", "tclass", "scontext", "tcontext", "dev", "prom", "old_prom", "family", "table", "entries":
			if len(f.Value) == 0 || string(f.Value) == "?" {
				continue
			}
			v := n.decoded(f)
			e.Audit.Data = append(e.Audit.Data, event.KV{Key: n.str(f.Key), Value: v})
		}
	}
}

type recordClass struct {
	category event.Category
	typ      event.Type
	action   event.Action
}

// recordClasses follows Auditbeat's normalisations of the same record
// types (aucoalesce/normalizations.yaml), so both name them alike. Keyed by
// name and resolved to numbers once, so a typo cannot hide behind a number.
var recordClasses = func() map[uint16]recordClass {
	byName := map[string]recordClass{
		"USER_AUTH":         {event.CategoryAuthentication, event.TypeInfo, event.ActionAuthenticated},
		"USER_ACCT":         {event.CategoryAuthentication, event.TypeInfo, event.ActionWasAuthorized},
		"USER_MGMT":         {event.CategoryIam, event.TypeChange, event.ActionModifiedUserAccount},
		"CRED_ACQ":          {event.CategoryAuthentication, event.TypeInfo, event.ActionAcquiredCredentials},
		"CRED_DISP":         {event.CategoryAuthentication, event.TypeInfo, event.ActionDisposedCredentials},
		"CRED_REFR":         {event.CategoryAuthentication, event.TypeInfo, event.ActionRefreshedCredentials},
		"USER_START":        {event.CategorySession, event.TypeStart, event.ActionStartedSession},
		"USER_END":          {event.CategorySession, event.TypeEnd, event.ActionEndedSession},
		"USER_AVC":          {event.CategoryProcess, event.TypeInfo, event.ActionAccessPermission},
		"USER_CHAUTHTOK":    {event.CategoryIam, event.TypeChange, event.ActionChangedPassword},
		"USER_ERR":          {event.CategoryAuthentication, event.TypeInfo, event.ActionError},
		"USYS_CONFIG":       {event.CategoryConfiguration, event.TypeChange, event.ActionChangedConfiguration},
		"USER_LOGIN":        {event.CategoryAuthentication, event.TypeStart, event.ActionLoggedIn},
		"USER_LOGOUT":       {event.CategoryAuthentication, event.TypeEnd, event.ActionLoggedOut},
		"ADD_USER":          {event.CategoryIam, event.TypeCreation, event.ActionAddedUserAccount},
		"DEL_USER":          {event.CategoryIam, event.TypeDeletion, event.ActionDeletedUserAccount},
		"ADD_GROUP":         {event.CategoryIam, event.TypeCreation, event.ActionAddedGroupAccountTo},
		"DEL_GROUP":         {event.CategoryIam, event.TypeDeletion, event.ActionDeletedGroupAccountFrom},
		"CHGRP_ID":          {event.CategoryIam, event.TypeChange, event.ActionChangedGroup},
		"CHUSER_ID":         {event.CategoryIam, event.TypeChange, event.ActionChangedUserId},
		"GRP_MGMT":          {event.CategoryIam, event.TypeChange, event.ActionModifiedGroupAccount},
		"GRP_CHAUTHTOK":     {event.CategoryIam, event.TypeChange, event.ActionChangedGroupPassword},
		"ACCT_LOCK":         {event.CategoryIam, event.TypeChange, event.ActionLockedAccount},
		"ACCT_UNLOCK":       {event.CategoryIam, event.TypeChange, event.ActionUnlockedAccount},
		"USER_CMD":          {event.CategoryProcess, event.TypeInfo, event.ActionRanCommand},
		"USER_TTY":          {event.CategoryProcess, event.TypeInfo, event.ActionTyped},
		"TTY":               {event.CategoryProcess, event.TypeInfo, event.ActionTyped},
		"SYSTEM_BOOT":       {event.CategoryHost, event.TypeStart, event.ActionBooted},
		"SYSTEM_SHUTDOWN":   {event.CategoryHost, event.TypeEnd, event.ActionShutdown},
		"SYSTEM_RUNLEVEL":   {event.CategoryHost, event.TypeChange, event.ActionChangedToRunlevel},
		"SERVICE_START":     {event.CategoryProcess, event.TypeStart, event.ActionStartedService},
		"SERVICE_STOP":      {event.CategoryProcess, event.TypeEnd, event.ActionStoppedService},
		"SOFTWARE_UPDATE":   {event.CategoryPackage, event.TypeChange, event.ActionUpdatedSoftware},
		"DAEMON_START":      {event.CategoryProcess, event.TypeStart, event.ActionStartedAudit},
		"DAEMON_END":        {event.CategoryProcess, event.TypeEnd, event.ActionStoppedAudit},
		"DAEMON_ABORT":      {event.CategoryProcess, event.TypeEnd, event.ActionAbortedAudit},
		"DAEMON_CONFIG":     {event.CategoryConfiguration, event.TypeChange, event.ActionConfiguredAudit},
		"DAEMON_ROTATE":     {event.CategoryConfiguration, event.TypeChange, event.ActionRotatedLogs},
		"DAEMON_RESUME":     {event.CategoryProcess, event.TypeStart, event.ActionResumedAudit},
		"CONFIG_CHANGE":     {event.CategoryConfiguration, event.TypeChange, event.ActionChangedAuditConfiguration},
		"LOGIN":             {event.CategoryAuthentication, event.TypeStart, event.ActionChangedLoginIdTo},
		"KERN_MODULE":       {event.CategoryDriver, event.TypeStart, event.ActionLoadedKernelModule},
		"NETFILTER_CFG":     {event.CategoryConfiguration, event.TypeChange, event.ActionLoadedFirewallRule},
		"SECCOMP":           {event.CategoryProcess, event.TypeInfo, event.ActionViolatedSeccompPolicy},
		"AVC":               {event.CategoryProcess, event.TypeInfo, event.ActionViolatedMacPolicy},
		"MAC_STATUS":        {event.CategoryConfiguration, event.TypeChange, event.ActionChangedSelinuxEnforcement},
		"MAC_CONFIG_CHANGE": {event.CategoryConfiguration, event.TypeChange, event.ActionChangedSelinuxBoolean},
		"MAC_POLICY_LOAD":   {event.CategoryConfiguration, event.TypeChange, event.ActionLoadedSelinuxPolicy},
		"ANOM_PROMISCUOUS":  {event.CategoryNetwork, event.TypeChange, event.ActionChangedPromiscuousModeOnDevice},
		"ANOM_ABEND":        {event.CategoryProcess, event.TypeEnd, event.ActionCrashed},
		"ANOM_LINK":         {event.CategoryFile, event.TypeInfo, event.ActionLinked},
	}
	m := make(map[uint16]recordClass, len(byName))
	for name, c := range byName {
		t, ok := typeByName[name]
		if !ok {
			panic("audit: record class for unknown type " + name)
		}
		m[t] = c
	}
	return m
}()

// errnoName returns the errno name for n (EACCES for 13), from go-libaudit's
// table, so exit=-13 reads as ausearch -i shows it.
func errnoName(n int64) string { return auparse.AuditErrnoToName[int(n)] }
