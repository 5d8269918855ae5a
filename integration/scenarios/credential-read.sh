#!/bin/bash
# credential-read.sh SCRATCHDIR: reading the password hashes.
#   /usr/bin/cat /etc/shadow >/dev/null
#   /usr/bin/python3 -c 'open("/etc/shadow").read()'
# Nothing is written.
#
# Expected alerts: rule lineaged.credential-read
#   process.executable  /usr/bin/cat   (first)
#   and                 /usr/bin/python3.11  (second)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin credential-read "$@"

/usr/bin/cat /etc/shadow >/dev/null
/usr/bin/python3 -c 'open("/etc/shadow").read()'
