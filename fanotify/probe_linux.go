//go:build linux

package fanotify

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/lineaged/lineaged/feature"
)

// probeResult is one probe's answer. Only definite answers (the kernel
// accepted the operation, or rejected it with the errno that means "not
// supported") are cached; anything else is asked again next time.
type probeResult struct {
	err      error
	definite bool
}

var (
	probeMu    sync.Mutex
	probeCache = map[feature.Feature]probeResult{}
)

func cached(f feature.Feature, probe func() probeResult) error {
	probeMu.Lock()
	defer probeMu.Unlock()
	if r, ok := probeCache[f]; ok {
		return r.err
	}
	r := probe()
	if r.definite {
		probeCache[f] = r
	}
	return r.err
}

// Probe reports the fanotify features this kernel has, one row per
// feature, for the capability table. It changes nothing on the host: the
// mark probes ask to remove a mark that does not exist.
func Probe() []feature.Capability {
	_, rows, _ := probe()
	return rows
}

// probe returns the usable features, their table rows, and an error when
// fanotify itself cannot be used (then every row says why).
func probe() (Caps, []feature.Capability, error) {
	features := []feature.Feature{feature.FanotifyReportFID, ReportDirName, feature.FanotifyMarkFS, feature.FanotifyOpenExec}
	var c Caps
	rows := make([]feature.Capability, 0, len(features))
	// fanotify itself first (2.6.37): ENOSYS without CONFIG_FANOTIFY,
	// EPERM without CAP_SYS_ADMIN. Its group also serves the mark probes.
	fd, err := fanotifyInit(initFlags(false, false, false))
	if err != nil {
		base := explainInit(err)
		for _, f := range features {
			rows = append(rows, feature.Capability{Feature: f, Reason: base.Error()})
		}
		return c, rows, base
	}
	defer unix.Close(fd)

	errs := map[feature.Feature]error{
		feature.FanotifyReportFID: probeReportFID(),
		feature.FanotifyMarkFS:    probeMarkFilesystem(fd),
		feature.FanotifyOpenExec:  probeOpenExec(fd),
	}
	if errs[feature.FanotifyReportFID] != nil {
		errs[ReportDirName] = &dirNameError{fmt.Errorf("needs %s", feature.FanotifyReportFID)}
	} else {
		errs[ReportDirName] = probeReportDirName()
	}
	c.ReportFID = errs[feature.FanotifyReportFID] == nil
	c.ReportDirName = errs[ReportDirName] == nil
	c.MarkFilesystem = errs[feature.FanotifyMarkFS] == nil
	c.OpenExec = errs[feature.FanotifyOpenExec] == nil
	for _, f := range features {
		row := feature.Capability{Feature: f, Available: errs[f] == nil}
		if errs[f] != nil {
			row.Reason = errs[f].Error() + "; " + fallback[f]
		}
		rows = append(rows, row)
	}
	return c, rows, nil
}

// fallback says, for the status table, what runs instead of each feature.
var fallback = map[feature.Feature]string{
	feature.FanotifyReportFID: "fallback: paths from the event fd via /proc/self/fd",
	ReportDirName:             "fallback: paths from the file's own handle",
	feature.FanotifyMarkFS:    "fallback: mount marks plus inode marks for recursive watches",
	feature.FanotifyOpenExec:  "fallback: opens of executable files reported as opens; execs come from audit and the proc connector",
}

// probeReportFID tries fanotify_init with FAN_REPORT_FID. Before 5.1 the
// kernel rejects the unknown init flag with EINVAL.
func probeReportFID() error {
	f := feature.FanotifyReportFID
	if err := feature.Disabled(f); err != nil {
		return err
	}
	return cached(f, func() probeResult {
		return probeInit(f, initFlags(true, false, false), func(cause error) error { return feature.NotSupported(f, cause) })
	})
}

// probeReportDirName tries FAN_REPORT_DFID_NAME: EINVAL before 5.9.
func probeReportDirName() error {
	if err := feature.Disabled(feature.FanotifyReportFID); err != nil {
		return err
	}
	return cached(ReportDirName, func() probeResult {
		return probeInit(ReportDirName, initFlags(true, true, false), func(cause error) error { return &dirNameError{cause} })
	})
}

