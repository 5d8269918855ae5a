package event

// The typed vocabulary of events: the values of event.category,
// event.type, event.action, event.outcome, event.module and
// event.severity that lineaged writes and its own packages test for.
//
// Every package names these values through the constants below (a test in
// internal/arch fails on a string literal used as one of these types
// outside this file), so a value renamed here is renamed everywhere, and
// one renamed by mistake in a source cannot silently switch off the
// detection or the report that tests for it. Values derived at run time
// (an unknown audit record type's name) are converted explicitly.

// Category is event.category (ECS): what kind of thing happened.
type Category string

// Type is event.type (ECS): what the event did to its category's object.
type Type string

// Action is event.action: the verb, lineaged's (and Auditbeat's) word.
type Action string

// Outcome is event.outcome (ECS).
type Outcome string

// Module is event.module: the kernel interface (or lineaged itself) an
// event came from.
type Module string

// Severity is event.severity of an alert: 1 (low) to 4 (critical); 0 is
// informational and never alerts.
type Severity int

// Severities.
const (
	SeverityInfo     Severity = 0
	SeverityLow      Severity = 1
	SeverityMedium   Severity = 2
	SeverityHigh     Severity = 3
	SeverityCritical Severity = 4
)

// Modules.
const (
	ModuleAudit    Module = "auditd"    // Linux audit (NETLINK_AUDIT or a log)
	ModuleProc     Module = "proc"      // the proc connector
	ModuleFanotify Module = "fanotify"  // fanotify file events
	ModuleSockDiag Module = "sock_diag" // socket snapshots
	ModuleLineaged Module = "lineaged"  // the agent's own events
)

// Dataset is event.dataset for an event of module m ("lineaged.auditd",
// ...); alerts are "lineaged.alerts" whichever module saw their evidence.
// Constant strings, so the encoder allocates nothing for it.
func (m Module) Dataset() string {
	switch m {
	case ModuleAudit:
		return "lineaged.auditd"
	case ModuleProc:
		return "lineaged.proc"
	case ModuleFanotify:
		return "lineaged.fanotify"
	case ModuleSockDiag:
		return "lineaged.sock_diag"
	case ModuleLineaged:
		return "lineaged.agent"
	}
	return ""
}

// DatasetAlerts is event.dataset of alerts.
const DatasetAlerts = "lineaged.alerts"

// Outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
	OutcomeUnknown Outcome = "unknown"
)

// Category values.
const (
	CategoryAuthentication Category = "authentication"
	CategoryConfiguration  Category = "configuration"
	CategoryDriver         Category = "driver"
	CategoryFile           Category = "file"
	CategoryHost           Category = "host"
	CategoryIam            Category = "iam"
	CategoryNetwork        Category = "network"
	CategoryPackage        Category = "package"
	CategoryProcess        Category = "process"
	CategorySession        Category = "session"
)

// Type values.
const (
	TypeAccess     Type = "access"
	TypeChange     Type = "change"
	TypeConnection Type = "connection"
	TypeCreation   Type = "creation"
	TypeDeletion   Type = "deletion"
	TypeEnd        Type = "end"
	TypeInfo       Type = "info"
	TypeStart      Type = "start"
)

