// Package auditd is the audit daemon on this host, as lineaged sees it:
// find it, stop and disable it, give it back.
//
// By default lineaged coexists with auditd (SPEC §1, §6); replacing it
// is an explicit step, `lineaged replace-auditd`, that stops and
// disables auditd under whatever manages it here (systemd, Debian's
// update-rc.d, chkconfig, or a bare SysV init script) and records what
// it found and did in a marker file, so that `lineaged replace-auditd
// --undo`, which package removal runs, puts back exactly that: a daemon
// that was enabled is enabled again, one that ran is started again, and
// nothing that was off is turned on. Installing the package never
// replaces auditd.
//
// The package reads the host and runs its commands through Host, so
// that tests check the sequence of commands without running any. It
// writes what the operator reads (the commands run, their output, what
// was done and what to do next) to the writer it is given: that text is
// lineaged replace-auditd's output, which the packaging scripts and
// operators read.
//
// # Privileges
//
// Changing services needs root; a dry run (print what would run) does
// not, and runs only read-only probes (systemctl is-enabled, service
// auditd status, ...).
package auditd
