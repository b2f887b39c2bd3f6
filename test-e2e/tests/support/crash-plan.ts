// The crash table's plan: which verbs, from which starting disk, what a boot right after the worst
// kill may boot. Adding a changing verb is one row of CRASH_VERBS. Also the golden disks' preparation
// (a shell script for the guest) and the table's rendering.
import { PROOF_INIT_SCRIPT } from '../../src/index.ts';

export interface CrashVerb {
  /** The row's label. */
  name: string;
  /** imgbase's arguments. */
  argv: string[];
  /** `fresh`: extlinux and a foreign entry booting onn/root, no layout. `laid-out`: see goldenScript. */
  golden: 'fresh' | 'laid-out';
  /** What a boot after the worst step may boot: layers by img.bootid, `root` for the foreign entry. */
  boots: string[];
  /** Boot the disk after the worst step (default true; false when the verb changes nothing to boot). */
  bootProof?: boolean;
}

/**
 * The laid-out golden disk: Base-1-0 with layers +1 and +2, Base-2-0 (an empty file system made
 * bootable by its layer) with layer Base-2-0+1; each layer carries the proof init and a marker; the
 * default is Base-1-0+2; a foreign entry `root` boots onn/root.
 */
export const CRASH_VERBS: CrashVerb[] = [
  {
    name: 'layout --init',
    argv: ['layout', '--init', 'Base-1-0', '--from', 'onn/root'],
    golden: 'fresh',
    boots: ['root', 'Base-1-0+1'],
  },
  {
    name: 'base --add',
    argv: ['base', '--add', 'Base-3-0', '--size', '1G'],
    golden: 'laid-out',
    boots: ['Base-1-0+2'],
  },
  {
    name: 'base --remove',
    argv: ['base', '--remove', 'Base-1-0'],
    golden: 'laid-out',
    boots: ['Base-1-0+2', 'Base-2-0+1'],
  },
  { name: 'layer --add', argv: ['layer', '--add'], golden: 'laid-out', boots: ['Base-1-0+2', 'Base-2-0+2'] },
  {
    name: 'rollback',
    argv: ['rollback', '--to', 'Base-2-0+1'],
    golden: 'laid-out',
    boots: ['Base-1-0+2', 'Base-2-0+1'],
  },
  // The boot configuration is not touched: no boot after the worst step (the table's invariants still
  // read it after every kill).
  {
    name: 'volume --create',
    argv: ['volume', '--create', '/var/log', '16M'],
    golden: 'laid-out',
    boots: [],
    bootProof: false,
  },
  {
    name: 'boot --set-default',
    argv: ['boot', '--set-default', 'Base-1-0+1'],
    golden: 'laid-out',
    boots: ['Base-1-0+2', 'Base-1-0+1'],
  },
  // extlinux has no one-shot boot: refused (E_BOOT_UNSUPPORTED) before any change, so no step to kill.
  { name: 'boot --next', argv: ['boot', '--next', 'Base-1-0+1'], golden: 'laid-out', boots: [], bootProof: false },
  {
    name: 'boot --edit-kernel-args',
    argv: ['boot', '--edit-kernel-args', 'Base-1-0+2', '--append', 'imgbased.crash=1'],
    golden: 'laid-out',
    boots: ['Base-1-0+2'],
  },
];

/**
 * Guest shell: builds /tmp/golden-fresh.img from /dev/vda (the thinp fixture) and /tmp/golden-laid-out.img
 * from it with imgbase. LVM sees loop devices only (the fixture's PV would be a duplicate).
 */
