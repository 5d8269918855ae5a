package netlink

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/lineaged/lineaged/feature"
)

// Features are the kernel features this package probes, in the order of
// its capability rows.
var Features = []feature.Feature{feature.SockDiagInet, feature.SockDiagUDP, feature.SockDiagUnix}

// disabled is feature.Disabled; tests replace it to prove a profile answer
// is given before the kernel is asked.
var disabled = feature.Disabled

// What each errno means when it answers a sock_diag request (net/core/
// sock_diag.c, net/ipv4/inet_diag.c, net/unix/diag.c; the same from 3.3 to
// 6.x, and from 2.6.14 to 3.2 for NETLINK_INET_DIAG):
//
//   - EINVAL: the message type is unknown. Before 3.3 only TCPDIAG_GETSOCK
//     and DCCPDIAG_GETSOCK existed (types >= INET_DIAG_GETSOCK_MAX are
//     refused), so SOCK_DIAG_BY_FAMILY itself means "kernel < 3.3". Also
//     a request shorter than the family's struct (never ours).
//   - ENOENT: no handler for the family (unix_diag) or the protocol
//     (udp_diag), and request_module could not load one: the kernel was
//     built without it, or module loading is off.
//   - EOPNOTSUPP: TCPDIAG_GETSOCK on a kernel whose inet_diag is absent
//     (sock_diag's compat hook is empty).
//   - EPROTONOSUPPORT (from socket(2)): netlink protocol 4 is not
//     registered at all: no sock_diag in this kernel.
//
// Anything else (EPERM from an LSM, ENOBUFS, a timeout) says nothing about
// the kernel's features: the probe is inconclusive and is retried.
var errnoMeaning = map[syscall.Errno]string{
	syscall.EINVAL:          "SOCK_DIAG_BY_FAMILY unknown (kernel before 3.3)",
	syscall.ENOENT:          "no diag handler registered or loadable for this family/protocol",
	syscall.EOPNOTSUPP:      "inet_diag not available for TCPDIAG_GETSOCK",
	syscall.EPROTONOSUPPORT: "NETLINK_SOCK_DIAG not in this kernel",
}

// classify turns the error of a probing request into a definite "not
// supported" (wrapping feature.ErrNotSupported and the errno) or an
// inconclusive error; nil stays nil.
func classify(f feature.Feature, err error) error {
	if err == nil {
		return nil
	}
	for errno, why := range errnoMeaning {
		if errors.Is(err, errno) {
			return feature.NotSupported(f, fmt.Errorf("%w: %s", errno, why))
		}
	}
	return fmt.Errorf("probing %s: %w", f, err)
}

// definite reports whether a probe answer may be cached: available, or
// not supported. Inconclusive answers are asked again next time.
func definite(err error) bool { return err == nil || errors.Is(err, feature.ErrNotSupported) }

// probeFeature asks the kernel whether it serves f, by trying a dump that
// matches no socket (a states bitmap of 0: the handler is looked up and
// run, the reply is empty). For SockDiagInet on a kernel that refuses
// SOCK_DIAG_BY_FAMILY with EINVAL (< 3.3) it tries the older
// TCPDIAG_GETSOCK; legacy reports that this fallback answered.
func probeFeature(c *Conn, f feature.Feature) (legacy bool, err error) {
	if err := disabled(f); err != nil {
		return false, err
	}
	switch f {
	case feature.SockDiagInet:
		_, err = c.DumpInet(InetDiagReqV2{Family: afInet, Protocol: ipprotoTCP, States: 0, ID: InetDiagSockID{Cookie: anyCookie}})
		if errors.Is(err, syscall.EINVAL) {
			_, cerr := c.dumpInetCompat(InetDiagReq{Family: afInet, States: 0, ID: InetDiagSockID{Cookie: anyCookie}})
			if cerr == nil {
				return true, nil
			}
			err = cerr
		}
	case feature.SockDiagUDP:
		_, err = c.DumpInet(InetDiagReqV2{Family: afInet, Protocol: ipprotoUDP, States: 0, ID: InetDiagSockID{Cookie: anyCookie}})
	case feature.SockDiagUnix:
		_, err = c.DumpUnix(UnixDiagReq{Family: afUnix, States: 0, Cookie: anyCookie})
	default:
		return false, fmt.Errorf("sock_diag: %s is not a sock_diag feature", f)
	}
	return false, classify(f, err)
}

// Probe reports which sock_diag features this kernel serves, one row per
// entry of Features, by trying each dump in the calling thread's network
// namespace (no privilege needed). A legacy profile
// (LINEAGED_KERNEL_PROFILE) answers first for the features its kernel
// lacked; sock_diag's are all older than 3.10, so every profile leaves
// them to the kernel.
func Probe() []feature.Capability {
	errs := make(map[feature.Feature]error, len(Features))
	var c *Conn
	var dialErr error
	for _, f := range Features {
		if err := disabled(f); err != nil {
			errs[f] = err
			continue
		}
		if c == nil && dialErr == nil {
			c, dialErr = Dial()
		}
		if dialErr != nil {
			errs[f] = classify(f, dialErr)
			continue
		}
		_, errs[f] = probeFeature(c, f)
	}
	if c != nil {
		c.Close()
	}
	return capabilities(errs)
}

// capabilities turns probe answers into capability rows, in the order of
// Features.
func capabilities(errs map[feature.Feature]error) []feature.Capability {
	caps := make([]feature.Capability, 0, len(Features))
	for _, f := range Features {
		c := feature.Capability{Feature: f, Available: true}
		if err, ok := errs[f]; !ok {
			c.Available, c.Reason = false, "not probed yet"
		} else if err != nil {
			c.Available, c.Reason = false, err.Error()
		}
		caps = append(caps, c)
	}
	return caps
}
