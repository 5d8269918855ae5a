// Package agent wires lineaged's sources, lineage graph, detection and
// outputs into one pipeline, for the live agent (lineaged run: Run) and
// for replay (lineaged replay: Replay, RunReplay) alike (SPEC §8).
//
// Pipeline is the one path every event takes: redact the command line,
// enrich it with its process's ancestry from the graph (one graph per
// host), number it, write it, let the detector judge it (alerts come
// back into the pipeline), let the live view see it. Run and Replay
// differ only in their sources and their clock; Agreement checks that
// the same records give the same lines through both.
//
// Live, the sources are audit (own or multicast), the proc connector,
// fanotify and sock_diag (each an event.Source). One goroutine polls
// audit and the connector and owns the pipeline; fanotify and sock_diag,
// whose reads block, each run in a goroutine that hands batches over.
// The exec merge (merge.go) makes one event of an exec both audit and the
// connector report. Settings come from the configuration through
// FromConfig, at start and on every reload; what only a restart can
// change keeps its running value (KeepRestartOnly).
//
// The package also holds what lineaged runs around the pipeline: the
// outputs (the events file, rotated; a copy to syslog and to Kafka; the
// native audit.log), the metrics endpoint, the live view's server, the baseline
// file's life (learn, save, resume) and the Sigma rules' loading.
//
// # Privileges
//
// Run needs root: the sources need CAP_AUDIT_CONTROL or CAP_AUDIT_READ,
// CAP_NET_ADMIN (the proc connector before 6.6), CAP_SYS_ADMIN
// (fanotify) and CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH (/proc, network
// namespaces). Replay needs none.
//
// # Portability
//
// Run is Linux only (live_others.go says so); the pipeline, replay,
// detection and the outputs build and run on any GOOS.
package agent