export function goldenScript(o: { imgbase: string; kernel: string; initrd: string; kernelVersion: string }): string {
  const proof = (dev: string, marker: string) =>
    `mount ${dev} /mnt/root && mkdir -p /mnt/root/bin /mnt/root/sbin /mnt/root/dev /mnt/root/proc /mnt/root/sys /mnt/root/etc && cp "$(command -v busybox)" /mnt/root/bin/busybox && cp ${PROOF_INIT_SCRIPT} /mnt/root/sbin/imgbased-proof && chmod 755 /mnt/root/sbin/imgbased-proof && echo ${marker} > /mnt/root/etc/imgbased-proof && umount /mnt/root`;
  return `set -e
cat > /etc/lvm/lvmlocal.conf <<'EOF'
activation { udev_sync=0 udev_rules=0 monitoring=0 }
devices { use_devicesfile=0 global_filter=[ "a|^/dev/loop|", "r|.*|" ] }
global { use_lvmpolld=0 thin_check_executable="" }
EOF
printf '[bootloader]\\nplugins = extlinux\\nboot_dir = /boot\\n' > /etc/imgbased.conf
mkdir -p /mnt/root /boot
# The host's /boot (the kernel) is hidden once a disk's boot partition is mounted there.
cp ${o.kernel} /tmp/staged-vmlinuz && cp ${o.initrd} /tmp/staged-initrd
cp --sparse=always /dev/vda /tmp/golden-fresh.img
loop=$(losetup -P -f --show /tmp/golden-fresh.img)
lvm vgchange -ay onn >&2
${proof('/dev/onn/root', 'root')}
mount \${loop}p1 /boot
cp /tmp/staged-vmlinuz /boot/vmlinuz-${o.kernelVersion}
cp /tmp/staged-initrd /boot/initrd.img-${o.kernelVersion}
mkdir -p /boot/extlinux && extlinux --install /boot/extlinux >&2
dd if=/usr/lib/syslinux/mbr/mbr.bin of=\${loop} bs=440 count=1 conv=notrunc 2>/dev/null
printf 'DEFAULT root\\nLABEL root\\n  KERNEL /vmlinuz-${o.kernelVersion}\\n  INITRD /initrd.img-${o.kernelVersion}\\n  APPEND rd.lvm.lv=onn/root root=/dev/onn/root\\n' > /boot/extlinux/extlinux.conf
sync; umount /boot; lvm vgchange -an onn >&2; losetup -d \${loop}
cp --sparse=always /tmp/golden-fresh.img /tmp/golden-laid-out.img
loop=$(losetup -P -f --show /tmp/golden-laid-out.img)
lvm vgchange -ay onn >&2
mount \${loop}p1 /boot
${o.imgbase} layout --init Base-1-0 --from onn/root >&2
${o.imgbase} layer --add >&2
${o.imgbase} base --add Base-2-0 --size 1G >&2
${o.imgbase} layer --add Base-2-0 >&2
${proof('/dev/onn/Base-1-0+1', 'Base-1-0+1')}
${proof('/dev/onn/Base-1-0+2', 'Base-1-0+2')}
${proof('/dev/onn/Base-2-0+1', 'Base-2-0+1')}
${o.imgbase} boot --set-default Base-1-0+2 >&2
cat /boot/extlinux/extlinux.conf >&2
sync; umount /boot; lvm vgchange -an onn >&2; losetup -d \${loop}
rm -rf /run/imgbased
`;
}

export interface CrashCell {
  n: number;
  name: string;
  detail: string;
  killed: boolean;
  killedStderr: string;
  bootableAtKill: string | null;
  damage: string[];
  nextExit: number;
  nextCode: string | null;
  nextStderr: string;
  after: string[];
  durationMs: number;
}

export interface CrashVerbResult {
  verb: string;
  full: { exit: number; stderr: string; steps: { n: number; name: string }[]; after: string[]; durationMs: number };
  cells: CrashCell[];
  worst: number | null;
}

/** Why a cell did not hold; undefined when it held. */
export function cellProblem(cell: CrashCell): string | undefined {
  if (!cell.killed) return `not killed at this step: ${cell.killedStderr}`;
  if (cell.bootableAtKill !== null) return `at the kill a reboot would fail: ${cell.bootableAtKill}`;
  if (cell.nextExit !== 0 && !(cell.nextCode ?? '').startsWith('E_')) return `next command: ${cell.nextStderr}`;
  if (
    cell.nextCode !== null &&
    !['E_LAYOUT_EXISTS', 'E_BASE_EXISTS', 'E_BASE_NOT_FOUND', 'E_VOLUME_EXISTS'].includes(cell.nextCode)
  )
    return `next command refused: ${cell.nextCode} ${cell.nextStderr}`;
  if (cell.after.length > 0) return cell.after.join('; ');
  return undefined;
}

/** The verb × step table, one line per cell, as Markdown. */
export function renderTable(results: CrashVerbResult[], boots: Record<string, string>): string {
  const lines = ['| verb | step | after | held | left at the kill | next command |', '|---|---|---|---|---|---|'];
  for (const r of results) {
    if (r.cells.length === 0) {
      lines.push(`| ${r.verb} | (no changing step: exit ${r.full.exit}) | | held | | |`);
      continue;
    }
    for (const c of r.cells) {
      const problem = cellProblem(c);
      const worst = c.n === r.worst ? ' (worst)' : '';
      lines.push(
        `| ${r.verb} | ${c.n}${worst} | ${c.name} ${shorten(c.detail)} | ${problem === undefined ? 'held' : `NOT HELD: ${problem}`} | ${c.damage.length} | ${c.nextCode ?? c.nextExit} |`,
      );
    }
  }
  lines.push('', '| verb | boot after the worst step |', '|---|---|');
  for (const [verb, booted] of Object.entries(boots)) lines.push(`| ${verb} | ${booted} |`);
  return `${lines.join('\n')}\n`;
}

function shorten(detail: string): string {
  const text = detail.replace(/\|/g, '/');
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}