// Action values.
const (
	ActionAbortedAudit                   Action = "aborted-audit"
	ActionAcceptedConnectionFrom         Action = "accepted-connection-from"
	ActionAccessPermission               Action = "access-permission"
	ActionAcquiredCredentials            Action = "acquired-credentials"
	ActionAddedGroupAccountTo            Action = "added-group-account-to"
	ActionAddedUserAccount               Action = "added-user-account"
	ActionAlertRepeated                  Action = "alert-repeated"
	ActionAuditRecordsLost               Action = "audit-records-lost"
	ActionAuditSequenceGap               Action = "audit-sequence-gap"
	ActionAuditTakeover                  Action = "audit-takeover"
	ActionAuthenticated                  Action = "authenticated"
	ActionBaselineLearned                Action = "baseline-learned"
	ActionBooted                         Action = "booted"
	ActionBoundSocket                    Action = "bound-socket"
	ActionChangedAuditConfiguration      Action = "changed-audit-configuration"
	ActionChangedCapabilities            Action = "changed-capabilities"
	ActionChangedConfiguration           Action = "changed-configuration"
	ActionChangedFileAttributesOf        Action = "changed-file-attributes-of"
	ActionChangedGroup                   Action = "changed-group"
	ActionChangedGroupPassword           Action = "changed-group-password"
	ActionChangedGroups                  Action = "changed-groups"
	ActionChangedIdentityOf              Action = "changed-identity-of"
	ActionChangedLoginIdTo               Action = "changed-login-id-to"
	ActionChangedPassword                Action = "changed-password"
	ActionChangedPromiscuousModeOnDevice Action = "changed-promiscuous-mode-on-device"
	ActionChangedSelinuxBoolean          Action = "changed-selinux-boolean"
	ActionChangedSelinuxEnforcement      Action = "changed-selinux-enforcement"
	ActionChangedToRunlevel              Action = "changed-to-runlevel"
	ActionChangedUserId                  Action = "changed-user-id"
	ActionConfiguredAudit                Action = "configured-audit"
	ActionConnectedTo                    Action = "connected-to"
	ActionCrashed                        Action = "crashed"
	ActionCreated                        Action = "created"
	ActionDeleted                        Action = "deleted"
	ActionDeletedGroupAccountFrom        Action = "deleted-group-account-from"
	ActionDeletedUserAccount             Action = "deleted-user-account"
	ActionDetachedTrace                  Action = "detached-trace"
	ActionDisposedCredentials            Action = "disposed-credentials"
	ActionDumpedCore                     Action = "dumped-core"
	ActionEndedSession                   Action = "ended-session"
	ActionError                          Action = "error"
	ActionExecuted                       Action = "executed"
	ActionExecutedFile                   Action = "executed-file"
	ActionExisting                       Action = "existing"
	ActionExited                         Action = "exited"
	ActionForked                         Action = "forked"
	ActionHeartbeat                      Action = "heartbeat"
	ActionIpcConnected                   Action = "ipc-connected"
	ActionLinked                         Action = "linked"
	ActionListenForConnections           Action = "listen-for-connections"
	ActionLoadedFirewallRule             Action = "loaded-firewall-rule"
	ActionLoadedKernelModule             Action = "loaded-kernel-module"
	ActionLoadedSelinuxPolicy            Action = "loaded-selinux-policy"
	ActionLockedAccount                  Action = "locked-account"
	ActionLoggedIn                       Action = "logged-in"
	ActionLoggedOut                      Action = "logged-out"
	ActionModifiedFile                   Action = "modified-file"
	ActionModifiedGroupAccount           Action = "modified-group-account"
	ActionModifiedUserAccount            Action = "modified-user-account"
	ActionMounted                        Action = "mounted"
	ActionOpenedFile                     Action = "opened-file"
	ActionOutputLinesDropped             Action = "output-lines-dropped"
	ActionPackageManagerRun              Action = "package-manager-run"
	ActionProcOverrun                    Action = "proc-overrun"
	ActionQueueOverflow                  Action = "queue-overflow"
	ActionRanCommand                     Action = "ran-command"
	ActionReceivedFrom                   Action = "received-from"
	ActionRefreshedCredentials           Action = "refreshed-credentials"
	ActionReloadFailed                   Action = "reload-failed"
	ActionReloaded                       Action = "reloaded"
	ActionRenamed                        Action = "renamed"
	ActionReplaySummary                  Action = "replay-summary"
	ActionResumedAudit                   Action = "resumed-audit"
	ActionRotatedLogs                    Action = "rotated-logs"
	ActionSentMessageTo                  Action = "sent-message-to"
	ActionSentSignal                     Action = "sent-signal"
	ActionSettings                       Action = "settings"
	ActionShutdown                       Action = "shutdown"
	ActionSocketClosed                   Action = "socket-closed"
	ActionSocketConnected                Action = "socket-connected"
	ActionSocketListening                Action = "socket-listening"
	ActionSocketOpened                   Action = "socket-opened"
	ActionSourceUnavailable              Action = "source-unavailable"
	ActionStarted                        Action = "started"
	ActionStartedAudit                   Action = "started-audit"
	ActionStartedService                 Action = "started-service"
	ActionStartedSession                 Action = "started-session"
	ActionStopped                        Action = "stopped"
	ActionStoppedAudit                   Action = "stopped-audit"
	ActionStoppedService                 Action = "stopped-service"
	ActionSyscall                        Action = "syscall"
	ActionThreadExited                   Action = "thread-exited"
	ActionThreadStarted                  Action = "thread-started"
	ActionTracedProcess                  Action = "traced-process"
	ActionTyped                          Action = "typed"
	ActionUnknownProcEvent               Action = "unknown-proc-event"
	ActionUnloadedKernelModule           Action = "unloaded-kernel-module"
	ActionUnlockedAccount                Action = "unlocked-account"
	ActionUnmounted                      Action = "unmounted"
	ActionUpdatedSoftware                Action = "updated-software"
	ActionViolatedMacPolicy              Action = "violated-mac-policy"
	ActionViolatedSeccompPolicy          Action = "violated-seccomp-policy"
	ActionWasAuthorized                  Action = "was-authorized"
	ActionWroteToFile                    Action = "wrote-to-file"
)
