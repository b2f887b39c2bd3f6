// Runs one command inside a throwaway QEMU (TCG) VM that boots the host's Debian kernel with our
// initramfs and sees the host's / read-only under a tmpfs overlay. See guest/init.sh for the guest side.
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ensureVmAssets } from './assets.ts';
import { makeScratchDir, repoRoot } from './paths.ts';
import { randomId, which } from './util.ts';

export interface VmDisk {
  /** Raw image file; becomes /dev/vda, /dev/vdb… in the order given. */
  path: string;
  /** When set and the file is missing, it is created sparse with this size. */
  sizeBytes?: number;
}

export interface VmRunOptions {
  /** argv of the command, run as root in the guest (PATH includes the sbin directories). */
  command: string[];
  disks?: VmDisk[];
  /** Extra environment for the command (the rest is PATH, HOME=/root, LANG=C.UTF-8, TERM=dumb). */
  env?: Record<string, string>;
  /** Absolute working directory in the guest; default "/". The host's / is visible read-only (with a writable tmpfs overlay) except /tmp, /run, /dev, /proc, /sys, which are fresh. */
  cwd?: string;
  /** Whole-VM time limit, boot included; default 180 000 ms. */
  timeoutMs?: number;
  /** Guest RAM; default 1024 MiB. */
  memoryMb?: number;
  /** Aborting kills the VM; runInVm then rejects with a VmError. */
  signal?: AbortSignal;
  /**
   * PID 1 of the guest: `busybox` (default), our init runs the command itself; `systemd`, the host's
   * systemd boots a minimal unit set and runs the command as a oneshot service (for tests of units,
   * socket activation, the journal). Output and exit code come back the same way. See guest/init.sh.
   */
  init?: 'busybox' | 'systemd';
  /**
   * Boot through UEFI and a bootloader instead of QEMU's -kernel, for commands that need a system a
   * UEFI bootloader booted (e.g. `bootctl set-oneshot`): OVMF's `code` and `vars` become its two flash
   * drives (`vars` writable, so EFI variables set in the guest persist there) and `disk`, an ESP whose
   * bootloader loads this harness's kernel and initramfs (`buildHarnessEsp`), is attached after `disks`
   * and booted first.
   */
  uefi?: { code: string; vars: string; disk: string };
}

export interface VmRunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Last lines of the guest's serial console (kernel messages, init's progress lines). */
  consoleTail: string;
  durationMs: number;
  /** QEMU's -name, unique per run (also in QEMU's argv: handy for pgrep). */
  vmName: string;
}

/** The VM hung past its timeout, was aborted, crashed, or never reported an exit code. */
export class VmError extends Error {
  override name = 'VmError';
  constructor(
    message: string,
    readonly consoleTail: string,
    readonly vmName: string,
  ) {
    super(consoleTail ? `${message}\n--- serial console (tail) ---\n${consoleTail}` : message);
  }
}

/** Prefix of every QEMU -name we start: `pgrep -f imgbased-e2e-` finds our VMs. */
export const VM_NAME_PREFIX = 'imgbased-e2e-';
export const DEFAULT_TIMEOUT_MS = 180_000;
const CONSOLE_TAIL_LINES = 40;
const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Single-quote for the guest's /bin/sh. */
function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** QEMU's option parser splits on commas; a literal comma is written twice. */
function qemuEscape(value: string): string {
  return value.replaceAll(',', ',,');
}

