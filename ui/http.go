package ui

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lineaged/lineaged/graph"
)

// cookieName carries the token after the page was opened with ?token=, so
// a reload without it still works. HttpOnly: the page's script never needs
// it (same-origin fetches send it).
const cookieName = "lineaged_ui_token"

// defaultLimit is /api/processes' limit when the query names none.
const defaultLimit = 2000

// routes builds the handler: the checks every request passes, then the
// mux. The mux answers 405 (with Allow) for methods other than GET and
// HEAD on known paths, and 404 elsewhere.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePage)
	mux.HandleFunc("GET /api/processes", s.serveProcesses)
	mux.HandleFunc("GET /api/alerts", s.serveAlerts)
	mux.HandleFunc("GET /api/health", s.serveHealth)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		// DNS rebinding: a hostile page whose name resolves to 127.0.0.1
		// reaches this port with its own name in Host. It lacks the token
		// anyway; refusing it first tells it nothing, not even that a
		// token is wanted. Any port is accepted, so an ssh -L forward to
		// another local port still works.
		if !s.cfg.AllowRemote && !loopbackHost(r.Host) {
			http.Error(w, "forbidden: the view answers only to a loopback host name", http.StatusForbidden)
			return
		}
		if !s.authorized(r) {
			h.Set("WWW-Authenticate", `Bearer realm="lineaged"`)
			// Neither the token nor the file's path: the operator knows
			// where it is, anyone else need not.
			http.Error(w, "token required: see the token file", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names the loopback interface.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return host != "" && isLoopbackName(host)
}

// authorized reports whether r carries the token, as a bearer header, a
// token= query parameter or the cookie, compared in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		if s.tokenMatches(strings.TrimSpace(a[7:])) {
			return true
		}
	}
	if t := r.URL.Query().Get("token"); t != "" && s.tokenMatches(t) {
		return true
	}
	if c, err := r.Cookie(cookieName); err == nil && s.tokenMatches(c.Value) {
		return true
	}
	return false
}

func (s *Server) tokenMatches(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(s.token)) == 1
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	nonce := newNonce()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; connect-src 'self'; img-src 'self' data:; "+
		"style-src 'nonce-"+nonce+"'; script-src 'nonce-"+nonce+"'; "+
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    s.token,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	_, _ = w.Write(s.page.render(nonce))
}

// procJSON is one process as /api/processes serves it: the graph's node
// (see graph.Node for its fields; times are Unix msec, exit and exit_code
// absent while it runs or when no code was seen) and the alerts the view
// keeps about it.
type procJSON struct {
	*graph.Node
	Alerts int `json:"alerts"`
}

func (s *Server) serveProcesses(w http.ResponseWriter, r *http.Request) {
	limit := defaultLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			http.Error(w, "limit must be a positive integer", http.StatusBadRequest)
			return
		}
		limit = n
	}
	limit = min(limit, s.maxProcs)
	now := s.now().UnixMilli()
	procs := s.processes(now, limit)
	writeJSON(w, struct {
		Now       int64      `json:"now"`
		Processes []procJSON `json:"processes"`
	}{now, procs})
}

// processes is the tree: the graph's snapshot (the limit processes it saw
// most recently and their ancestors), the exited processes it evicted in
// the last ExitedTTL (at most limit more), each with the count of kept
// alerts about it; oldest first, for a stable answer (the page sorts
// siblings itself). The snapshot is taken outside s.mu: it may wait for
// the graph's lock, or (a view in another process) for a remote answer.
func (s *Server) processes(now int64, limit int) []procJSON {
	var nodes []graph.Node
	if s.cfg.Processes != nil {
		nodes = s.cfg.Processes(limit)
	}
	s.mu.Lock()
	kept := s.recentExited(now, limit)
	counts := s.alertCounts()
	s.mu.Unlock()

	// Both lists in order, by pointer (a Node is a few hundred bytes):
	// the snapshot comes sorted from the graph (checked, in case another
	// source's does not), the few kept ones are sorted here, then merged.
	a := pointTo(nodes)
	if !slices.IsSortedFunc(a, byStart) {
		slices.SortFunc(a, byStart)
	}
	b := pointTo(kept)
	slices.SortFunc(b, byStart)
	out := make([]procJSON, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		var next procJSON
		if len(b) == 0 || len(a) > 0 && byStart(a[0], b[0]) <= 0 {
			next, a = a[0], a[1:]
		} else {
			next, b = b[0], b[1:]
		}
		// An exited process may be both in the snapshot (an ancestor
		// the graph keeps through a living child) and kept here: list
		// it once.
		if k := len(out); k > 0 && out[k-1].EntityID == next.EntityID {
			continue
		}
		if next.Args == nil {
			next.Args = []string{}
		}
		next.Alerts = counts[next.EntityID]
		out = append(out, next)
	}
	return out
}

func pointTo(nodes []graph.Node) []procJSON {
	out := make([]procJSON, len(nodes))
	for i := range nodes {
		out[i].Node = &nodes[i]
	}
	return out
}

func byStart(a, b procJSON) int {
	return cmp.Or(cmp.Compare(a.StartMsec, b.StartMsec), strings.Compare(a.EntityID, b.EntityID))
}

func (s *Server) serveAlerts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	alerts := s.alertsNewestFirst()
	total := s.alertsSeen
	s.mu.Unlock()
	for i := range alerts {
		if alerts[i].Techniques == nil {
			alerts[i].Techniques = []string{}
		}
		if alerts[i].Args == nil {
			alerts[i].Args = []string{}
		}
	}
	writeJSON(w, struct {
		Total  uint64      `json:"total"`
		Alerts []alertJSON `json:"alerts"`
	}{total, alerts})
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	// The agent's callback runs outside the lock: it may be slow, and
	// Observe must not wait for it.
	var sources []Health
	if s.cfg.Health != nil {
		sources = s.cfg.Health()
	}
	if sources == nil {
		sources = []Health{}
	}
	s.mu.Lock()
	events, alerts := s.events, s.alertsSeen
	cats := make(map[string]uint64, len(s.byCategory))
	for k, v := range s.byCategory {
		cats[k] = *v
	}
	s.mu.Unlock()
	writeJSON(w, struct {
		Host       string            `json:"host"`
		UptimeS    int64             `json:"uptime_s"`
		Events     uint64            `json:"events"`
		Alerts     uint64            `json:"alerts"`
		ByCategory map[string]uint64 `json:"by_category"`
		Sources    []Health          `json:"sources"`
	}{s.cfg.Host, int64(time.Since(s.started) / time.Second), events, alerts, cats, sources})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
