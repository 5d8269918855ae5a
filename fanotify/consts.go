package fanotify

// The fanotify ABI, mirrored from the uapi header so that the decoder,
// the mark planner and their tests build and run on any platform. A
// linux-only test checks every value against golang.org/x/sys/unix.
//
// https://elixir.bootlin.com/linux/v6.6/source/include/uapi/linux/fanotify.h
const (
	// Event bits (the mask of fanotify_mark and of each event).
	fanAccess     = 0x00000001 // FAN_ACCESS: read(2); not used (far too frequent)
	fanModify     = 0x00000002 // FAN_MODIFY: write(2), truncate
	fanCloseWrite = 0x00000008 // FAN_CLOSE_WRITE: close of a file opened for writing
	fanOpen       = 0x00000020 // FAN_OPEN
	fanOpenExec   = 0x00001000 // FAN_OPEN_EXEC (5.0): an open for execve or uselib
	fanQOverflow  = 0x00004000 // FAN_Q_OVERFLOW: the kernel queue dropped events

	// Permission events. lineaged never asks for them: a listener holding
	// one can stall (or deny) the access it describes. They are mirrored
	// here only so that tests and guards can prove their absence.
	fanOpenPerm     = 0x00010000 // FAN_OPEN_PERM
	fanAccessPerm   = 0x00020000 // FAN_ACCESS_PERM
	fanOpenExecPerm = 0x00040000 // FAN_OPEN_EXEC_PERM (5.0)
	fanPreAccess    = 0x00100000 // FAN_PRE_ACCESS (6.14): a permission event too
	fanPermEvents   = fanOpenPerm | fanAccessPerm | fanOpenExecPerm | fanPreAccess

	fanEventOnChild = 0x08000000 // FAN_EVENT_ON_CHILD: a directory mark covers its entries

	// fanotify_init flags.
	fanCloexec         = 0x00000001 // FAN_CLOEXEC
	fanNonblock        = 0x00000002 // FAN_NONBLOCK
	fanClassNotif      = 0x00000000 // FAN_CLASS_NOTIF: observe only
	fanClassContent    = 0x00000004 // FAN_CLASS_CONTENT: may answer permission events (never used)
	fanClassPreContent = 0x00000008 // FAN_CLASS_PRE_CONTENT (never used)
	fanClassBits       = fanClassContent | fanClassPreContent
	fanUnlimitedQueue  = 0x00000010 // FAN_UNLIMITED_QUEUE: only when configured
	fanReportFID       = 0x00000200 // FAN_REPORT_FID (5.1)
	fanReportDirFID    = 0x00000400 // FAN_REPORT_DIR_FID (5.9)
	fanReportName      = 0x00000800 // FAN_REPORT_NAME (5.9)
	fanReportDFIDName  = fanReportDirFID | fanReportName

	// fanotify_mark flags.
	fanMarkAdd               = 0x00000001 // FAN_MARK_ADD
	fanMarkRemove            = 0x00000002 // FAN_MARK_REMOVE
	fanMarkIgnoredMask       = 0x00000020 // FAN_MARK_IGNORED_MASK
	fanMarkIgnoredSurvModify = 0x00000040 // FAN_MARK_IGNORED_SURV_MODIFY
	fanMarkInode             = 0x00000000 // FAN_MARK_INODE
	fanMarkMount             = 0x00000010 // FAN_MARK_MOUNT
	fanMarkFilesystem        = 0x00000100 // FAN_MARK_FILESYSTEM (4.20)
	fanotifyMetadataVersion  = 3          // FANOTIFY_METADATA_VERSION, unchanged since 3.x
	fanEventMetadataLen      = 24         // FAN_EVENT_METADATA_LEN: sizeof(struct fanotify_event_metadata)
	fanNoFD                  = -1         // FAN_NOFD: the event carries no file descriptor
	fanEventInfoTypeFID      = 1          // FAN_EVENT_INFO_TYPE_FID (5.1)
	fanEventInfoTypeDFIDName = 2          // FAN_EVENT_INFO_TYPE_DFID_NAME (5.9)
	fanEventInfoTypeDFID     = 3          // FAN_EVENT_INFO_TYPE_DFID (5.9)
	fanEventInfoHeaderLen    = 4          // sizeof(struct fanotify_event_info_header)
	fanEventInfoFIDLen       = 12         // header + __kernel_fsid_t
	fileHandleHeaderLen      = 8          // struct file_handle: handle_bytes, handle_type
	maxHandleSize            = 128        // MAX_HANDLE_SZ (include/linux/exportfs.h)
)
