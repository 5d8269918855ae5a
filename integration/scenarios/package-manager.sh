#!/bin/bash
# package-manager.sh SCRATCHDIR: software installed by hand. Builds a tiny
# package with dpkg-deb in SCRATCHDIR (lineaged-scn 1.0, architecture all,
# one file /usr/share/doc/lineaged-scn/README, a postinst that runs
# /bin/true), installs it with `dpkg -i`, then purges it with
# `dpkg -P lineaged-scn`; the trap purges it when it is still known to dpkg,
# and puts back /var/lib/dpkg/status-old.
# Needs the dpkg lock: fails when another dpkg or apt holds it.
#
# Expected alert: rule lineaged.package-manager (one summary alert for the
# install, not one per process dpkg runs)
#   process.executable  /usr/bin/dpkg
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin package-manager "$@"

pkg=lineaged-scn
if /usr/bin/dpkg-query -W "$pkg" >/dev/null 2>&1; then
	die "$pkg is already known to dpkg (left by an earlier run? dpkg -P $pkg)"
fi
root=$SCRATCH/pkg
deb=$SCRATCH/$pkg.deb
created "$root"
created "$deb"
/usr/bin/mkdir -p "$root/DEBIAN" "$root/usr/share/doc/$pkg"
cat >"$root/DEBIAN/control" <<CONTROL
Package: $pkg
Version: 1.0
Architecture: all
Maintainer: lineaged scenarios <root@localhost>
Section: misc
Priority: optional
Description: lineaged detection scenario package
 Installs one README and is purged right after.
CONTROL
printf '#!/bin/sh\nset -e\n/bin/true\n' >"$root/DEBIAN/postinst"
/usr/bin/chmod 0755 "$root/DEBIAN/postinst"
echo "lineaged detection scenario package; purged right after install." >"$root/usr/share/doc/$pkg/README"
/usr/bin/dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null

# dpkg keeps the previous status file as status-old: put back after the
# purge (the purge itself leaves status as it was). dpkg.log keeps the lines
# of this install and purge, as any log would.
backup /var/lib/dpkg/status-old
# Registered before the install, so that restore-stale.sh purges it too.
on_restore "/usr/bin/dpkg-query -W $pkg >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive /usr/bin/dpkg -P $pkg >/dev/null; ! /usr/bin/dpkg-query -W $pkg >/dev/null 2>&1"
DEBIAN_FRONTEND=noninteractive /usr/bin/dpkg -i "$deb" >/dev/null
/usr/bin/dpkg-query -W -f='${Status}\n' "$pkg" | grep -q 'install ok installed' || die "$pkg did not install"
DEBIAN_FRONTEND=noninteractive /usr/bin/dpkg -P "$pkg" >/dev/null
! /usr/bin/dpkg-query -W "$pkg" >/dev/null 2>&1 || die "$pkg is still known to dpkg after the purge"
