// Package ui serves lineaged's live local view (lineaged run --ui ADDR):
// one self-contained HTML page and the JSON API behind it.
//
// # What it shows
//
// The view keeps no process table: the graph (package graph) is
// lineaged's only one. The tree comes from Config.Processes, the graph's
// Snapshot (plain data, so a later view in another process can be given a
// remote snapshot instead): the processes the graph saw most recently and
// their ancestors, with their exit time and code. Exited processes stay
// in the graph for its exit TTL (10 s live); for longer, the Server is
// the graph's eviction callback (Evicted, registered with OnEvict): it
// keeps the exited processes the graph forgets in a ring of MaxExited,
// shown until ExitedTTL after their exit, so a short-lived process stays
// in sight long enough for a person to see it.
//
// The agent calls Observe for every event it writes; from those the
// Server keeps only
//   - the alert stream (events of kind alert), a ring; a process in the
//     tree is marked with the number of kept alerts whose
//     process.entity_id is its own;
//   - counters: events observed, by category.
//
// Source health is not kept here: Config.Health is asked on each request.
//
// The page (GET /) polls GET /api/processes, /api/alerts and /api/health
// once a second and draws the source table, the alerts, and the tree,
// with exited processes greyed and alerted ones marked, and a filter on
// executable and arguments. It uses no external resource and no framework.
//
// # Security
//
// The view shows command lines, which may hold secrets, so:
//   - Start refuses an address that is not loopback (127.0.0.0/8, ::1,
//     localhost; checked again on the bound socket) unless
//     Config.AllowRemote. There is no TLS: a remote view sends the token
//     in the clear and should be reached through ssh -L instead.
//   - Every request needs the token, a fresh 32-byte random value written
//     to Config.TokenFile with mode 0600 (a temporary file created with
//     O_EXCL and renamed into place, so no other user can read it at any
//     moment), as "Authorization: Bearer", ?token= or the HttpOnly,
//     SameSite=Strict cookie the page response sets. It is compared in
//     constant time; a request without it gets 401 and a message that
//     names neither the token nor the file. The page drops ?token= from
//     the address bar once read.
//   - Without AllowRemote a request whose Host header is not a loopback
//     name or address gets 403, which defeats DNS rebinding (a hostile
//     site's name resolved to 127.0.0.1). Any port is accepted, so
//     forwarded ports work.
//   - Every response carries Cache-Control: no-store, nosniff,
//     X-Frame-Options: DENY and Referrer-Policy: no-referrer; the page a
//     Content-Security-Policy of default-src 'none' with a per-response
//     nonce for its one inline style and script. The page inserts API
//     data as text only (textContent), never as markup, since argv, paths
//     and rule reasons come from the monitored host.
//   - Only GET and HEAD are served (405 otherwise); the API is read-only.
//     The http.Server has read, write, idle and header timeouts and a
//     16 KiB header limit.
//
// # Bounds
//
// Memory does not grow with the event stream: alerts are a ring of
// MaxAlerts (default 500), evicted exited processes a ring of MaxExited
// (default 1024; an entry shares its strings with the graph's node, which
// never changes them), and the category counters at most 32.
// /api/processes asks the graph for the ?limit= (default 2000, at most
// MaxProcesses, default 4096) processes it saw most recently plus their
// ancestors, and adds at most as many evicted exited ones; the graph caps
// each process's arguments (graph.SnapshotMaxArgs, SnapshotMaxArgBytes; a
// cut list ends in "…"), and an alert's the same way.
//
// Observe copies every string and slice of an alert it keeps (the caller
// reuses the event's memory); for any other event it increments two
// counters, under one lock, without allocating.
package ui
