package output

import "fmt"

// Ancestry is output.ancestry: how much each element of lineaged.ancestry
// carries (SPEC §5). Every line repeats its process's whole chain, so this
// is most of a line's bytes.
type Ancestry uint8

// Ancestry modes.
const (
	// AncestryCompact: entity id and pid of the parent (process.parent
	// has it whole), entity id, pid and executable farther up.
	AncestryCompact Ancestry = iota
	// AncestryFull: entity id, pid, executable, args (bounded) and uid of
	// every ancestor.
	AncestryFull
	// AncestryIDs: entity id and pid only, in lineaged.ancestry and in
	// process.parent; a consumer joins on entity_id.
	AncestryIDs
)

func (a Ancestry) String() string {
	switch a {
	case AncestryFull:
		return "full"
	case AncestryIDs:
		return "ids"
	}
	return "compact"
}

// ParseAncestry reads output.ancestry.
func ParseAncestry(s string) (Ancestry, error) {
	switch s {
	case "", "compact":
		return AncestryCompact, nil
	case "full":
		return AncestryFull, nil
	case "ids":
		return AncestryIDs, nil
	}
	return 0, fmt.Errorf("output.ancestry %q: want full, compact or ids", s)
}

// Host is what lineaged knows of the machine it runs on (ECS host.*),
// written into the host object of lines whose host.name is Name: live,
// the local host's events; never on replayed lines of another host.
// Empty members are omitted.
type Host struct {
	Name         string // the host.name the facts belong to
	Hostname     string
	ID           string
	Architecture string
	OSType       string
	OSKernel     string
	OSName       string
	OSVersion    string
	OSFamily     string
	OSPlatform   string
}

// Agent is ECS agent.*: the lineaged writing the line.
type Agent struct {
	Version string
	ID      string
}

// Options choose what an Encoder writes besides the event.
type Options struct {
	Ancestry Ancestry
	// HostDetails writes the local host's facts (Host) and agent.id on
	// every line (output.host_details). Off, they are on lineaged's own
	// events (started, settings, heartbeat, stopped, ...) and on alerts
	// only: the same few hundred bytes on every line would be a tenth
	// of what a SIEM ingests, and host.name names the host everywhere.
	HostDetails bool
	// HostNetNS is the host's network namespace inode (live: pid 1's);
	// lineaged.netns and lineaged.network.netns are written for other
	// namespaces only (containers, ip netns), where they say something.
	HostNetNS uint64
	// RecordTypes writes auditd.record_types, the audit records each
	// event was made of (output.record_types; off by default: it is the
	// same few names on every exec line).
	RecordTypes bool
	Host        *Host // nil: host.name only
	Agent       Agent
}

// Encoder writes events as JSON lines (Append). Its fixed parts (agent.*,
// the local host's facts) are encoded once, when it is made. It holds no
// per-line state: one Encoder may be used from several goroutines.
type Encoder struct {
	ancestry    Ancestry
	recordTypes bool
	hostDetails bool
	hostNetNS   uint64
	agentWithID []byte // `,"agent":{...,"id":...}`
	agent       []byte // `,"agent":{...}`
	hostName    string
	hostFacts   []byte // members after host.name
}

// NewEncoder returns an Encoder for o.
func NewEncoder(o Options) *Encoder {
	enc := &Encoder{ancestry: o.Ancestry, recordTypes: o.RecordTypes, hostDetails: o.HostDetails, hostNetNS: o.HostNetNS}
	a := []byte(`,"agent":{"type":"lineaged"`)
	a = appendStr(a, "version", o.Agent.Version)
	enc.agent = append(a[:len(a):len(a)], '}')
	enc.agentWithID = append(appendStr(a[:len(a):len(a)], "id", o.Agent.ID), '}')
	if h := o.Host; h != nil && h.Name != "" {
		enc.hostName = h.Name
		f := []byte(`{"name":""`)
		mark := len(f)
		f = appendStr(f, "hostname", h.Hostname)
		f = appendStr(f, "id", h.ID)
		f = appendStr(f, "architecture", h.Architecture)
		f, m := openObject(f, "os")
		f = appendStr(f, "type", h.OSType)
		f = appendStr(f, "kernel", h.OSKernel)
		f = appendStr(f, "name", h.OSName)
		f = appendStr(f, "version", h.OSVersion)
		f = appendStr(f, "family", h.OSFamily)
		f = appendStr(f, "platform", h.OSPlatform)
		f = closeObject(f, m)
		enc.hostFacts = f[mark:]
	}
	return enc
}

// AncestryMode is the encoder's output.ancestry.
func (enc *Encoder) AncestryMode() Ancestry { return enc.ancestry }
