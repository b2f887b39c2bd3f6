// Builds and caches what the VM boots: the uncompressed kernel (vmlinux) and our own tiny initramfs.
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { cacheDir, guestInitScript, makeScratchDir, pruneStaleScratch } from './paths.ts';
import { buildOnce, fileExists, removeStaleSiblings, sha256, which, writeFileAtomic } from './util.ts';

/** Bumped when the way assets are built changes, so old cache entries are not reused. */
const ASSETS_FORMAT = '1';

/**
 * Kernel modules the guest loads (dependencies are added by modprobe --show-depends): virtio disks and
 * 9p for the host root, overlay for a writable root, ext4/loop/dm-thin for the tests, vfat for ESPs,
 * squashfs for oVirt Node images.
 */
export const GUEST_MODULES: readonly string[] = [
  'virtio_pci',
  'virtio_blk',
  '9pnet_virtio',
  '9p',
  'overlay',
  'crc32c-intel',
  'crc32c_generic',
  'ext4',
  'loop',
  'dm-thin-pool',
  'dm-snapshot',
  'vfat',
  'nls_cp437',
  'nls_ascii',
  'squashfs',
];

export interface VmAssets {
  kernelVersion: string;
  /** Uncompressed ELF kernel: QEMU boots it via PVH, skipping the slow in-guest XZ decompression. */
  vmlinux: string;
  initramfs: string;
  /** qboot firmware when present (boots faster than SeaBIOS). */
  bios: string | undefined;
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The newest /boot/vmlinuz-* whose modules are installed (IMGBASED_E2E_KVER picks one by hand). */
async function pickKernel(): Promise<{ kernelVersion: string; bzImage: string }> {
  const wanted = process.env.IMGBASED_E2E_KVER;
  const versions = (await readdir('/boot'))
    .filter((name) => name.startsWith('vmlinuz-'))
    .map((name) => name.slice('vmlinuz-'.length))
    .filter((kver) => fileExists(`/lib/modules/${kver}/modules.dep`))
    .filter((kver) => !wanted || kver === wanted)
    .sort(compareVersions);
  const kernelVersion = versions.at(-1);
  if (!kernelVersion) {
    throw new Error('test-e2e: no /boot/vmlinuz-* with /lib/modules (install linux-image-amd64: scripts/setup)');
  }
  return { kernelVersion, bzImage: `/boot/vmlinuz-${kernelVersion}` };
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/**
 * The compressed payload of a bzImage, from its boot-protocol header (payload_offset/payload_length,
 * relative to the protected-mode code after the setup sectors): like scripts/extract-vmlinux, without
 * guessing by scanning for magic bytes.
 */
function bzImagePayload(image: Buffer): Buffer {
  if (image.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new Error('test-e2e: kernel is not a bzImage');
  const setupSects = image.readUInt8(0x1f1) || 4;
  const start = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  return image.subarray(start, start + image.readUInt32LE(0x24c));
}

async function decompressKernel(payload: Buffer): Promise<Buffer> {
  let elf: Buffer;
  if (payload.subarray(0, 6).equals(XZ_MAGIC)) {
    // --single-stream: the kernel appends the uncompressed size after the xz stream.
    const { stdout } = await execa(await which('xz'), ['-dc', '--single-stream'], {
      input: payload,
      encoding: 'buffer',
      maxBuffer: 1 << 30,
    });
    elf = Buffer.from(stdout);
  } else if (payload.subarray(0, 3).equals(GZIP_MAGIC)) {
    elf = gunzipSync(payload);
  } else if (payload.subarray(0, 4).equals(ZSTD_MAGIC)) {
    const { stdout } = await execa(await which('zstd'), ['-dcq'], {
      input: payload,
      encoding: 'buffer',
      maxBuffer: 1 << 30,
    });
    elf = Buffer.from(stdout);
  } else {
    throw new Error(`test-e2e: unknown kernel compression (magic ${payload.subarray(0, 6).toString('hex')})`);
  }
  if (elf.toString('latin1', 0, 4) !== '\x7fELF') throw new Error('test-e2e: decompressed kernel is not an ELF');
  return elf;
}

/** Module files (in load order) for GUEST_MODULES, resolved by modprobe for the guest kernel. */
export async function resolveModules(kernelVersion: string): Promise<string[]> {
  const modprobe = await which('modprobe');
  const files: string[] = [];
  for (const name of GUEST_MODULES) {
    const { stdout } = await execa(modprobe, ['-S', kernelVersion, '--show-depends', name]);
    for (const line of stdout.split('\n')) {
      const [verb, file] = line.trim().split(/\s+/);
      // "builtin NAME" lines need nothing; "insmod FILE [params]" lines are what we load.
      if (verb === 'insmod' && file && !files.includes(file)) files.push(file);
    }
  }
  return files;
}

export async function readModule(file: string): Promise<Buffer> {
  // busybox insmod cannot read compressed modules: store them plain.
  if (file.endsWith('.xz')) {
    const { stdout } = await execa(await which('xz'), ['-dc', file], { encoding: 'buffer', maxBuffer: 1 << 28 });
    return Buffer.from(stdout);
  }
  if (file.endsWith('.zst')) {
    const { stdout } = await execa(await which('zstd'), ['-dcq', file], { encoding: 'buffer', maxBuffer: 1 << 28 });
    return Buffer.from(stdout);
  }
  if (file.endsWith('.gz')) return gunzipSync(await readFile(file));
  return readFile(file);
}

/** True when an ELF64 file asks for a dynamic loader (has a PT_INTERP program header). */
function hasInterpreter(elf: Buffer): boolean {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  return false;
}

async function listTree(root: string, dir = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await listTree(root, rel)));
  }
  return out;
}

