package proc

import (
	"bytes"
	"strings"
)

// parseCgroup reads /proc/PID/cgroup, one "hierarchy-id:controllers:path"
// line per mounted hierarchy (cgroup v1), or the single "0::path" line of
// the unified hierarchy (v2, 4.5+), or both on a hybrid host. It returns
// the path to report (v2's where present, else the first with a container
// id, else name=systemd's), and the container id and runtime found in any
// path.
func parseCgroup(b []byte) (path, id, runtime string) {
	var unified, systemd, withID string
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		// The path is everything after the second colon: it may itself
		// contain colons.
		_, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		ctl, p, ok := bytes.Cut(rest, []byte{':'})
		if !ok {
			continue
		}
		ps := string(p)
		switch {
		case len(ctl) == 0 && bytes.HasPrefix(line, []byte("0::")):
			unified = ps
		case string(ctl) == "name=systemd" && systemd == "":
			systemd = ps
		}
		if id == "" {
			if id, runtime = containerID(ps); id != "" {
				withID = ps
			}
		}
	}
	switch {
	case unified != "":
		path = unified
	case withID != "":
		path = withID
	default:
		path = systemd
	}
	return path, id, runtime
}

// containerPrefixes are the scope and directory names container runtimes
// give a container's cgroup, before its 64-hex id:
//
//	/docker/ID                                        docker, cgroupfs driver
//	/system.slice/docker-ID.scope                     docker, systemd driver
//	/kubepods/burstable/podUID/ID                     kubelet, cgroupfs driver (any runtime)
//	/kubepods.slice/.../cri-containerd-ID.scope       containerd CRI, systemd driver
//	/kubepods.slice/.../crio-ID.scope                 CRI-O
//	/machine.slice/libpod-ID.scope, /libpod_parent/libpod-ID   podman
//
// The monitor processes beside a container (crio-conmon-ID.scope,
// libpod-conmon-ID.scope) run on the host, not in it: their segment is not
// a bare id after the prefix, so they get none.
var containerPrefixes = [...]struct{ prefix, runtime string }{
	{"docker-", "docker"},
	{"cri-containerd-", "containerd"},
	{"crio-", "cri-o"},
	{"libpod-", "podman"},
}

// containerID returns the id of the container a cgroup path belongs to and
// the runtime the path names, or "" when the path is not a container's.
// The innermost id wins (docker in docker nests them).
func containerID(path string) (id, runtime string) {
	for rest := path; rest != ""; {
		i := strings.LastIndexByte(rest, '/')
		seg := rest[i+1:]
		if i < 0 {
			rest = ""
		} else {
			rest = rest[:i]
		}
		seg = strings.TrimSuffix(seg, ".scope")
		rt := ""
		for _, cp := range containerPrefixes {
			if s, ok := strings.CutPrefix(seg, cp.prefix); ok {
				seg, rt = s, cp.runtime
				break
			}
		}
		if !isHexID(seg) {
			continue
		}
		if rt == "" {
			switch {
			case strings.HasSuffix(rest, "/docker") || rest == "docker":
				rt = "docker"
			case strings.HasSuffix(rest, "/libpod_parent"):
				rt = "podman"
			}
		}
		return seg, rt
	}
	return "", ""
}

// isHexID reports whether s is a 64-digit lowercase hex container id.
func isHexID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
