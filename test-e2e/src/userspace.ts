// A real userspace for layers: Debian 12 (the harness kernel's distribution) made by debootstrap, with
// systemd as PID 1, LVM, the bootloaders' tools, the host's Node.js, and the test's own units
// (userspace-guest/), as an ext4 image cached under .work/cache. The checkout's imgbase is not in it
// (it changes with every commit): the trial tests copy it in when they lay the disk out. Booted through
// the proof initrd, which hands over to the layer's /sbin/init when the layer has no proof script.
import { copyFile, mkdir, open, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { cacheDir, e2eDir, makeScratchDir } from './paths.ts';
import { buildOnce, fileExists, removeStaleSiblings, sha256, which } from './util.ts';

/** What debootstrap installs beside minbase: init, udev, what imgbase drives, the bootloaders' tools. */
export const USERSPACE_PACKAGES: readonly string[] = [
  'systemd-sysv',
  'udev',
  'lvm2',
  'thin-provisioning-tools',
  'e2fsprogs',
  'grub-common',
  'extlinux',
  'kmod',
];
/** IMGBASED_E2E_DEBIAN_MIRROR: another Debian mirror (a local one in CI, say). */
const MIRROR = process.env.IMGBASED_E2E_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const SUITE = 'bookworm';
/** Bump when the image is made differently in a way the key does not see. */
const USERSPACE_FORMAT = '1';
/** Smaller than the thin host fixture's 1 GiB root volume, which `e2image -ra` writes it onto. */
const IMAGE_BYTES = 1000 * 1024 ** 2;
const GUEST_DIR = path.join(e2eDir, 'src/userspace-guest');
const NODE = '/usr/bin/node';
/** Where the trial tests put the checkout's CLI (bin/ and dist/) inside a layer. */
export const USERSPACE_CLI_DIR = '/usr/lib/imgbased-cli';
/**
 * Units that fail or wait on a console in a minimal guest and are no part of what is proven: gettys
 * (no one logs in; console=ttyS0 would start one; getty-static starts tty2-6 without logind), logind
 * (no D-Bus), first-boot prompts; LVM monitoring (dmeventd ignores SIGTERM while it monitors, so
 * every power-off would wait out systemd-shutdown's 90 s for it; `monitoring = 0` in lvm.conf too).
 */
const MASKED_UNITS = [
  'lvm2-monitor.service',
  'dm-event.service',
  'dm-event.socket',
  'serial-getty@ttyS0.service',
  'getty@tty1.service',
  'getty-static.service',
  'systemd-logind.service',
  'systemd-firstboot.service',
];

export interface UserspaceImage {
  /** The ext4 image (read-only cache entry: copy it, or write it to a device with `e2image -ra`). */
  path: string;
  /** Apparent size and the bytes its blocks take. */
  sizeBytes: number;
  usedBytes: number;
  /** Time to build it now; 0 when it came from the cache. */
  buildMs: number;
}

async function guestFiles(): Promise<Record<string, Buffer>> {
  const names = [
    'imgbased-e2e',
    'imgbased-e2e-started.service',
    'imgbased-e2e-report.service',
    'boot-check-console.conf',
  ];
  const files: Record<string, Buffer> = {};
  for (const name of names) files[name] = await readFile(path.join(GUEST_DIR, name));
  return files;
}

/** The cached userspace image, built first when missing (debootstrap: about a minute and a half). */
export async function buildUserspaceImage(): Promise<UserspaceImage> {
  const files = await guestFiles();
  const { stdout: nodeVersion } = await execa(NODE, ['--version']);
  const key = sha256(
    USERSPACE_FORMAT,
    SUITE,
    USERSPACE_PACKAGES.join(','),
    MASKED_UNITS.join(','),
    nodeVersion,
    ...Object.entries(files).flatMap(([name, data]) => [name, data]),
  ).slice(0, 12);
  const image = path.join(cacheDir, `userspace-${SUITE}-${key}.ext4`);
  let buildMs = 0;
  await buildOnce(
    `${image}.lock`,
    () => fileExists(image),
    async () => {
      const started = performance.now();
      const scratch = await makeScratchDir('userspace');
      try {
        const root = path.join(scratch, 'root');
        await execa(await which('debootstrap'), [
          '--variant=minbase',
          `--include=${USERSPACE_PACKAGES.join(',')}`,
          SUITE,
          root,
          MIRROR,
        ]);
        await customize(root, files);
        const temp = path.join(scratch, 'image.ext4');
        const handle = await open(temp, 'w');
        await handle.truncate(IMAGE_BYTES);
        await handle.close();
        await execa(await which('mkfs.ext4'), ['-q', '-F', '-L', 'userspace', '-d', root, temp]);
        await mkdir(cacheDir, { recursive: true });
        await rename(temp, image);
        await removeStaleSiblings(image, `userspace-${SUITE}-`);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      buildMs = Math.round(performance.now() - started);
    },
  );
  const { stdout } = await execa('du', ['-B1', image]);
  return { path: image, sizeBytes: IMAGE_BYTES, usedBytes: Number(stdout.split('\t')[0]), buildMs };
}

/** Node, the test units, a fixed machine id (no first boot), /boot from the fstab, fewer docs. */
async function customize(root: string, files: Record<string, Buffer>): Promise<void> {
  const at = (file: string) => path.join(root, file);
  await copyFile(NODE, at('usr/bin/node'));
  const { stdout: libs } = await execa('ldd', [NODE]);
  for (const lib of libs.matchAll(/(\/\S+\.so[^\s]*)/g)) {
    if (!fileExists(at(lib[1]!))) throw new Error(`userspace: ${NODE} needs ${lib[1]}, missing in the Debian tree`);
  }
  await writeFile(at('etc/machine-id'), `${sha256('imgbased-e2e-userspace').slice(0, 32)}\n`);
  await writeFile(at('etc/hostname'), 'layer.example.test\n');
  await writeFile(at('etc/fstab'), '/dev/vda1 /boot ext4 defaults 0 0\n');
  const lvmConf = at('etc/lvm/lvm.conf');
  await writeFile(lvmConf, `${await readFile(lvmConf, 'utf8')}\nactivation {\n\tmonitoring = 0\n}\n`);
  const system = at('etc/systemd/system');
  for (const unit of MASKED_UNITS) {
    await rm(path.join(system, unit), { force: true });
    await symlink('/dev/null', path.join(system, unit));
  }
  await writeFile(at('usr/local/sbin/imgbased-e2e'), files['imgbased-e2e']!, { mode: 0o755 });
  for (const [unit, target] of [
    ['imgbased-e2e-started.service', 'sysinit.target'],
    ['imgbased-e2e-report.service', 'multi-user.target'],
  ] as const) {
    await writeFile(path.join(system, unit), files[unit]!);
    await mkdir(path.join(system, `${target}.wants`), { recursive: true });
    await symlink(`/etc/systemd/system/${unit}`, path.join(system, `${target}.wants`, unit));
  }
  await mkdir(path.join(system, 'imgbased-boot-check.service.d'), { recursive: true });
  await writeFile(path.join(system, 'imgbased-boot-check.service.d/console.conf'), files['boot-check-console.conf']!);
  for (const dir of ['usr/share/doc', 'usr/share/man', 'usr/share/locale', 'var/cache/apt', 'var/lib/apt/lists']) {
    await rm(at(dir), { recursive: true, force: true });
    await mkdir(at(dir), { recursive: true });
  }
}
