package feature

import (
	"errors"
	"strings"
	"testing"
)

func TestDisabledByProfile(t *testing.T) {
	cases := []struct {
		profile string
		f       Feature
		off     bool
	}{
		{"", FanotifyMarkFS, false},
		{"3.10", AuditMulticast, true},
		{"3.10", ProcEventCoredump, false},
		{"3.10", SockDiagUnix, false},
		{"4.4", FanotifyMarkFS, true},
		{"4.4", AuditMulticast, false},
		{"4.15", FanotifyOpenExec, true},
		{"4.15", AuditBacklogWaitTime, false},
	}
	for _, c := range cases {
		t.Setenv(ProfileEnv, c.profile)
		err := Disabled(c.f)
		if (err != nil) != c.off {
			t.Errorf("profile %q %s: err = %v, want off=%v", c.profile, c.f, err, c.off)
		}
		if err != nil {
			if !errors.Is(err, ErrNotSupported) || !errors.Is(err, ErrProfile) {
				t.Errorf("%v does not wrap ErrNotSupported and ErrProfile", err)
			}
			if !strings.Contains(err.Error(), "requires >= "+MinKernel(c.f)) {
				t.Errorf("error %q does not name the minimum kernel", err)
			}
		}
	}
}

func TestCheckProfile(t *testing.T) {
	t.Setenv(ProfileEnv, "2.6")
	if err := CheckProfile(); err == nil || !strings.Contains(err.Error(), "3.10, 4.4, 4.15") {
		t.Errorf("bad profile accepted or unclear: %v", err)
	}
	t.Setenv(ProfileEnv, "4.4")
	if err := CheckProfile(); err != nil {
		t.Error(err)
	}
}

func TestEveryFeatureHasAMinimum(t *testing.T) {
	for _, f := range All() {
		if MinKernel(f) == "" {
			t.Errorf("%s has no minimum kernel", f)
		}
	}
}
