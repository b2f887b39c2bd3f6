// Trial boots with the layers' own userspace (docs/trial-boots.md): a thin host whose base is the Debian
// userspace of userspace.ts, with the checkout's imgbase and imgbased-boot-check.service in it, laid
// out by imgbase itself (`layout --init` from that volume, `layer --add`), booted from the disk through
// the bootloader under test. Five layers, one per part of the story:
//   +1 the last good layer; +2 a good update; +3 an update whose required check fails;
//   +4 an update that panics before its userspace (init=/nonexistent panic=1);
//   +5 an update whose check is cut by a power cut right after a named step of its mark-good write.
// The host arms +2 before the first boot; each later trial is armed by the good layer's own userspace
// (userspace-guest/imgbased-e2e, from the queue on /boot) once the previous story ended, so the whole
// chain is a series of disk boots with no harness run between them.
import { copyFile, cp, mkdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bootDisk, buildProofInitrd, type DiskBootResult, makeOvmfVars } from './boot.ts';
import { buildThinpHostDisk } from './fixtures.ts';
import { makeScratchDir, repoRoot } from './paths.ts';
import { buildUserspaceImage, USERSPACE_CLI_DIR, type UserspaceImage } from './userspace.ts';
import { runInVm } from './vm.ts';

export type UserspaceBootloader = 'grub' | 'extlinux' | 'systemd-boot';

export const LAYER = {
  good: 'Base-1-0+1',
  update: 'Base-1-0+2',
  failsCheck: 'Base-1-0+3',
  panics: 'Base-1-0+4',
  cut: 'Base-1-0+5',
} as const;

/** The required check that fails in LAYER.failsCheck, and what it says. */
export const BROKEN_CHECK = '50-e2e-broken';
export const BROKEN_SAYS = 'e2e: this update is broken on purpose';

const GRUB_D_SNIPPET = path.join(repoRoot, 'plugins/bootloader-grub-bls/grub.d/42_imgbased');
const IMGBASE = path.join(repoRoot, 'apps/cli/bin/imgbase');

interface Setup {
  /** The [bootloader] lines of the config. */
  config: string;
  install: string;
  kernelOnBootPartition: boolean;
  /** An ESP on a second disk (/dev/vdb1 on /boot/efi), booted through OVMF. */
  esp?: boolean;
}

const SETUPS: Record<UserspaceBootloader, Setup> = {
  grub: {
    config: '[bootloader]\nplugins = grub-bls\nboot_dir = /boot\n',
    install: `grub-install --target=i386-pc --boot-directory=/boot --modules="part_msdos ext2" /dev/vda >&2
cat > /boot/grub/grub.cfg <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
CFG
${GRUB_D_SNIPPET} >> /boot/grub/grub.cfg
grub-script-check /boot/grub/grub.cfg`,
    kernelOnBootPartition: false,
  },
  extlinux: {
    config: '[bootloader]\nplugins = extlinux\nboot_dir = /boot\n',
    install: `mkdir -p /boot/extlinux && extlinux --install /boot/extlinux >&2
dd if=/usr/lib/syslinux/mbr/mbr.bin of=/dev/vda bs=440 count=1 conv=notrunc 2>/dev/null`,
    kernelOnBootPartition: true,
  },
  'systemd-boot': {
    config: '[bootloader]\nplugins = systemd-boot\n[bootloader.systemd-boot]\nesp_dir = /boot/efi\n',
    install: `SYSTEMD_RELAX_ESP_CHECKS=1 bootctl install --esp-path=/boot/efi --no-variables >&2
printf 'timeout 0\\n' > /boot/efi/loader/loader.conf`,
    kernelOnBootPartition: false,
    esp: true,
  },
};

/** The config of the host and of every layer: trials on explicitly (whatever the default), two tries. */
export function trialConfig(bootloader: UserspaceBootloader): string {
  return `${SETUPS[bootloader].config}[trial]\nenabled = true\ntries = 2\non_failure = reboot\n`;
}

