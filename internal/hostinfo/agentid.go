package hostinfo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lineaged/lineaged/internal/atomicfile"
)

// AgentIDFile is the agent id's file in lineaged's state directory.
const AgentIDFile = "agent-id"

// Warnings AgentID returns with a usable id.
var (
	// ErrDerived: the id could not be read or stored, and was derived
	// from the machine id instead.
	ErrDerived = errors.New("agent.id derived from the machine id, not stored")
	// ErrReplaced: the file held no valid id and was replaced by a new
	// one.
	ErrReplaced = errors.New("agent.id file held no valid id: a new one replaced it")
)

// appID is lineaged's application id for the derived agent id (made once
// with systemd-id128 new).
var appID = [16]byte{0xe1, 0x34, 0x92, 0x0c, 0xf9, 0xfc, 0x46, 0x98, 0x92, 0x1c, 0xae, 0x89, 0x91, 0x06, 0x9f, 0x07}

// AgentID returns ECS agent.id: an id of this installation of lineaged
// that stays the same across restarts and upgrades, and differs between
// hosts even when they were cloned from one image with the same machine
// id (which a fresh random id per installation does, where the machine
// id would not).
//
// It is read from stateDir/agent-id. When the file is missing, a random
// UUID (version 4, from crypto/rand) is made and written there
// atomically (internal/atomicfile), mode 0644: it is no secret, and a
// forwarder reading the state directory may want it. The directory is
// created (0700, as lineaged's package makes it) when missing.
//
// When the id can be neither read nor stored (a read-only /var, a
// directory lineaged may not write), it is derived from machineID
// instead, as systemd derives application-specific ids (HMAC-SHA256 keyed
// by the machine id over lineaged's application id, made a version-4
// UUID: `systemd-id128 -u machine-id --app-specific=e134920cf9fc4698921cae8991069f07`
// prints the same): stable while the machine id is, and not the machine
// id itself, which machine-id(5) asks applications not to expose. It is
// returned with an error wrapping ErrDerived, which the caller logs.
// Should the directory become writable later, a random id is stored then
// and agent.id changes once.
//
// A non-nil error with a non-empty id is a warning (ErrDerived,
// ErrReplaced); with an empty id, there is no agent id (nothing stored
// and no valid machine id), and agent.id is omitted. Two lineaged
// processes creating the file at the same moment may each return their
// own id once; the file keeps one of them.
func AgentID(stateDir, machineID string) (string, error) {
	path := filepath.Join(stateDir, AgentIDFile)
	data, err := readSmall(path)
	var warn error
	switch {
	case err == nil:
		if id, ok := parseUUID(data); ok {
			return id, nil
		}
		warn = fmt.Errorf("%w: %s", ErrReplaced, path)
	case !errors.Is(err, fs.ErrNotExist):
		return derive(machineID, err)
	}
	id := newUUID()
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return derive(machineID, err)
	}
	if err := atomicfile.WriteFile(path, []byte(id+"\n"), 0o644); err != nil {
		return derive(machineID, err)
	}
	return id, warn
}

// derive is the id when none can be stored.
func derive(machineID string, cause error) (string, error) {
	if _, ok := parseMachineID([]byte(machineID)); !ok {
		return "", fmt.Errorf("no agent.id: %w, and no machine id to derive one from", cause)
	}
	return appSpecificID(machineID), fmt.Errorf("%w: %w", ErrDerived, cause)
}

// appSpecificID is sd_id128_get_machine_app_specific(3) for appID:
// HMAC-SHA256 keyed by the machine id's 16 bytes over the application
// id's, its first 16 bytes made a version-4 UUID. machineID must be
// valid (parseMachineID).
func appSpecificID(machineID string) string {
	key, _ := hex.DecodeString(machineID)
	m := hmac.New(sha256.New, key)
	m.Write(appID[:])
	var u [16]byte
	copy(u[:], m.Sum(nil))
	return formatUUID(v4(u))
}

// newUUID is a random version-4 UUID.
func newUUID() string {
	var u [16]byte
	rand.Read(u[:]) // never fails (crypto/rand since Go 1.24)
	return formatUUID(v4(u))
}

// v4 sets the version (4) and variant (RFC 9562) bits.
func v4(u [16]byte) [16]byte {
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

func formatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// parseUUID reads the agent-id file: one UUID in the 8-4-4-4-12 form,
// either case (an operator may write one to keep an id across a
// reinstall), and an optional newline. It returns the id in lowercase.
func parseUUID(data []byte) (string, bool) {
	s := strings.TrimSuffix(string(data), "\n")
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return "", false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return "", false
		}
	}
	return strings.ToLower(s), true
}
