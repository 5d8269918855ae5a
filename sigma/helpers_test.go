package sigma

import (
	"path/filepath"
	"strings"

	"github.com/lineaged/lineaged/event"
)

// execEvent is an exec as audit.Normalizer builds it from a SYSCALL,
// EXECVE, CWD, PATH and PROCTITLE record group.
func execEvent(exe string, args ...string) *event.Event {
	comm := filepath.Base(exe)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	return &event.Event{
		Category: "process", Type: "start", Action: "executed", Outcome: "success", Module: "auditd",
		Process: event.Process{PID: 4242, PPID: 4000, Executable: exe, Name: comm, Args: args,
			Title: strings.Join(args, " "), WorkingDirectory: "/home/alice", TTY: "pts0"},
		Parent: &event.ProcRef{PID: 4000, Executable: "/usr/bin/bash", Args: []string{"-bash"}, UserID: "1000"},
		User:   event.User{ID: "1000", Name: "alice", EffectiveID: "1000", SavedID: "1000", FilesysID: "1000", AuditID: "1000", GroupID: "1000", EffGroupID: "1000"},
		File:   &event.File{Path: exe, Operation: "exec", NameType: "NORMAL", Mode: "0100755"},
		Audit: &event.Audit{Sequence: 7, Session: "3", Result: "success", Syscall: "execve", Arch: "x86_64", ExitValue: "0",
			RecordTypes: []string{"SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE"},
			Data:        []event.KV{{Key: "items", Value: "2"}, {Key: "a0", Value: "55d5e5a0c2d0"}, {Key: "a1", Value: "55d5e5a0c3b0"}, {Key: "a2", Value: "55d5e5a0c400"}, {Key: "a3", Value: "8"}}},
	}
}