/** The drop-in that cuts the power in LAYER.cut's first check, right after the fail point `killAt`. */
function powerCutDropIn(killAt: string): string {
  return `[Service]
Environment=IMGBASED_FAILPOINT=${killAt}
Environment=IMGBASED_FAILPOINT_TRACE=/dev/ttyS0
ExecStartPre=/bin/sh -c 'test -e /var/lib/imgbased-e2e/cut || { mkdir -p /var/lib/imgbased-e2e && touch /var/lib/imgbased-e2e/cut && sync && touch /run/imgbased-failpoints.enable; }'
ExecStopPost=/bin/sh -c 'test "$$SERVICE_RESULT" = success || { echo "IMGBASED-USERSPACE power cut: $$SERVICE_RESULT" >/dev/ttyS0; echo b >/proc/sysrq-trigger; }'
`;
}

export interface UserspaceDisk {
  disk: string;
  /** The ESP disk, for systemd-boot. */
  extraDisks: string[];
  /** OVMF's variable store, kept across the boots (systemd-boot). */
  ovmfVars: string | undefined;
  bootloader: UserspaceBootloader;
  image: UserspaceImage;
  /** What the host said after arming LAYER.update (boot --list and --trial-status, JSON). */
  prepared: string;
  prepareMs: number;
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Lays the disk out in the harness VM (one run): see the top of this file. */
export async function prepareUserspaceDisk(bootloader: UserspaceBootloader, killAt: string): Promise<UserspaceDisk> {
  const started = performance.now();
  const setup = SETUPS[bootloader];
  const dir = await makeScratchDir(`userspace-${bootloader}`);
  const image = await buildUserspaceImage();
  const disk = (await buildThinpHostDisk(path.join(dir, 'host.img'))).path;
  const extraDisks: string[] = [];
  if (setup.esp) {
    extraDisks.push(path.join(dir, 'esp.img'));
    await writeFile(extraDisks[0]!, '');
    await truncate(extraDisks[0]!, 128 * 1024 ** 2);
  }
  const ovmfVars = setup.esp ? await makeOvmfVars(path.join(dir, 'ovmf-vars.fd')) : undefined;
  const initrd = path.join(dir, 'initrd.img');
  const { kernelVersion, kernel } = await buildProofInitrd(initrd);
  // A copy of the CLI as it is now, so a rebuild during the run changes nothing in the layers.
  const cli = path.join(dir, 'cli');
  await mkdir(cli, { recursive: true });
  for (const part of ['bin', 'dist', 'package.json'])
    await cp(path.join(repoRoot, 'apps/cli', part), path.join(cli, part), { recursive: true });
  const unit = path.join(dir, 'imgbased-boot-check.service');
  await copyFile(path.join(repoRoot, 'apps/cli/systemd/imgbased-boot-check.service'), unit);
  const config = trialConfig(bootloader);
  const kernelTo = setup.kernelOnBootPartition ? '/boot' : '/mnt/root/boot';
  const script = `set -e
lvm vgchange -ay onn >&2
e2image -ra ${image.path} /dev/onn/root
mkdir -p /mnt/root && mount /dev/onn/root /mnt/root
cp -a ${cli} /mnt/root${USERSPACE_CLI_DIR}
ln -s ${USERSPACE_CLI_DIR}/bin/imgbase /mnt/root/usr/bin/imgbase
cp ${unit} /mnt/root/usr/lib/systemd/system/imgbased-boot-check.service
ln -s /usr/lib/systemd/system/imgbased-boot-check.service /mnt/root/etc/systemd/system/multi-user.target.wants/
printf %s ${shellQuote(config)} > /mnt/root/etc/imgbased.conf
${setup.esp ? "echo '/dev/vdb1 /boot/efi vfat defaults 0 0' >> /mnt/root/etc/fstab" : ''}
cp ${kernel} /tmp/staged-vmlinuz && cp ${initrd} /tmp/staged-initrd
${setup.kernelOnBootPartition ? '' : `cp /tmp/staged-vmlinuz /mnt/root/boot/vmlinuz-${kernelVersion}\ncp /tmp/staged-initrd /mnt/root/boot/initrd.img-${kernelVersion}`}
umount /mnt/root
mount /dev/vda1 /boot
${setup.esp ? "printf 'label: gpt\\n,,U\\n' | sfdisk -q /dev/vdb >&2 && mkfs.vfat -F 32 /dev/vdb1 >&2\nmkdir -p /boot/efi && mount -t vfat /dev/vdb1 /boot/efi" : ''}
printf %s ${shellQuote(config)} > /etc/imgbased.conf
${setup.kernelOnBootPartition ? `test "$(uname -r)" = ${kernelVersion}\ncp /tmp/staged-vmlinuz ${kernelTo}/vmlinuz-${kernelVersion}\ncp /tmp/staged-initrd ${kernelTo}/initrd.img-${kernelVersion}` : ''}
${setup.install}
imgbase() { ${IMGBASE} "$@"; }
imgbase layout --init Base-1-0 --from onn/root >&2
# The new layers' entries take their arguments from this one.
# no_timer_check: TCG on a loaded host can fail the kernel's IO-APIC timer check (a panic before the initrd).
imgbase boot --edit-kernel-args ${LAYER.good} --append console=ttyS0 --append no_timer_check >&2
for i in 2 3 4 5; do imgbase layer --add >&2; done
imgbase boot --edit-kernel-args ${LAYER.panics} --append init=/nonexistent --append panic=1 >&2
mount /dev/onn/${LAYER.failsCheck} /mnt/root
mkdir -p /mnt/root/etc/imgbased/check.d/required.d
printf '#!/bin/sh\\necho "%s" >&2\\nexit 1\\n' ${shellQuote(BROKEN_SAYS)} > /mnt/root/etc/imgbased/check.d/required.d/${BROKEN_CHECK}
chmod 755 /mnt/root/etc/imgbased/check.d/required.d/${BROKEN_CHECK}
umount /mnt/root
mount /dev/onn/${LAYER.cut} /mnt/root
mkdir -p /mnt/root/etc/systemd/system/imgbased-boot-check.service.d
printf %s ${shellQuote(powerCutDropIn(killAt))} > /mnt/root/etc/systemd/system/imgbased-boot-check.service.d/power-cut.conf
umount /mnt/root
imgbase boot --set-default ${LAYER.good} >&2
imgbase boot --trial ${LAYER.update} >&2
printf '%s\\n' ${LAYER.failsCheck} ${LAYER.panics} ${LAYER.cut} > /boot/imgbased-e2e-queue
imgbase boot --list --json
sync
${setup.esp ? 'umount /boot/efi' : ''}
umount /boot
lvm vgchange -an onn >&2`;
  const run = await runInVm({
    command: ['sh', '-c', script],
    disks: [{ path: disk }, ...extraDisks.map((file) => ({ path: file }))],
    timeoutMs: 600_000,
  });
  if (run.exitCode !== 0) {
    throw new Error(`prepareUserspaceDisk(${bootloader}): exit ${run.exitCode}\n${run.stderr}\n${run.consoleTail}`);
  }
  const { entries } = (JSON.parse(run.stdout) as { data: { entries: { layer: string; options: string[] }[] } }).data;
  for (const layer of Object.values(LAYER)) {
    const options = entries.find((e) => e.layer === layer)?.options ?? [];
    if (!options.includes('console=ttyS0'))
      throw new Error(`prepareUserspaceDisk: ${layer}'s entry lacks console=ttyS0: ${run.stdout}`);
  }
  return {
    disk,
    extraDisks,
    ovmfVars,
    bootloader,
    image,
    prepared: run.stdout,
    prepareMs: Math.round(performance.now() - started),
  };
}

/** What one boot of the disk showed on its serial console. */
export interface UserspaceBoot {
  /** The layer the initrd mounted (from root=). */
  layer: string | undefined;
  /** What the initrd handed over to. */
  init: string | undefined;
  /** The layer's own userspace said it started (its bootid). */
  userspace: string | undefined;
  /** The trial record as the reporter read it after the check (`data` of boot --trial-status --json). */
  status: TrialStatusView | undefined;
  /** The layer the reporter armed next. */
  armed: string | undefined;
  panicked: boolean;
  /** Fail-point trace lines (`<n>\t<step>\t<detail>`) the check printed before the cut. */
  trace: string[];
  powerCut: boolean;
  console: string;
  durationMs: number;
}

export interface TrialStatusView {
  trial: { layer: string; good: string; tries: number; attemptsLeft: number } | null;
  layers: { layer: string; state: 'trial' | 'good' | 'failed'; reason: string | null }[];
}

export function parseUserspaceBoot(result: DiskBootResult): UserspaceBoot {
  const text = result.console;
  const line = (pattern: RegExp) => pattern.exec(text)?.[1];
  const status = line(/IMGBASED-USERSPACE status: (\{.*?)\r?$/m);
  return {
    layer: line(/^proof-initrd: root=\/dev\/onn\/(\S+)/m),
    init: line(/^proof-initrd: init=(\S+)/m),
    userspace: line(/IMGBASED-USERSPACE started: (\S+)/),
    status: status === undefined ? undefined : (JSON.parse(status) as { data: TrialStatusView }).data,
    armed: line(/IMGBASED-USERSPACE armed: (\S+)/),
    panicked: /Kernel panic/.test(text),
    trace: [...text.matchAll(/^(\d+\t[\w.]+\t.*?)\r?$/gm)].map((m) => m[1]!),
    powerCut: /IMGBASED-USERSPACE power cut/.test(text),
    console: text,
    durationMs: result.durationMs,
  };
}

/** Boots the disk once (firmware to power-off, reboot or panic: QEMU runs with -no-reboot). */
export async function bootUserspace(disk: UserspaceDisk): Promise<UserspaceBoot> {
  const uefi = disk.ovmfVars !== undefined;
  return parseUserspaceBoot(
    await bootDisk({
      disk: disk.disk,
      extraDisks: disk.extraDisks,
      ...(uefi ? { firmware: 'ovmf', ovmfVars: disk.ovmfVars, bootFrom: 1 } : { firmware: 'seabios' }),
      timeoutMs: 300_000,
      memoryMb: 1024,
    }),
  );
}

/** One line per boot, for the test's log and failure messages. */
export function describeBoot(boot: UserspaceBoot): string {
  const state = boot.status?.layers.map((l) => `${l.layer}=${l.state}${l.reason ? ` (${l.reason})` : ''}`).join(', ');
  return `${boot.layer ?? '?'} init=${boot.init ?? '?'} userspace=${boot.userspace ?? 'none'}${boot.panicked ? ' PANIC' : ''}${boot.powerCut ? ' POWER-CUT' : ''} trial=${boot.status?.trial?.layer ?? '-'} [${state ?? 'no report'}]${boot.armed ? ` armed ${boot.armed}` : ''}${boot.trace.length > 0 ? ` steps before the cut: ${boot.trace.map((t) => t.split('\t')[1]).join(' ')}` : ''} ${Math.round(boot.durationMs / 1000)}s`;
}

/** Reads each layer's own log of the boots its userspace ran (/var/lib/imgbased-e2e/boots). */
export async function layerBootLogs(disk: UserspaceDisk): Promise<Record<string, string[]>> {
  const layers = Object.values(LAYER);
  const script = `set -e
lvm vgchange -ay onn >&2
mkdir -p /mnt/root
for l in ${layers.join(' ')}; do
  mount -o ro /dev/onn/$l /mnt/root
  echo "== $l"; cat /mnt/root/var/lib/imgbased-e2e/boots 2>/dev/null || true
  umount /mnt/root
done
lvm vgchange -an onn >&2`;
  const run = await runInVm({ command: ['sh', '-c', script], disks: [{ path: disk.disk }], timeoutMs: 180_000 });
  if (run.exitCode !== 0) throw new Error(`layerBootLogs: exit ${run.exitCode}\n${run.stderr}\n${run.consoleTail}`);
  const logs: Record<string, string[]> = {};
  let current = '';
  for (const row of run.stdout.split('\n')) {
    if (row.startsWith('== ')) {
      current = row.slice(3);
      logs[current] = [];
    } else if (row.trim() !== '') logs[current]!.push(row.trim());
  }
  return logs;
}
