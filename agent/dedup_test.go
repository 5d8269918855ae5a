package agent

import (
	"testing"

	"github.com/lineaged/lineaged/event"
)

type sinkFunc func(*event.Event) error

func (f sinkFunc) Write(e *event.Event) error { return f(e) }

// written runs evs through a pipeline and returns the actions written.
func written(t *testing.T, evs ...*event.Event) ([]event.Action, PipelineStats) {
	t.Helper()
	var got []event.Action
	p := NewPipeline(PipelineConfig{Host: "h", Graph: liveGraph()}, sinkFunc(func(e *event.Event) error {
		got = append(got, e.Action)
		return nil
	}))
	for _, e := range evs {
		p.Handle(e)
	}
	return got, p.Stats()
}

func exitOf(module event.Module, pid int, at int64) *event.Event {
	code := 0
	return &event.Event{TimeMsec: at, Module: module, Category: event.CategoryProcess, Type: event.TypeEnd,
		Action: event.ActionExited, Process: event.Process{PID: pid, PPID: 1, ExitCode: &code}}
}

// TestExitWrittenOnce: audit's exit_group and the connector's exit of one
// process, in either order, are one line; a later process on the pid
// exits on its own line.
func TestExitWrittenOnce(t *testing.T) {
	exec := &event.Event{TimeMsec: 1000, Module: event.ModuleAudit, Category: event.CategoryProcess, Type: event.TypeStart,
		Action: event.ActionExecuted, Process: event.Process{PID: 50, PPID: 1, Executable: "/usr/bin/true", StartMsec: 1000}}
	for _, order := range [][2]event.Module{{event.ModuleAudit, event.ModuleProc}, {event.ModuleProc, event.ModuleAudit}} {
		got, st := written(t, exec.Clone(), exitOf(order[0], 50, 1500), exitOf(order[1], 50, 1501))
		if len(got) != 2 || got[1] != event.ActionExited || st.Merged != 1 {
			t.Errorf("%v first: wrote %v, merged %d; want the exec and one exit, 1 merged", order[0], got, st.Merged)
		}
	}
	// The pid reused a minute later: its exit is another fact.
	got, st := written(t, exec.Clone(), exitOf(event.ModuleProc, 50, 1500), exitOf(event.ModuleProc, 50, 61500))
	if len(got) != 3 || st.Merged != 0 {
		t.Errorf("a later process's exit: wrote %v, merged %d", got, st.Merged)
	}
}

func connectOf(module event.Module, action event.Action, at int64, port int) *event.Event {
	return &event.Event{TimeMsec: at, Module: module, Category: event.CategoryNetwork, Type: event.TypeConnection,
		Action: action, Outcome: event.OutcomeSuccess, Process: event.Process{PID: 70, PPID: 1},
		Dest: &event.Endpoint{IP: "192.0.2.7", Port: port}, Network: &event.Network{Family: "ipv4", Transport: "tcp", Direction: "egress"}}
}

// TestConnectWrittenOnce: a connect audit reported is not written again
// when the sock_diag snapshot finds it; one audit did not report, or
// found long after, is.
func TestConnectWrittenOnce(t *testing.T) {
	audit := func(at int64, port int) *event.Event {
		return connectOf(event.ModuleAudit, event.ActionConnectedTo, at, port)
	}
	diag := func(at int64, port int) *event.Event {
		return connectOf(event.ModuleSockDiag, event.ActionSocketConnected, at, port)
	}
	for _, tc := range []struct {
		name   string
		evs    []*event.Event
		lines  int
		merged uint64
	}{
		{"audit then snapshot", []*event.Event{audit(1000, 443), diag(3000, 443)}, 1, 1},
		{"snapshot only", []*event.Event{diag(3000, 443)}, 1, 0},
		{"another port", []*event.Event{audit(1000, 443), diag(3000, 80)}, 2, 0},
		{"snapshot long after", []*event.Event{audit(1000, 443), diag(1000+connWindow+1, 443)}, 2, 0},
		{"two connects, two snapshots", []*event.Event{audit(1000, 443), diag(2000, 443), audit(5000, 443), diag(6000, 443)}, 2, 2},
	} {
		got, st := written(t, tc.evs...)
		if len(got) != tc.lines || st.Merged != tc.merged {
			t.Errorf("%s: wrote %v, merged %d; want %d lines, %d merged", tc.name, got, st.Merged, tc.lines, tc.merged)
		}
	}
}
