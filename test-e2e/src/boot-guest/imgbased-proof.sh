#!/bin/busybox sh
# Runs as PID 1 of a booted layer: prints what the booted system itself says (kernel command line, the
# device mounted at /, the other ext4 mounts, the layer's marker files) to the first serial port, then
# powers off.
export PATH=/bin
exec </dev/null >/dev/ttyS0 2>&1
echo "IMGBASED-PROOF cmdline: $(busybox cat /proc/cmdline)"
echo "IMGBASED-PROOF root: $(busybox awk '$5 == "/" { print }' /proc/self/mountinfo)"
echo "IMGBASED-PROOF marker: $(busybox cat /etc/imgbased-proof 2>/dev/null)"
busybox awk '$5 != "/" && / - ext4 / { print "IMGBASED-PROOF mount: " $0 }' /proc/self/mountinfo
echo "IMGBASED-PROOF var-log-marker: $(busybox cat /var/log/imgbased-proof 2>/dev/null)"
echo "IMGBASED-PROOF end"
busybox sync
busybox reboot -f
