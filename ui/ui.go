package ui

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
	"github.com/lineaged/lineaged/internal/atomicfile"
)

// Defaults for the zero fields of Config.
const (
	defaultMaxProcesses = 4096
	defaultMaxAlerts    = 500
	defaultMaxExited    = 1024
	defaultExitedTTL    = 10 * time.Minute
)

// Health is one source's state, supplied by the agent.
type Health = event.Health

// Config sets where the view is served, who may read it, and how much it
// keeps.
type Config struct {
	// Addr is the TCP address to listen on, e.g. "127.0.0.1:7300"; port 0
	// picks a free port (Addr tells which after Start).
	Addr string
	// AllowRemote lets Addr be other than loopback (127.0.0.0/8, ::1,
	// "localhost") and turns off the Host header check. The view is
	// plain HTTP: anyone on the path sees the token.
	AllowRemote bool
	// TokenFile is where Start writes the access token, mode 0600 (its
	// directory is created 0700 if missing). Empty: no file; the token is
	// then only available from Token.
	TokenFile string
	// Health is called once per /api/health request; may be nil.
	Health func() []Health
	// Host is the host name shown in the page title.
	Host string
	// Processes returns the process tree to draw: the limit processes
	// seen most recently and their ancestors, as graph.Graph.Snapshot
	// does (the live graph's Snapshot, or a function that fetches one
	// from another process). It is called once per /api/processes
	// request, from the request's goroutine, without the Server's lock,
	// and must return a slice of its own (the Server appends to it and
	// sorts it). nil: no tree.
	Processes func(limit int) []graph.Node
	// MaxProcesses bounds the limit asked of Processes (default 4096).
	MaxProcesses int
	// MaxAlerts bounds the alerts kept (default 500), a ring.
	MaxAlerts int
	// MaxExited bounds the exited processes kept after the graph evicted
	// them (Evicted), a ring (default 1024).
	MaxExited int
	// ExitedTTL is how long an exited process the graph evicted stays in
	// the view after its exit (default 10 minutes), measured against the
	// wall clock.
	ExitedTTL time.Duration
	// Log reports serving errors (zero: none). The token is never logged.
	Log zerolog.Logger
}

// Server is the live view: the state Observe fills and the HTTP server
// that serves it.
type Server struct {
	cfg     Config
	token   string
	handler http.Handler
	page    pageTemplate
	started time.Time
	now     func() time.Time // the clock of ExitedTTL; tests replace it
	log     zerolog.Logger   // cfg.Log, with component=ui

	// Set once from cfg.
	maxProcs  int
	maxAlerts int
	maxExited int
	exitedTTL int64 // msec

	mu         sync.Mutex   // guards the view below
	exited     []graph.Node // exited processes the graph evicted, a ring (Evicted)
	exitedNext int          // ring position of the oldest once len(exited) == maxExited
	alerts     []alertJSON
	alertNext  int // ring position of the oldest alert once len(alerts) == maxAlerts
	alertsSeen uint64
	events     uint64
	byCategory map[string]*uint64

	life      sync.Mutex // guards the serving state below
	srv       *http.Server
	addr      string
	tokenFile string // the file Start wrote, "" when none
	closed    bool
}

// New makes a Server with a fresh random token. Nothing is served until
// Start; Handler serves in-process (tests).
func New(cfg Config) *Server {
	if cfg.MaxProcesses <= 0 {
		cfg.MaxProcesses = defaultMaxProcesses
	}
	if cfg.MaxAlerts <= 0 {
		cfg.MaxAlerts = defaultMaxAlerts
	}
	if cfg.MaxExited <= 0 {
		cfg.MaxExited = defaultMaxExited
	}
	if cfg.ExitedTTL <= 0 {
		cfg.ExitedTTL = defaultExitedTTL
	}
	s := &Server{
		cfg:        cfg,
		token:      newToken(),
		started:    time.Now(),
		now:        time.Now,
		maxProcs:   cfg.MaxProcesses,
		maxAlerts:  cfg.MaxAlerts,
		maxExited:  cfg.MaxExited,
		exitedTTL:  cfg.ExitedTTL.Milliseconds(),
		byCategory: make(map[string]*uint64),
	}
	s.log = cfg.Log.With().Str("component", "ui").Logger()
	s.page = newPageTemplate(cfg.Host)
	s.handler = s.routes()
	return s
}

