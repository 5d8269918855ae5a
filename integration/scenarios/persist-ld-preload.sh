#!/bin/bash
# persist-ld-preload.sh SCRATCHDIR: persistence through /etc/ld.so.preload.
# /usr/bin/tee -a appends a single newline to /etc/ld.so.preload (creating
# it when absent). An empty line preloads nothing, and an existing file keeps
# its entries, so every other process on the host runs as before. The file
# is restored after (removed when it did not exist).
#
# Expected alert: rule lineaged.persistence-write
#   process.executable  /usr/bin/tee
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin persist-ld-preload "$@"

target=/etc/ld.so.preload
backup "$target"
printf '\n' | /usr/bin/tee -a "$target" >/dev/null
