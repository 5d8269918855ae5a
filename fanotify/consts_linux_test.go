//go:build linux

package fanotify

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestConstantsMatchUnix checks the mirrored uapi values against x/sys.
func TestConstantsMatchUnix(t *testing.T) {
	cases := []struct {
		name      string
		ours, sys uint64
	}{
		{"FAN_ACCESS", fanAccess, unix.FAN_ACCESS},
		{"FAN_MODIFY", fanModify, unix.FAN_MODIFY},
		{"FAN_CLOSE_WRITE", fanCloseWrite, unix.FAN_CLOSE_WRITE},
		{"FAN_OPEN", fanOpen, unix.FAN_OPEN},
		{"FAN_OPEN_EXEC", fanOpenExec, unix.FAN_OPEN_EXEC},
		{"FAN_Q_OVERFLOW", fanQOverflow, unix.FAN_Q_OVERFLOW},
		{"FAN_OPEN_PERM", fanOpenPerm, unix.FAN_OPEN_PERM},
		{"FAN_ACCESS_PERM", fanAccessPerm, unix.FAN_ACCESS_PERM},
		{"FAN_OPEN_EXEC_PERM", fanOpenExecPerm, unix.FAN_OPEN_EXEC_PERM},
		{"FAN_PRE_ACCESS", fanPreAccess, unix.FAN_PRE_ACCESS},
		{"FAN_EVENT_ON_CHILD", fanEventOnChild, unix.FAN_EVENT_ON_CHILD},
		{"FAN_CLOEXEC", fanCloexec, unix.FAN_CLOEXEC},
		{"FAN_NONBLOCK", fanNonblock, unix.FAN_NONBLOCK},
		{"FAN_CLASS_NOTIF", fanClassNotif, unix.FAN_CLASS_NOTIF},
		{"FAN_CLASS_CONTENT", fanClassContent, unix.FAN_CLASS_CONTENT},
		{"FAN_CLASS_PRE_CONTENT", fanClassPreContent, unix.FAN_CLASS_PRE_CONTENT},
		{"FAN_UNLIMITED_QUEUE", fanUnlimitedQueue, unix.FAN_UNLIMITED_QUEUE},
		{"FAN_REPORT_FID", fanReportFID, unix.FAN_REPORT_FID},
		{"FAN_REPORT_DFID_NAME", fanReportDFIDName, unix.FAN_REPORT_DFID_NAME},
		{"FAN_MARK_ADD", fanMarkAdd, unix.FAN_MARK_ADD},
		{"FAN_MARK_REMOVE", fanMarkRemove, unix.FAN_MARK_REMOVE},
		{"FAN_MARK_IGNORED_MASK", fanMarkIgnoredMask, unix.FAN_MARK_IGNORED_MASK},
		{"FAN_MARK_IGNORED_SURV_MODIFY", fanMarkIgnoredSurvModify, unix.FAN_MARK_IGNORED_SURV_MODIFY},
		{"FAN_MARK_INODE", fanMarkInode, unix.FAN_MARK_INODE},
		{"FAN_MARK_MOUNT", fanMarkMount, unix.FAN_MARK_MOUNT},
		{"FAN_MARK_FILESYSTEM", fanMarkFilesystem, unix.FAN_MARK_FILESYSTEM},
		{"FANOTIFY_METADATA_VERSION", fanotifyMetadataVersion, unix.FANOTIFY_METADATA_VERSION},
		{"FAN_EVENT_METADATA_LEN", fanEventMetadataLen, unix.FAN_EVENT_METADATA_LEN},
		{"FAN_EVENT_INFO_TYPE_FID", fanEventInfoTypeFID, unix.FAN_EVENT_INFO_TYPE_FID},
		{"FAN_EVENT_INFO_TYPE_DFID_NAME", fanEventInfoTypeDFIDName, unix.FAN_EVENT_INFO_TYPE_DFID_NAME},
		{"FAN_EVENT_INFO_TYPE_DFID", fanEventInfoTypeDFID, unix.FAN_EVENT_INFO_TYPE_DFID},
		{"every permission event", fanPermEvents, unix.FAN_ALL_PERM_EVENTS | unix.FAN_OPEN_EXEC_PERM | unix.FAN_PRE_ACCESS},
	}
	for _, c := range cases {
		if c.ours != c.sys {
			t.Errorf("%s: ours %#x, x/sys %#x", c.name, c.ours, c.sys)
		}
	}
	if n := unsafe.Sizeof(unix.FanotifyEventMetadata{}); n != fanEventMetadataLen {
		t.Errorf("sizeof(fanotify_event_metadata) = %d", n)
	}
}