async function buildInitramfs(target: string, modules: string[], busybox: string, init: string): Promise<void> {
  const stage = await makeScratchDir('initramfs');
  try {
    for (const dir of ['bin', 'dev', 'proc', 'sys', 'lib/modules', 'host', 'job', 'ovl', 'newroot']) {
      await mkdir(path.join(stage, dir), { recursive: true });
    }
    await copyFile(busybox, path.join(stage, 'bin/busybox'));
    await chmod(path.join(stage, 'bin/busybox'), 0o755);
    const { stdout: applets } = await execa(busybox, ['--list']);
    for (const applet of applets.split('\n').filter((a) => a && a !== 'busybox')) {
      await symlink('busybox', path.join(stage, 'bin', applet));
    }
    const order: string[] = [];
    for (const file of modules) {
      const name = path.basename(file).replace(/\.(xz|zst|gz)$/, '');
      await writeFile(path.join(stage, 'lib/modules', name), await readModule(file));
      order.push(name);
    }
    await writeFile(path.join(stage, 'modules.order'), `${order.join('\n')}\n`);
    await writeFile(path.join(stage, 'init'), init, { mode: 0o755 });
    await chmod(path.join(stage, 'init'), 0o755);

    const list = (await listTree(stage)).join('\n');
    const { stdout: archive } = await execa(await which('cpio'), ['--quiet', '-o', '-H', 'newc', '-R', '0:0'], {
      cwd: stage,
      input: `${list}\n`,
      encoding: 'buffer',
      maxBuffer: 1 << 28,
    });
    await writeFileAtomic(target, gzipSync(Buffer.from(archive), { level: 6 }));
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/**
 * Removes initramfs builds of an older init script, but only those no process resolved for an hour
 * (prepare() touches the one it returns): a test process that resolved one before init.sh changed
 * (assets are memoized per process) may still boot it.
 */
async function removeOldInitramfs(keep: string, prefix: string): Promise<void> {
  const dir = path.dirname(keep);
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || name === path.basename(keep) || name.includes('.lock') || name.includes('.tmp-')) {
      continue;
    }
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > 3_600_000) await rm(file, { force: true });
  }
}

let cached: Promise<VmAssets> | undefined;

/**
 * Builds (if missing or stale) and returns the cached vmlinux and initramfs. Cache entries are keyed on
 * the kernel image and on everything that goes into the initramfs, so editing init.sh rebuilds it.
 */
export function ensureVmAssets(): Promise<VmAssets> {
  cached ??= prepare().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function prepare(): Promise<VmAssets> {
  await mkdir(cacheDir, { recursive: true });
  await pruneStaleScratch();
  const { kernelVersion, bzImage } = await pickKernel();

  const image = await readFile(bzImage);
  const vmlinux = path.join(cacheDir, `vmlinux-${kernelVersion}-${sha256(ASSETS_FORMAT, image).slice(0, 12)}`);
  await buildOnce(
    `${vmlinux}.lock`,
    () => fileExists(vmlinux),
    async () => {
      await writeFileAtomic(vmlinux, await decompressKernel(bzImagePayload(image)));
      await removeStaleSiblings(vmlinux, `vmlinux-${kernelVersion}-`);
    },
  );

  const busybox = await which('busybox');
  if (hasInterpreter(await readFile(busybox))) {
    throw new Error(`test-e2e: ${busybox} is dynamically linked; the initramfs needs busybox-static`);
  }
  const init = await readFile(guestInitScript, 'utf8');
  const modules = await resolveModules(kernelVersion);
  const key = sha256(ASSETS_FORMAT, kernelVersion, init, modules.join('\n'), await readFile(busybox)).slice(0, 12);
  const initramfs = path.join(cacheDir, `initramfs-${kernelVersion}-${key}.cpio.gz`);
  await buildOnce(
    `${initramfs}.lock`,
    () => fileExists(initramfs),
    async () => {
      await buildInitramfs(initramfs, modules, busybox, init);
      await removeOldInitramfs(initramfs, `initramfs-${kernelVersion}-`);
    },
  );
  const now = new Date();
  await utimes(initramfs, now, now);

  const qboot = '/usr/share/qemu/qboot.rom';
  return { kernelVersion, vmlinux, initramfs, bios: fileExists(qboot) ? qboot : undefined };
}
