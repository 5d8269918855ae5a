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
// Per process (by entity id, dropped 5 s of event time after its exit —
// sources interleave, and the proc connector may report a server's exit
// before audit delivers the shell it started —, at most 65536 with the
// idlest half evicted past that): whether it listened on an IP port, its
// last connect out (for 60 s), and its last four events, the evidence an
// alert carries beside the event that raised it.
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
