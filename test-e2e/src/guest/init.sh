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
init=busybox
for arg in $(cat /proc/cmdline); do
  case "$arg" in
  e2e.watchdog=*) watchdog="${arg#e2e.watchdog=}" ;;
  e2e.init=*) init="${arg#e2e.init=}" ;;
  esac
done
(sleep "$watchdog" && log "watchdog: ${watchdog}s elapsed, rebooting" && reboot -f) &
watchdog_pid=$!

mkdir -p /host /ovl /newroot /job
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host || die "cannot mount host root"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 job /job || die "cannot mount job share"
mount -t tmpfs -o mode=0755 tmpfs /ovl
mkdir -p /ovl/upper /ovl/work
mount -t overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work overlay /newroot || die "cannot mount overlay"

r=/newroot

# e2e.init=systemd (runInVm's `init: 'systemd'`): the host's systemd becomes PID 1 of the overlay root
# and runs the job as a oneshot service (e2e-job.service, wrapper /run/e2e/run-job), which reports like
# we do below and then reboots the VM. Only what the job needs is booted: every unit that the host's
# targets pull in (udev, getty, dbus, timers, networking, lvm monitoring, tmpfiles…) and every generator
# is masked, except journald (the job may read the journal); the job starts the units under test itself.
boot_systemd() {
  units=$r/etc/systemd/system
  mkdir -p $r/run/e2e/job $units $r/etc/systemd/system-generators
  mount -o move /job $r/run/e2e/job || die "cannot move the job share"
  # The host's /.dockerenv would make systemd believe it runs in a container (and skip or relax units).
  rm -f $r/.dockerenv
  [ -x $r/lib/systemd/systemd ] || die "init=systemd: the host has no /lib/systemd/systemd (apt-get install systemd)"
  for want in $r/lib/systemd/system/*.wants/* $units/*.wants/*; do
    [ -e "$want" ] || [ -L "$want" ] || continue
    name=${want##*/}
    case "$name" in
    *.target | systemd-journald.service | systemd-journald*.socket) ;;
    *) ln -sfn /dev/null "$units/$name" ;;
    esac
  done
  for generator in $r/lib/systemd/system-generators/*; do
    [ -e "$generator" ] || continue
    ln -sfn /dev/null "$r/etc/systemd/system-generators/${generator##*/}"
  done
  cat >$r/run/e2e/run-job <<'JOB'
# Written by the imgbased test VM (test-e2e/src/guest/init.sh): runs the job as init.sh does without
# systemd, and reports its output and exit code through the job share.
/bin/sh -c "$(cat /run/e2e/job/run.sh)" >/run/e2e/job/stdout 2>/run/e2e/job/stderr </dev/null
rc=$?
echo "$rc" >/run/e2e/job/exit.tmp && mv /run/e2e/job/exit.tmp /run/e2e/job/exit
echo "vm-init: job exited with $rc" >/dev/console
JOB
  cat >$units/e2e.target <<'UNIT'
[Unit]
Description=imgbased test VM: run the job
# basic.target as on a real boot (sockets.target, timers.target…: what is left of them once masked).
Wants=basic.target
Requires=e2e-job.service
UNIT
  cat >$units/e2e-job.service <<'UNIT'
[Unit]
Description=imgbased test VM: the job runInVm asked for
SuccessAction=reboot-force
FailureAction=reboot-force

[Service]
Type=oneshot
ExecStart=/bin/sh /run/e2e/run-job
TimeoutStartSec=infinity
# Not the journal: JOURNAL_STREAM would tell the job's programs that their stderr is the journal.
StandardOutput=null
StandardError=tty
UNIT
  # The watchdog must outlive switch_root, which empties this initramfs: run it from the overlay's tmpfs.
  kill "$watchdog_pid"
  cp /bin/busybox /ovl/busybox
  (/ovl/busybox sleep "$watchdog" && /ovl/busybox echo "vm-init: watchdog: ${watchdog}s elapsed, rebooting" &&
    /ovl/busybox reboot -f) &
  log "starting systemd"
  exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin switch_root $r /lib/systemd/systemd --unit=e2e.target
}

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
[ "$init" = systemd ] && boot_systemd
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
