// Package detect judges enriched events (SPEC §3): built-in detections
// named by MITRE ATT&CK technique, external rules (Sigma, through
// ExternalRules), and novelty against a baseline (package baseline).
//
// An Engine sees every event after the lineage graph has given it its
// ancestry and after the pipeline has given it its event.id, in the
// pipeline's goroutine; it is not safe for concurrent use. Time is event
// time, so a replay of a log and the live run that wrote it judge alike.
//
// # What it remembers
//
// Per process, on the lineage graph's node (a graph.Slot: Observe gets the
// event's graph.Proc beside the event), with no process table of its own:
// whether it listened on an IP port, its last connect out (for 60 s), and
// its last four events, the evidence an alert carries beside the event
// that raised it. The memory lives and goes with the node, so the graph's
// retention is the engine's: an exited process is remembered while the
// graph keeps it (live, 10 s after the exit; its node stays as long as a
// child links to it), which covers the proc connector reporting a
// server's exit before audit delivers the shell it started. A process's
// ancestors are found by walking the node's parent links beside the
// event's ancestry (Proc.Parent), so the same pid on two hosts (replay
// keeps one graph per host) or after pid reuse is never confused.
//
// An alert whose process the graph did not know yet (no executable) waits
// 2 s of event time and is then completed from the node's latest
// exec, or from the exec of the pid's current instance in the same graph
// when the sources named the process twice; a package-manager run is
// kept by its root's entity id until 5 s after the root's exit.
//
// # Learning and detecting
//
// Learning (Config.Learning, until LearnUntilMsec) observes each event's
// baseline keys, except those of an event a detection names at medium
// severity or above: that event is alerted and not learned, so an
// intrusion during learning does not become normal. Rules that judge
// novelty (NeedsBaseline) are silent while learning.
//
// Detecting raises an alert for every finding; an event no rule names
// but whose keys are new to the baseline (exec-edge, user-exe,
// uid-transition, connect; not file access, which varies with input)
// raises one low-severity lineaged.novel alert, while the key is still
// rare (fewer sightings since detection began than RareRule.MinCount).
// An exec-edge whose chain holds an unknown ancestor ("?", a log that
// starts mid-way) is left to the program's user-exe key. Known keys are
// refreshed (count, last seen) so expiry keeps what is still in use;
// novel ones wait for lineaged baseline approve.
//
// Activity below a package manager (dpkg, apt, rpm, yum, dnf, zypper, ...)
// is learned even while detecting and summarised in one
// lineaged.package-manager alert per run (5 s of event time after the
// run's exit, so records a slower source delivers still count; after
// Config.PackageIdle of quiet, or at Flush), unless a detection names it
// at medium or above.
//
// # Noise control
//
// One alert per rule and key per FoldWindow: repeats are counted and
// reported once when the window closes, as an event (kind event, action
// alert-repeated) carrying the rule, the key and the count, whose first
// evidence is the alert. At most RateLimit alerts per rule per RateWindow;
// the rest are counted into one lineaged.rate-limited alert.
//
// External rules (Sigma) at low or medium severity are dropped for an
// event whose baseline keys are all known: behaviour this host shows
// routinely is its normal, whatever a generic rule thinks of it.
package detect
