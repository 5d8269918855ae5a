package audit

import (
	"strconv"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// Syscall numbers are per architecture: execve is 59 on x86_64, 221 on
// aarch64, 11 on i386 and arm. A SYSCALL record names its arch as the
// kernel's AUDIT_ARCH_* constant in hex (arch=c000003e). The tables come from
// go-libaudit's generated copy of the kernel's syscall tables, flattened into
// slices here so the hot path does one bounds-checked index, not two map
// lookups.

// Arch identifies a syscall ABI.
type Arch uint8

const (
	ArchUnknown Arch = iota
	ArchX86_64
	ArchAarch64
	ArchI386 // 32-bit x86 syscalls on an x86_64 kernel (int 0x80): own numbering
	ArchARM  // 32-bit ARM (EABI) on an aarch64 kernel
	numArch
)

var archNames = [numArch]string{"", "x86_64", "aarch64", "i386", "arm"}

func (a Arch) String() string { return archNames[a] }

// ParseArch maps the hex AUDIT_ARCH_* value of a SYSCALL record's arch= field.
func ParseArch(v []byte) Arch {
	switch string(v) {
	case "c000003e":
		return ArchX86_64
	case "c00000b7":
		return ArchAarch64
	case "40000003":
		return ArchI386
	case "40000028":
		return ArchARM
	}
	return ArchUnknown
}

// ArchName returns the name of any AUDIT_ARCH_* hex value ("x86_64",
// "ppc64le", ...), or "" when v is not hex.
func ArchName(v []byte) string {
	if a := ParseArch(v); a != ArchUnknown {
		return a.String()
	}
	n, err := strconv.ParseUint(string(v), 16, 32)
	if err != nil {
		return ""
	}
	return auparse.AuditArch(n).String()
}

var syscallTables = func() [numArch][]string {
	var t [numArch][]string
	for a := ArchX86_64; a < numArch; a++ {
		m := auparse.AuditSyscalls[a.String()]
		max := 0
		for n := range m {
			if n > max {
				max = n
			}
		}
		s := make([]string, max+1)
		for n, name := range m {
			if n >= 0 {
				s[n] = name
			}
		}
		t[a] = s
	}
	return t
}()

// SyscallName returns the name of syscall number n on arch a, or "" when
// the table has no such entry.
func SyscallName(a Arch, n int) string {
	if a == ArchUnknown || a >= numArch {
		return ""
	}
	t := syscallTables[a]
	if n < 0 || n >= len(t) {
		return ""
	}
	return t[n]
}
