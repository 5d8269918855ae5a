// Command lineaged is a host intrusion-detection agent for Linux servers
// without eBPF. This file holds flags, signals and nothing else; the work
// is done by package agent.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `lineaged: process-lineage intrusion detection for Linux without eBPF

Usage:
  lineaged replay   [--output FILE|-] [--alerts-only] [--baseline FILE [--learn]] [--sigma DIR]... FILE...|-
  lineaged run      [--config FILE] [--output FILE|-] [--audit-mode auto|own|multicast|off]
                    [--rules-dir DIR] [--audit-log FILE] [--snapshot-every DUR] [--host NAME]
                    [--state-dir DIR] [--batch-window DUR] [--watch PATH]... [--no-file-watch] [--ui ADDR]
  lineaged status   [--json]      (kernel capabilities, audit state)
  lineaged replace-auditd [--undo] [--dry-run]   (stop and disable auditd; --undo gives it back)
  lineaged replay   --learn --baseline FILE [...] FILE...   (build or extend a baseline)
  lineaged rules    [--sigma DIR]...  (built-in and Sigma rules: loaded, skipped and why)
  lineaged baseline show FILE | diff A B | merge -o OUT A B... | approve FILE KEY... | expire --older-than DUR FILE
  lineaged report   [--format html|md|json] [--since TIME] [--until TIME] --out DIR EVENTS.jsonl...
  lineaged schema   [--format elasticsearch|opensearch|markdown] [--index-pattern PATTERN]
  lineaged version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "replay":
		return cmdReplay(args[1:], stdin, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "lineaged %s\n", buildVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "status":
		return cmdStatus(args[1:], stdout, stderr)
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "replace-auditd":
		return cmdReplaceAuditd(args[1:], stdout, stderr)
	case "baseline":
		return cmdBaseline(args[1:], stdout, stderr)
	case "rules":
		return cmdRules(args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "schema":
		return cmdSchema(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "lineaged: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func buildVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}

func runID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
