#!/bin/busybox sh
# PID 1 of the test VM (runs from our initramfs, busybox only).
# It loads the modules, builds a root out of the host's / (read-only over 9p) under a tmpfs overlay,
# runs the job that the host wrote into the "job" 9p share inside that root, stores the command's
# stdout/stderr/exit code in the share, and reboots (QEMU runs with -no-reboot, so it exits).
export PATH=/bin
/bin/busybox mkdir -p /dev /proc /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1

log() { echo "vm-init: $*"; }
die() {
  log "FATAL: $*"
  sync
  reboot -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys

# Modules in dependency order (from modprobe --show-depends at build time). A few may refuse to load
# on the emulated CPU (crc32c-intel needs SSE4.2); their generic fallbacks are in the list too.
while read -r module; do
  insmod "/lib/modules/$module" 2>/dev/null || log "insmod $module failed (ignored)"
done </modules.order

# Bound the VM's life from inside too, so a VM whose host process died cannot run forever.
watchdog=600
for arg in $(cat /proc/cmdline); do
  case "$arg" in e2e.watchdog=*) watchdog="${arg#e2e.watchdog=}" ;; esac
done
(sleep "$watchdog" && log "watchdog: ${watchdog}s elapsed, rebooting" && reboot -f) &

mkdir -p /host /ovl /newroot /job
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host || die "cannot mount host root"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 job /job || die "cannot mount job share"
mount -t tmpfs -o mode=0755 tmpfs /ovl
mkdir -p /ovl/upper /ovl/work
mount -t overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work overlay /newroot || die "cannot mount overlay"

r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm
mount -t tmpfs -o mode=0755 tmpfs $r/run
mount -t tmpfs -o mode=1777 tmpfs $r/tmp
# The checkout itself may live under /tmp (CI clones wherever it likes): show it through the fresh /tmp.
keep=$(cat /job/keep 2>/dev/null || true)
case "$keep" in
/tmp/*) mkdir -p "$r$keep" && mount -o bind "/host$keep" "$r$keep" || die "cannot show $keep in the guest" ;;
esac
mkdir -p $r/run/lock $r/run/lvm

# No udev and no dmeventd/lvmpolld in the guest: LVM must create its device nodes itself, must not wait
# for udev, and must not try to start daemons.
mkdir -p $r/etc/lvm
cat >$r/etc/lvm/lvmlocal.conf <<'LVM'
# Written by the imgbased test VM (test-e2e/src/guest/init.sh).
activation {
	udev_sync = 0
	udev_rules = 0
	monitoring = 0
}
devices {
	use_devicesfile = 0
}
global {
	use_lvmpolld = 0
}
LVM

[ -f /job/run.sh ] || die "no /job/run.sh"
log "running job"
# The job script (written by the host) sets env/cwd and execs the command. env -i: the kernel passes
# unknown boot arguments to init as environment; none of that should reach the command.
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  chroot $r /bin/sh -c "$(cat /job/run.sh)" >/job/stdout 2>/job/stderr </dev/null
rc=$?
echo "$rc" >/job/exit.tmp && mv /job/exit.tmp /job/exit
log "job exited with $rc"
sync
reboot -f
