// Package baseline learns what is normal on a host (SPEC §3) and keeps it
// in a file an operator can read, diff, merge and approve entries into.
//
// # Entries and keys
//
// A baseline is a set of entries, each a canonical key with a count and
// the first and last time it was seen. A key is its kind and fields joined
// by "|" (a field's own "%", "|", control bytes and invalid UTF-8 are
// written %XX; an unknown value is "?"):
//
//	exec-edge|CHAIN|EXE           exe executed below the chain of its 3 nearest ancestors
//	user-exe|UID|EXE              uid ran exe
//	file-access|EXE|OP|PATH       exe did OP (read, write, exec) on PATH
//	listen|EXE|PORT               exe listened on PORT (a number, "ephemeral", or unix:PATH)
//	connect|EXE|ENDPOINT          exe connected to CLASS:PORT (e.g. public:443) or unix:PATH
//	uid-transition|EXE|FROM|TO    exe moved from uid FROM to uid TO
//	rule-match|RULE|EXE           an external (Sigma) rule matched what exe did, and that is normal here
//
// e.g. "exec-edge|systemd>sshd>bash|/usr/bin/id". Paths and executables
// are generalised (Path, Exe), ports and endpoints classified (Port,
// Endpoint), chains rendered by Chain, so volatile parts (pids, temp
// names, versions, home directories, ephemeral ports) do not make every
// sighting new. EventKeys says which keys an event.Event touches;
// ObserveEvent records them.
//
// # Novel, rare, common
//
// Status tells a key Novel (absent), Rare (known but seen fewer than
// RareRule.MinCount times, or less than RareRule.MinFraction of its
// group: the kind and first field, e.g. everything one executable reads),
// or Common. Approved entries are always Common.
//
// # Files
//
// Save writes the JSON-lines format described in file.go crash-safely;
// Load reads it back, naming FILE:LINE on any error. Merge, Diff, Approve
// and Expire implement "lineaged baseline merge/diff/approve" and the
// expiry of entries unseen for a configured age.
package baseline
