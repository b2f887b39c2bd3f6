#!/bin/busybox sh
# PID 1 of the proof initrd: what a real initrd does for an imgbased layer, and no more. It loads the
# modules, activates the LV named by rd.lvm.lv=, mounts root= read-only (and what the layer's mount
# units mount) and hands over to the layer's /sbin/imgbased-proof; a layer without it (a real userspace,
# test-e2e/src/userspace.ts) gets its root read-write and its /sbin/init, or what init= says. Every line
# goes to the first serial port (whatever console= says).
export PATH=/bin:/sbin
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
exec </dev/null >/dev/ttyS0 2>&1
say() { echo "proof-initrd: $*"; }
while read -r module; do insmod "/lib/modules/$module" 2>/dev/null; done </modules.order
root=
lv=
init=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    root=*) root="${arg#root=}" ;;
    rd.lvm.lv=*) lv="${arg#rd.lvm.lv=}" ;;
    init=*) init="${arg#init=}" ;;
  esac
done
say "root=$root rd.lvm.lv=$lv"
mkdir -p /run/lock/lvm /newroot
config='activation { udev_sync=0 udev_rules=0 monitoring=0 } devices { use_devicesfile=0 } global { use_lvmpolld=0 thin_check_executable="" locking_dir="/run/lock/lvm" }'
lvm lvchange -ay --config "$config" "$lv" || say "cannot activate $lv"
mount -o ro "$root" /newroot || { say "FATAL: cannot mount $root"; reboot -f; }
if [ -z "$init" ] && [ -x /newroot/sbin/imgbased-proof ]; then
  init=/sbin/imgbased-proof
else
  # A real userspace mounts its own volumes (systemd); its root is read-write as its fstab has no line for it.
  mount -o remount,rw /newroot || say "cannot remount $root read-write"
  : "${init:=/sbin/init}"
fi
# The layer's mount units that local-fs.target wants (imgbase volume): mounted as systemd would mount
# them (What=, Where=, Options=), their logical volumes activated first.
units=/newroot/etc/systemd/system
[ "$init" = /sbin/imgbased-proof ] || units=/nonexistent
for wanted in $(ls "$units/local-fs.target.wants" 2>/dev/null); do
  unit="$units/$wanted"
  what=$(sed -n 's/^What=//p' "$unit")
  where=$(sed -n 's/^Where=//p' "$unit")
  options=$(sed -n 's/^Options=//p' "$unit")
  lvm lvchange -ay --config "$config" "${what#/dev/}" || say "cannot activate $what"
  mount -o "${options:-defaults}" "$what" "/newroot$where" && say "mounted $what at $where" || say "cannot mount $what at $where"
done
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
say "init=$init"
exec switch_root /newroot "$init"
