// Boots a *disk* the way a machine does (SeaBIOS or OVMF firmware, the bootloader on the disk, the
// kernel and initrd it loads) and reads what the booted system says about itself on the serial
// console: the proof that a boot entry works, read from the booted system and not from the files
// imgbased wrote. The layer's PID 1 is a tiny script (boot-guest/imgbased-proof.sh) that prints
// /proc/cmdline, the device mounted at / and a marker file, then powers off.
import { chmod, copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { ensureVmAssets, readModule, resolveModules } from './assets.ts';
import { e2eDir, makeScratchDir } from './paths.ts';
import { randomId, which } from './util.ts';
import { DEFAULT_TIMEOUT_MS, runInVm, VM_NAME_PREFIX } from './vm.ts';

// From the repository, not this file's location: a bundled copy (the demo, bin/vm-run) runs elsewhere.
export const PROOF_INIT_SCRIPT = path.join(e2eDir, 'src/boot-guest/imgbased-proof.sh');
const INITRD_INIT = path.join(e2eDir, 'src/boot-guest/proof-initrd-init.sh');

export type Firmware = 'seabios' | 'ovmf';

/** OVMF split into code and variable store (Debian's ovmf package), for EFI variables kept across boots. */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS_TEMPLATE = '/usr/share/OVMF/OVMF_VARS_4M.fd';
/** OVMF with its variables in the image itself: nothing set in one boot is seen by the next. */
const OVMF_VOLATILE = '/usr/share/ovmf/OVMF.fd';

/**
 * A fresh EFI variable store at `target`, for the boots of one test to share: `ovmfVars` of bootDisk,
 * `uefi.vars` of runInVm (with OVMF_CODE).
 */
export async function makeOvmfVars(target: string): Promise<string> {
  await copyFile(OVMF_VARS_TEMPLATE, target);
  return target;
}

export interface DiskBootOptions {
  /** Raw disk image with a bootloader installed; /dev/vda (virtio) in the guest. */
  disk: string;
  firmware: Firmware;
  /** More raw disks (/dev/vdb…), e.g. an ESP. */
  extraDisks?: readonly string[];
  /** Index of the disk the firmware boots first (0: `disk`); default 0. */
  bootFrom?: number;
  /** OVMF only: a writable variable store (makeOvmfVars) that outlives the boot; default: none kept. */
  ovmfVars?: string;
  /** Whole boot, firmware to power-off; default 240 000 ms. */
  timeoutMs?: number;
  memoryMb?: number;
}

export interface BootProof {
  /** The booted kernel's /proc/cmdline. */
  cmdline: string;
  /** `img.bootid=` of that command line. */
  bootId: string | undefined;
  /** The /proc/self/mountinfo line of `/`. */
  rootMount: string;
  /** The source device of `/`, e.g. /dev/onn/Base-1-0+2. */
  rootDevice: string | undefined;
  /** Contents of /etc/imgbased-proof in the booted root. */
  marker: string;
  /** The /proc/self/mountinfo lines of the other ext4 mounts (the layer's mount units'). */
  mounts: string[];
  /** Contents of /var/log/imgbased-proof (on a separate /var/log volume when there is one). */
  varLogMarker: string;
}

export interface DiskBootResult {
  proof: BootProof | undefined;
  console: string;
  durationMs: number;
}

/** Boots the disk until the guest powers off (or the time runs out) and parses its proof lines. */
export async function bootDisk(options: DiskBootOptions): Promise<DiskBootResult> {
  const dir = await makeScratchDir('boot');
  const consoleFile = path.join(dir, 'console.log');
  const started = performance.now();
  const args = [
    '-name',
    `${VM_NAME_PREFIX}boot-${randomId()}`,
    '-accel',
    'tcg',
    '-smp',
    '1',
    '-m',
    String(options.memoryMb ?? 768),
    '-nodefaults',
    '-no-reboot',
    '-display',
    'none',
    '-serial',
    `file:${consoleFile}`,
    ...[options.disk, ...(options.extraDisks ?? [])].flatMap((file, i) => [
      '-drive',
      `file=${file},if=none,id=d${i},format=raw,cache=unsafe`,
      '-device',
      `virtio-blk-pci,drive=d${i}${i === (options.bootFrom ?? 0) ? ',bootindex=0' : ''}`,
    ]),
    ...(options.firmware === 'ovmf' ? ovmfArgs(options.ovmfVars) : []),
  ];
  try {
    await execa(await which('qemu-system-x86_64'), args, {
      timeout: options.timeoutMs ?? 240_000,
      killSignal: 'SIGKILL',
      reject: false,
      cleanup: true,
    });
    const console = await readFile(consoleFile, 'latin1').catch(() => '');
    return { proof: parseProof(console), console, durationMs: Math.round(performance.now() - started) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function ovmfArgs(vars: string | undefined): string[] {
  if (vars === undefined) return ['-bios', OVMF_VOLATILE];
  return [
    '-drive',
    `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
    '-drive',
    `if=pflash,format=raw,unit=1,file=${vars}`,
  ];
}

/**
 * An ESP (GPT, FAT) whose systemd-boot boots the harness VM's own kernel and initramfs, for runInVm's
 * `uefi.disk`: a harness that a real bootloader booted, as `bootctl set-oneshot` requires (it checks
 * the LoaderInfo variable that systemd-boot sets at each boot). Built in a VM (no FAT tools needed on
 * the host). `timeoutMs` bounds the runInVm calls that boot it (the guest's own watchdog).
 */
export async function buildHarnessEsp(target: string, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}): Promise<string> {
  const { kernelVersion, initramfs } = await ensureVmAssets();
  // runInVm's kernel arguments (it cannot pass them when a bootloader loads the kernel), but for
  // pci=noacpi: under OVMF the PCI interrupts are routed through ACPI, and virtio hangs without it.
  const options = [
    'console=ttyS0',
    'quiet',
    'panic=-1',
    'norandmaps',
    'cryptomgr.notests',
    'rdinit=/init',
    `e2e.watchdog=${Math.ceil(timeoutMs / 1000) + 30}`,
  ].join(' ');
  const run = await runInVm({
    command: [
      'sh',
      '-c',
      `set -e
printf 'label: gpt\n,,U\n' | sfdisk -q /dev/vda
mkfs.vfat /dev/vda1 >&2
mkdir -p /mnt/esp && mount -t vfat /dev/vda1 /mnt/esp
mkdir -p /mnt/esp/EFI/BOOT /mnt/esp/loader/entries
cp /usr/lib/systemd/boot/efi/systemd-bootx64.efi /mnt/esp/EFI/BOOT/BOOTX64.EFI
cp /boot/vmlinuz-$1 /mnt/esp/vmlinuz
cp "$2" /mnt/esp/initramfs
printf 'timeout 0\ndefault harness.conf\n' > /mnt/esp/loader/loader.conf
printf 'title imgbased e2e harness\nlinux /vmlinuz\ninitrd /initramfs\noptions %s\n' "$3" > /mnt/esp/loader/entries/harness.conf
umount /mnt/esp`,
      'sh',
      kernelVersion,
      initramfs,
      options,
    ],
    disks: [{ path: target, sizeBytes: 64 * 1024 ** 2 }],
  });
  if (run.exitCode !== 0) {
    throw new Error(`buildHarnessEsp: exit ${run.exitCode}\n${run.stderr}\n${run.consoleTail}`);
  }
  return target;
}

export function parseProof(console: string): BootProof | undefined {
  const line = (key: string) => new RegExp(`^IMGBASED-PROOF ${key}: ?(.*?)\\r?$`, 'm').exec(console)?.[1];
  const cmdline = line('cmdline');
  if (cmdline === undefined || !/^IMGBASED-PROOF end\r?$/m.test(console)) return undefined;
  const rootMount = line('root') ?? '';
  const after = rootMount.split(' - ')[1]?.split(' ');
  return {
    cmdline,
    bootId: /(?:^|\s)img\.bootid=(\S+)/.exec(cmdline)?.[1],
    rootMount,
    rootDevice: after?.[1],
    marker: (line('marker') ?? '').trim(),
    mounts: [...console.matchAll(/^IMGBASED-PROOF mount: (.*?)\r?$/gm)].map((m) => m[1]!),
    varLogMarker: (line('var-log-marker') ?? '').trim(),
  };
}

/**
 * An initrd that can activate an LVM thin layer and mount `root=`: busybox-static, the host's lvm with
 * its libraries, the kernel modules, and boot-guest/proof-initrd-init.sh. Written to `target`.
 */
export async function buildProofInitrd(target: string): Promise<{ kernelVersion: string; kernel: string }> {
  const { kernelVersion } = await ensureVmAssets();
  const stage = await makeScratchDir('proof-initrd');
  try {
    for (const d of ['bin', 'sbin', 'dev', 'proc', 'sys', 'run', 'newroot', 'lib/modules', 'etc']) {
      await mkdir(path.join(stage, d), { recursive: true });
    }
    const busybox = await which('busybox');
    await copyFile(busybox, path.join(stage, 'bin/busybox'));
    await chmod(path.join(stage, 'bin/busybox'), 0o755);
    const { stdout: applets } = await execa(busybox, ['--list']);
    for (const applet of applets.split('\n').filter((a) => a && a !== 'busybox')) {
      await symlink('busybox', path.join(stage, 'bin', applet));
    }
    const lvm = await which('lvm');
    await copyFile(lvm, path.join(stage, 'sbin/lvm'));
    await chmod(path.join(stage, 'sbin/lvm'), 0o755);
    const { stdout: libs } = await execa('ldd', [lvm]);
    for (const lib of libs.matchAll(/(\/\S+\.so[^\s]*)/g)) {
      const file = lib[1]!;
      await mkdir(path.join(stage, path.dirname(file)), { recursive: true });
      await copyFile(file, path.join(stage, file));
    }
    const order: string[] = [];
    for (const file of await resolveModules(kernelVersion)) {
      const name = path.basename(file).replace(/\.(xz|zst)$/, '');
      await writeFile(path.join(stage, 'lib/modules', name), await readModule(file));
      order.push(name);
    }
    await writeFile(path.join(stage, 'modules.order'), `${order.join('\n')}\n`);
    await writeFile(path.join(stage, 'init'), await readFile(INITRD_INIT), { mode: 0o755 });
    const { stdout: list } = await execa('find', ['.', '-mindepth', '1'], { cwd: stage });
    const { stdout: archive } = await execa(await which('cpio'), ['--quiet', '-o', '-H', 'newc', '-R', '0:0'], {
      cwd: stage,
      input: `${list}\n`,
      encoding: 'buffer',
      maxBuffer: 1 << 28,
    });
    await writeFile(target, gzipSync(Buffer.from(archive), { level: 6 }));
    return { kernelVersion, kernel: `/boot/vmlinuz-${kernelVersion}` };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
