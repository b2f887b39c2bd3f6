// The crash table's golden disks, prepared in the guest before the cases run (a shell script), and
// how each case gets a fresh copy of one (crash-cases.mjs reads `CrashGolden`).
import { INSTALL_POOL_PROFILE, ORIGINAL_FIRST_BASE, PROOF_INIT_SCRIPT, repoRoot } from '../../src/index.ts';

export type GoldenName = 'fresh' | 'laid-out' | 'grub' | 'original';

/** How crash-cases.mjs makes a case of a golden disk, and the imgbased.conf imgbase runs with there. */
export interface CrashGolden {
  /** A sparse image file in the guest's tmpfs: each case copies it (only its data is copied). */
  file?: string;
  /**
   * A whole guest disk (the original-host fixture, 8 GiB): each case is a device-mapper snapshot of
   * it (copy-on-write into a sparse tmpfs file), so nothing of it is read or copied up front.
   */
  device?: string;
  config: string;
  /** Shell run once the case is open. */
  open?: string;
}

const EXTLINUX_CONF = '[bootloader]\nplugins = extlinux\nboot_dir = /boot\n';
const GRUB_MENU_CONF = '[bootloader]\nplugins = grub-bls\nboot_dir = /boot\n';
const GRUB_BLSCFG_CONF = '[bootloader]\nplugins = grub-bls\nboot_dir = /boot\n\n[bootloader.grub-bls]\nmode = blscfg\n';
/** What grub.cfg needs besides the serial console: the lines the plugin's /etc/grub.d snippet adds. */
const GRUB_D_SNIPPET = `${repoRoot}/plugins/bootloader-grub-bls/grub.d/42_imgbased`;

/** The update row's image, made by goldenScript (a file in the guest: nothing to reset per case). */
export const UPDATE_IMAGE = '/tmp/crash-update.img';

export function crashGoldens(originalDevice: string | undefined): Record<GoldenName, CrashGolden> {
  return {
    fresh: { file: '/tmp/golden-fresh.img', config: EXTLINUX_CONF },
    'laid-out': { file: '/tmp/golden-laid-out.img', config: EXTLINUX_CONF },
    grub: { file: '/tmp/golden-grub.img', config: GRUB_MENU_CONF },
    // Its first base active, as the original's layout --init leaves it (adopt then deactivates it).
    original: {
      device: originalDevice,
      config: GRUB_BLSCFG_CONF,
      open: `lvm lvchange -ay -K onn/${ORIGINAL_FIRST_BASE} >/dev/null`,
    },
  };
}

/**
 * Guest shell: builds /tmp/golden-fresh.img from /dev/vda (the thinp fixture) and, as `needed` says:
 * - `laid-out`: Base-1-0 with layers +1 and +2, Base-2-0 (an empty file system made bootable by its
 *   layer) with layer Base-2-0+1; each layer carries the proof init and a marker; the default is
 *   Base-1-0+2; a foreign extlinux entry `root` boots onn/root. With `update`, the update row's image.
 * - `grub`: grub (i386-pc, Debian's 2.06 without blscfg: imgbase's menu file and grubenv) instead of
 *   extlinux, Base-1-0 with layers +1 and +2, each with its marker, the default Base-1-0+2.
 * - `original`: the original-host disk is a device of its own; only the pool's profile is needed.
 * LVM sees loop devices only (the fixture's PV would be a duplicate).
 */
