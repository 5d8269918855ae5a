// Package ui serves lineaged's live local view (lineaged run --ui ADDR):
// one self-contained HTML page and the JSON API behind it.
//
// # What it shows
//
// The agent calls Observe for every event it writes. From those the
// Server keeps
//   - the process-lineage tree: one node per process instance, keyed by
//     process.entity_id ("pid:N" when an event has none), created by
//     execs, processes found running at start ("existing"), forks, and
//     any event naming a process; the event's parent and ancestry create
//     the nodes above it, so live the tree reaches pid 1. Short-lived
//     processes stay visible with their exit time and code after they
//     exit;
//   - the alert stream (events of kind alert), each alert also counted on
//     its process's node;
//   - counters: events observed, by category.
//
// Source health is not kept here: Config.Health is asked on each request.
//
// The page (GET /) polls GET /api/processes, /api/alerts and /api/health
// once a second and draws the source table, the alerts, and the tree,
// with exited processes greyed and alerted ones marked, and a filter on
// executable and arguments. It uses no external resource and no framework.
//
// Only plain events change a process's lifecycle: alerts and
// alert-repeated reports are copies of older events, so they refresh the
// node and count but never exec or exit the process again. A process's program
// changes only on a successful exec, never on another event's executable.
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
// Memory does not grow with the event stream. At most MaxProcesses nodes
// are kept (default 4096): when over, the oldest exited go first, taken
// from a queue of exits in the order they were observed (O(1) each); only
// when no exited process is left do the running ones go, least recently
// seen first (an ancestor counts as seen whenever a descendant starts or
// exits, so leaves go before the trunk), down to 7/8 of the bound so that
// sort is paid once per MaxProcesses/8 new processes. An exited process
// leaves ExitedTTL (default 10 minutes, wall clock) after its exit,
// checked every 256 events and on each /api/processes request; an exit
// reported out of order may leave a little late. The exit queue is
// compacted when it holds more than two entries per kept node. A node
// keeps at most 16 arguments and 512 bytes of them (a cut list ends in
// "…"). Alerts are a ring of MaxAlerts (default 500). /api/processes
// returns the ?limit= (default 2000, at most MaxProcesses) most recently
// started processes plus their ancestors.
//
// Observe copies every string and slice it keeps (the caller reuses the
// event's memory); executables and user ids go through a bounded intern
// table, so it allocates only for a process it has not seen, an exec's
// command line, or an alert. An event of a process already in the view
// whose parent is too costs two map lookups and no allocation.
package ui
