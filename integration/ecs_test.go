package integration

import (
	"strings"
	"sync"
	"testing"

	"github.com/lineaged/lineaged/internal/ecs"
)

var ecsSchema = sync.OnceValues(func() (*ecs.Schema, error) {
	p, err := ecs.Find(".")
	if err != nil {
		return nil, err
	}
	return ecs.Load(p)
})

// checkECS fails t on a line of lineaged's output that is not ECS 9.4
// (or lineaged.*, auditd.*, user.audit.*): every integration test reads
// its output through runReplay or readEvents, which call it.
func checkECS(t *testing.T, line []byte) {
	t.Helper()
	s, err := ecsSchema()
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Check(line); len(p) > 0 {
		t.Fatalf("an output line is not ECS 9.4:\n%s\n%s", strings.Join(p, "\n"), line)
	}
}
