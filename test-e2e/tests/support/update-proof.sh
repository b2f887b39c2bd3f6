#!/bin/busybox sh
# PID 1 of the layers the update tests boot: the standard proof lines (see src/boot-guest/imgbased-proof.sh),
# then what the booted system says about the update: its os-release, the vendor's change and the admin's
# changes carried over. Prints to the first serial port, then powers off.
export PATH=/bin
exec </dev/null >/dev/ttyS0 2>&1
say() { echo "UPDATE-PROOF $1: $2"; }
echo "IMGBASED-PROOF cmdline: $(busybox cat /proc/cmdline)"
echo "IMGBASED-PROOF root: $(busybox awk '$5 == "/" { print }' /proc/self/mountinfo)"
echo "IMGBASED-PROOF marker: $(busybox cat /etc/imgbased-proof 2>/dev/null)"
say version "$(busybox grep '^VERSION=' /etc/os-release)"
say nvr "$(busybox grep '^IMAGE_NVR=' /etc/os-release)"
say motd "$(busybox cat /etc/motd)"
say admin-new "$(busybox cat /etc/admin-new.conf 2>/dev/null)"
say hostname "$(busybox cat /etc/hostname)"
say deleted "$(busybox test -e /etc/deleteme.conf && echo present || echo gone)"
say mode "$(busybox stat -c %a /etc/modeme.conf)"
for f in passwd shadow group gshadow; do say "alice-$f" "$(busybox grep '^alice:' /etc/$f)"; done
say vendoruser "$(busybox grep '^vendoruser:' /etc/passwd)"
echo "IMGBASED-PROOF end"
busybox sync
busybox reboot -f