export function goldenScript(o: {
  imgbase: string;
  kernel: string;
  initrd: string;
  kernelVersion: string;
  needed: ReadonlySet<GoldenName | 'update'>;
}): string {
  const proof = (dev: string, marker: string) =>
    `mount ${dev} /mnt/root && mkdir -p /mnt/root/bin /mnt/root/sbin /mnt/root/dev /mnt/root/proc /mnt/root/sys /mnt/root/etc && cp "$(command -v busybox)" /mnt/root/bin/busybox && cp ${PROOF_INIT_SCRIPT} /mnt/root/sbin/imgbased-proof && chmod 755 /mnt/root/sbin/imgbased-proof && echo ${marker} > /mnt/root/etc/imgbased-proof && umount /mnt/root`;
  const conf = (text: string) => `printf '${text.replace(/\n/g, '\\n')}' > /etc/imgbased.conf`;
  const open = (file: string) =>
    `loop=$(losetup -P -f --show ${file})\nlvm vgchange -ay onn >&2\nmount \${loop}p1 /boot`;
  const close = `sync; umount /boot; lvm vgchange -an onn >&2; losetup -d \${loop}`;
  const laidOut = `cp --sparse=always /tmp/golden-fresh.img /tmp/golden-laid-out.img
${open('/tmp/golden-laid-out.img')}
${o.imgbase} layout --init Base-1-0 --from onn/root >&2
${o.imgbase} layer --add >&2
${o.imgbase} base --add Base-2-0 --size 1G >&2
${o.imgbase} layer --add Base-2-0 >&2
${proof('/dev/onn/Base-1-0+1', 'Base-1-0+1')}
${proof('/dev/onn/Base-1-0+2', 'Base-1-0+2')}
${proof('/dev/onn/Base-2-0+1', 'Base-2-0+1')}
${o.imgbase} boot --set-default Base-1-0+2 >&2
cat /boot/extlinux/extlinux.conf >&2
${close}`;
  const grub = `cp --sparse=always /tmp/golden-fresh.img /tmp/golden-grub.img
${open('/tmp/golden-grub.img')}
${conf(GRUB_MENU_CONF)}
chattr -i /boot/extlinux/ldlinux.sys 2>/dev/null || true  # extlinux makes it immutable
rm -rf /boot/extlinux
grub-install --target=i386-pc --boot-directory=/boot --modules="part_msdos ext2" \${loop} >&2
printf 'serial --unit=0 --speed=115200\\nterminal_input serial console\\nterminal_output serial console\\nset timeout=1\\n' > /boot/grub/grub.cfg
${GRUB_D_SNIPPET} >> /boot/grub/grub.cfg
${o.imgbase} layout --init Base-1-0 --from onn/root >&2
${o.imgbase} layer --add >&2
${proof('/dev/onn/Base-1-0+1', 'Base-1-0+1')}
${proof('/dev/onn/Base-1-0+2', 'Base-1-0+2')}
${o.imgbase} boot --set-default Base-1-0+2 >&2
grub-editenv /boot/grub/grubenv list >&2
${conf(EXTLINUX_CONF)}
${close}`;
  return `set -e
cat > /etc/lvm/lvmlocal.conf <<'EOF'
activation { udev_sync=0 udev_rules=0 monitoring=0 }
devices { use_devicesfile=0 global_filter=[ "a|^/dev/loop|", "r|.*|" ] }
global { use_lvmpolld=0 thin_check_executable="" }
EOF
${conf(EXTLINUX_CONF)}
${o.needed.has('original') ? INSTALL_POOL_PROFILE : ''}
mkdir -p /mnt/root /boot
# The host's /boot (the kernel) is hidden once a disk's boot partition is mounted there.
cp ${o.kernel} /tmp/staged-vmlinuz && cp ${o.initrd} /tmp/staged-initrd
cp --sparse=always /dev/vda /tmp/golden-fresh.img
${open('/tmp/golden-fresh.img')}
${proof('/dev/onn/root', 'root')}
cp /tmp/staged-vmlinuz /boot/vmlinuz-${o.kernelVersion}
cp /tmp/staged-initrd /boot/initrd.img-${o.kernelVersion}
mkdir -p /boot/extlinux && extlinux --install /boot/extlinux >&2
dd if=/usr/lib/syslinux/mbr/mbr.bin of=\${loop} bs=440 count=1 conv=notrunc 2>/dev/null
printf 'DEFAULT root\\nLABEL root\\n  KERNEL /vmlinuz-${o.kernelVersion}\\n  INITRD /initrd.img-${o.kernelVersion}\\n  APPEND rd.lvm.lv=onn/root root=/dev/onn/root\\n' > /boot/extlinux/extlinux.conf
${close}
${o.needed.has('laid-out') ? laidOut : ''}
${o.needed.has('grub') ? grub : ''}
${o.needed.has('update') ? `truncate -s 24M ${UPDATE_IMAGE} && mkfs.ext4 -q -F ${UPDATE_IMAGE}\n${proof(UPDATE_IMAGE, 'Base-3-0+1')}` : ''}
rm -rf /run/imgbased
`;
}