// newToken returns 32 random bytes in hex. crypto/rand.Read does not fail
// (it aborts the program if the system's generator is broken).
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Token is the secret every request must carry.
func (s *Server) Token() string { return s.token }

// Handler is the view's HTTP handler, with the Host and token checks and
// the security headers: the one Start serves.
func (s *Server) Handler() http.Handler { return s.handler }

// Addr is the address Start bound ("" before Start).
func (s *Server) Addr() string {
	s.life.Lock()
	defer s.life.Unlock()
	return s.addr
}

// Start listens on Config.Addr, writes the token file and serves in a
// goroutine. It refuses an address that is not loopback unless
// AllowRemote is set.
func (s *Server) Start() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.srv != nil || s.closed {
		return errors.New("ui: already started (or closed)")
	}
	if err := checkListenAddr(s.cfg.Addr, s.cfg.AllowRemote); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	// "localhost" is whatever the resolver says: check what was bound.
	if ta, ok := ln.Addr().(*net.TCPAddr); !s.cfg.AllowRemote && (!ok || !ta.IP.IsLoopback()) {
		ln.Close()
		return fmt.Errorf("ui: %s resolved to %s, which is not loopback", s.cfg.Addr, ln.Addr())
	}
	if s.cfg.TokenFile != "" {
		if err := writeToken(s.cfg.TokenFile, s.token); err != nil {
			ln.Close()
			return fmt.Errorf("ui: token file: %w", err)
		}
		s.tokenFile = s.cfg.TokenFile
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(logWriter{s}, "", 0),
	}
	s.addr = ln.Addr().String()
	if s.cfg.AllowRemote {
		if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
			s.log.Warn().Str("addr", s.addr).Msg("live view served beyond loopback over plain HTTP: the token crosses the network unencrypted")
		}
	}
	srv := s.srv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("live view stopped serving")
		}
	}()
	return nil
}

// Close stops serving (waiting briefly for requests in flight) and
// removes the token file if it still holds this Server's token.
func (s *Server) Close() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err = s.srv.Shutdown(ctx); err != nil {
			err = s.srv.Close()
		}
	}
	if s.tokenFile != "" {
		// Another agent started since may have written its own token
		// there: leave that one alone.
		if b, rerr := os.ReadFile(s.tokenFile); rerr == nil && string(b) == s.token {
			if rmErr := os.Remove(s.tokenFile); rmErr != nil && err == nil {
				err = rmErr
			}
		}
	}
	return err
}

// checkListenAddr refuses a non-loopback address unless remote is set.
// An empty host (":7300") means every interface.
func checkListenAddr(addr string, remote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("ui: address %q: %w", addr, err)
	}
	if remote || isLoopbackName(host) {
		return nil
	}
	return fmt.Errorf("ui: %q is not a loopback address (127.0.0.0/8, ::1, localhost); remote access must be allowed explicitly", addr)
}

// isLoopbackName reports whether host (no port, no brackets) is
// "localhost" or a loopback IP.
func isLoopbackName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeToken writes token to path so that it is never readable by others,
// not even for a moment: atomicfile creates a temporary file of mode 0600
// in the same directory and renames it over path, which replaces any old
// file (or symlink) rather than writing through it. The directory is
// created 0700 if missing.
func writeToken(path, token string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, []byte(token), 0o600)
}

// logWriter routes the http.Server's own error log (a client's broken
// request, an accept error) to Config.Log.
type logWriter struct{ s *Server }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.log.Warn().Msg(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