/** The job script the guest's init runs with `sh -c` inside the chroot. */
export function jobScript(options: Pick<VmRunOptions, 'command' | 'env' | 'cwd'>): string {
  if (options.command.length === 0) throw new Error('runInVm: command is empty');
  const cwd = options.cwd ?? '/';
  if (!cwd.startsWith('/')) throw new Error(`runInVm: cwd must be absolute, got ${cwd}`);
  const env: Record<string, string> = {
    PATH: GUEST_PATH,
    HOME: '/root',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    ...options.env,
  };
  const lines = ['# written by test-e2e runInVm'];
  for (const [key, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`runInVm: bad environment variable name ${key}`);
    lines.push(`export ${key}=${shQuote(value)}`);
  }
  lines.push(`cd ${shQuote(cwd)} || exit 126`);
  lines.push(`exec ${options.command.map(shQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** QEMU arguments of VmRunOptions.uefi: the firmware's flash drives. */
function uefiFirmwareArgs(uefi: NonNullable<VmRunOptions['uefi']>): string[] {
  return [
    '-drive',
    `if=pflash,format=raw,unit=0,readonly=on,file=${qemuEscape(path.resolve(uefi.code))}`,
    '-drive',
    `if=pflash,format=raw,unit=1,file=${qemuEscape(path.resolve(uefi.vars))}`,
  ];
}

/** QEMU arguments of VmRunOptions.uefi: the boot disk, the last PCI device so the caller's disks keep their names. */
function uefiDiskArgs(uefi: NonNullable<VmRunOptions['uefi']>, index: number): string[] {
  return [
    '-drive',
    `file=${qemuEscape(path.resolve(uefi.disk))},if=none,id=d${index},format=raw,cache=unsafe`,
    '-device',
    `virtio-blk-pci,drive=d${index},bootindex=0`,
  ];
}

async function ensureDisk(disk: VmDisk): Promise<void> {
  const exists = await stat(disk.path).then(
    () => true,
    () => false,
  );
  if (exists) return;
  if (disk.sizeBytes === undefined) throw new Error(`runInVm: disk ${disk.path} does not exist and has no sizeBytes`);
  await mkdir(path.dirname(disk.path), { recursive: true });
  const handle = await open(disk.path, 'wx');
  try {
    await handle.truncate(disk.sizeBytes); // sparse: no blocks written
  } finally {
    await handle.close();
  }
}

async function readTail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.replaceAll('\r', '').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Boot a VM, run `options.command` in it, return its exit code and output. Rejects with VmError when the
 * VM does not report an exit code in time. QEMU is killed on timeout (SIGTERM, then SIGKILL after 5 s),
 * on abort, and when this process exits (execa's `cleanup`, which hooks exit and the usual signals); the
 * guest also reboots itself 30 s after the timeout, in case this process was SIGKILLed.
 */
export async function runInVm(options: VmRunOptions): Promise<VmRunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const assets = await ensureVmAssets();
  const qemu = await which('qemu-system-x86_64');
  const disks = options.disks ?? [];
  for (const disk of disks) await ensureDisk(disk);
  const script = jobScript(options);

  const vmName = `${VM_NAME_PREFIX}${randomId()}`;
  const runDir = await makeScratchDir(vmName);
  try {
    const jobDir = path.join(runDir, 'job');
    await mkdir(jobDir);
    await writeFile(path.join(jobDir, 'run.sh'), script);
    // The guest gets fresh /tmp and /run: name the checkout, which it must see wherever it lives.
    await writeFile(path.join(jobDir, 'keep'), repoRoot);
    const consoleLog = path.join(runDir, 'console.log');

    const append = [
      'console=ttyS0',
      'quiet',
      'panic=-1', // a guest panic reboots, and -no-reboot turns that into QEMU exiting
      'norandmaps', // same addresses every run: TCG reuses translated code (lvs ~2x faster)
      'cryptomgr.notests',
      'pci=noacpi',
      'rdinit=/init',
      `e2e.watchdog=${Math.ceil(timeoutMs / 1000) + 30}`,
      ...(options.init === 'systemd' ? ['e2e.init=systemd'] : []),
    ].join(' ');
    const args = [
      '-name',
      vmName,
      '-accel',
      'tcg',
      '-smp',
      '1', // measured faster than 2 under TCG
      '-m',
      String(options.memoryMb ?? 1024),
      ...(assets.bios && !options.uefi ? ['-bios', assets.bios] : []),
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-serial',
      `file:${qemuEscape(consoleLog)}`,
      '-no-reboot',
      ...(options.uefi
        ? uefiFirmwareArgs(options.uefi)
        : ['-kernel', assets.vmlinux, '-initrd', assets.initramfs, '-append', append]),
      '-fsdev',
      'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
      '-device',
      'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
      '-fsdev',
      `local,id=job,path=${qemuEscape(jobDir)},security_model=none,multidevs=remap`,
      '-device',
      'virtio-9p-pci,fsdev=job,mount_tag=job',
      ...disks.flatMap((disk, i) => [
        '-drive',
        `file=${qemuEscape(path.resolve(disk.path))},if=none,id=d${i},format=raw,cache=unsafe,discard=unmap`,
        '-device',
        `virtio-blk-pci,drive=d${i}`,
      ]),
      ...(options.uefi ? uefiDiskArgs(options.uefi, disks.length) : []),
    ];

    const started = Date.now();
    const result = await execa(qemu, args, {
      stdin: 'ignore',
      all: true,
      reject: false,
      timeout: timeoutMs,
      killSignal: 'SIGTERM',
      forceKillAfterDelay: 5_000,
      cancelSignal: options.signal,
      cleanup: true,
    });
    const durationMs = Date.now() - started;
    const consoleTail = await readTail(consoleLog, CONSOLE_TAIL_LINES);
    const qemuOutput = (result.all ?? '').trim();
    const detail = qemuOutput ? `\nqemu said: ${qemuOutput}` : '';
    const what = `VM ${vmName} running ${JSON.stringify(options.command)}`;

    if (result.timedOut) throw new VmError(`${what} timed out after ${timeoutMs} ms${detail}`, consoleTail, vmName);
    if (result.isCanceled) throw new VmError(`${what} was aborted${detail}`, consoleTail, vmName);
    const exitText = await readFile(path.join(jobDir, 'exit'), 'utf8').catch(() => undefined);
    const exitCode = Number.parseInt(exitText ?? '', 10);
    if (Number.isNaN(exitCode)) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with ${result.exitCode}`;
      throw new VmError(`${what}: QEMU ${how} before the command reported an exit code${detail}`, consoleTail, vmName);
    }
    return {
      exitCode,
      stdout: await readFile(path.join(jobDir, 'stdout'), 'utf8').catch(() => ''),
      stderr: await readFile(path.join(jobDir, 'stderr'), 'utf8').catch(() => ''),
      consoleTail,
      durationMs,
      vmName,
    };
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}