// dirNameError is feature.NotSupported for ReportDirName, whose minimum
// kernel the feature package does not know.
type dirNameError struct{ cause error }

func (e *dirNameError) Error() string {
	return fmt.Sprintf("%s not supported (requires >= %s): %v", ReportDirName, reportDirNameMin, e.cause)
}

func (e *dirNameError) Unwrap() []error { return []error{feature.ErrNotSupported, e.cause} }

func probeInit(f feature.Feature, flags uint, notSupported func(error) error) probeResult {
	fd, err := fanotifyInit(flags)
	switch {
	case err == nil:
		unix.Close(fd)
		return probeResult{definite: true}
	case errors.Is(err, unix.EINVAL):
		// EINVAL: an init flag this kernel does not know.
		return probeResult{err: notSupported(&OpError{Op: "fanotify_init", Err: err}), definite: true}
	}
	// EMFILE (128 groups per user), ENOMEM, EPERM: says nothing about
	// the feature; ask again next time.
	return probeResult{err: fmt.Errorf("probing %s: %w", f, explainInit(err))}
}

// probeMarkFilesystem asks to remove a filesystem mark from "/" in a fresh
// group, which never has one. 4.20+ looks for the mark and answers ENOENT;
// older kernels reject the unknown FAN_MARK_FILESYSTEM flag with EINVAL.
// Nothing is ever marked.
func probeMarkFilesystem(fd int) error {
	f := feature.FanotifyMarkFS
	if err := feature.Disabled(f); err != nil {
		return err
	}
	return cached(f, func() probeResult {
		return probeRemove(f, fanotifyMark(fd, fanMarkRemove|fanMarkFilesystem, fanOpen, "/"))
	})
}

// probeOpenExec asks to remove FAN_OPEN_EXEC from a mark that does not
// exist: ENOENT on 5.0+, EINVAL (unknown event bit) before.
func probeOpenExec(fd int) error {
	f := feature.FanotifyOpenExec
	if err := feature.Disabled(f); err != nil {
		return err
	}
	return cached(f, func() probeResult {
		return probeRemove(f, fanotifyMark(fd, fanMarkRemove, fanOpenExec, "/"))
	})
}

func probeRemove(f feature.Feature, err error) probeResult {
	switch {
	case err == nil, errors.Is(err, unix.ENOENT):
		// ENOENT: the kernel understood the request and found no mark.
		return probeResult{definite: true}
	case errors.Is(err, unix.EINVAL):
		return probeResult{err: feature.NotSupported(f, &OpError{Op: "fanotify_mark", Path: "/", Err: err}), definite: true}
	}
	return probeResult{err: fmt.Errorf("probing %s: %w", f, &OpError{Op: "fanotify_mark", Path: "/", Err: err})}
}

// explainInit turns the errnos of fanotify_init into reasons an operator
// can act on.
func explainInit(err error) error {
	var why string
	switch {
	case errors.Is(err, unix.ENOSYS):
		why = "fanotify not supported by kernel (CONFIG_FANOTIFY off)"
	case errors.Is(err, unix.EPERM):
		why = "fanotify needs CAP_SYS_ADMIN (run as root)"
	case errors.Is(err, unix.EMFILE):
		why = "too many fanotify groups for this user (fs.fanotify.max_user_groups, 128 by default)"
	default:
		why = "fanotify_init failed"
	}
	return fmt.Errorf("%s: %w", why, &OpError{Op: "fanotify_init", Err: err})
}

// fanotifyInit is the package's only way to create a group: the guard
// refuses a permission class before the kernel sees it.
func fanotifyInit(flags uint) (int, error) {
	if err := checkInit(flags); err != nil {
		return -1, err
	}
	// event_f_flags: the event fds are read-only, close-on-exec and
	// O_LARGEFILE (needed for files over 2 GiB on 32-bit, harmless on 64).
	return unix.FanotifyInit(flags, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_LARGEFILE)
}

// fanotifyMark is the package's only way to add a mark: the guard refuses
// permission events before the kernel sees them.
func fanotifyMark(fd int, flags uint, mask uint64, path string) error {
	if err := checkMask(mask); err != nil {
		return err
	}
	return unix.FanotifyMark(fd, flags, mask, unix.AT_FDCWD, path)
}
