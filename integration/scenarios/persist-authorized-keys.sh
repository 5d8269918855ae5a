#!/bin/bash
# persist-authorized-keys.sh SCRATCHDIR: persistence through SSH. Appends a
# public key line (a fresh ed25519 key made by ssh-keygen in SCRATCHDIR, its
# private half deleted after; a fixed fake line when ssh-keygen is missing)
# to /root/.ssh/authorized_keys with /usr/bin/tee -a. /root/.ssh is made
# (mode 0700) when absent. Both the directory (its existence, mode, owner)
# and the file are backed up and restored: an absent one is removed again.
# Note: where /root/.ssh did not exist when an audit watch on it was loaded,
# the kernel watch is on the path, not the directory's contents; the
# directory's creation (by /usr/bin/mkdir) is what such a watch sees.
#
# Expected alert: rule lineaged.persistence-write
#   process.executable  /usr/bin/tee
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin persist-authorized-keys "$@"

dir=/root/.ssh
keys=$dir/authorized_keys
created "$SCRATCH/lineaged-scn-key"
created "$SCRATCH/lineaged-scn-key.pub"
# Backed up before ssh-keygen runs, in case it makes ~/.ssh itself.
backup "$dir"
backup "$keys"
if [ -x /usr/bin/ssh-keygen ]; then
	/usr/bin/ssh-keygen -q -t ed25519 -N '' -C lineaged-scn -f "$SCRATCH/lineaged-scn-key" </dev/null
else
	echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxpbmVhZ2VkLXNjbi1mYWtlLWtleS1ub3QtcmVhbC0wMDA lineaged-scn' \
		>"$SCRATCH/lineaged-scn-key.pub"
fi

[ -d "$dir" ] || /usr/bin/mkdir -m 0700 "$dir"
/usr/bin/tee -a "$keys" <"$SCRATCH/lineaged-scn-key.pub" >/dev/null
