// Disk fixtures: a host laid out like anaconda's `autopart --type=thinp`, and base images to add.
import { chmod, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { cacheDir, makeScratchDir } from './paths.ts';
import { buildOnce, fileExists, randomId, removeStaleSiblings, sha256, which } from './util.ts';
import { runInVm } from './vm.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export interface ThinpHostFixture {
  /** The disk image (a sparse copy of the cached template). */
  path: string;
  vg: 'onn';
  pool: 'pool00';
  rootLv: 'root';
  /** Device names as seen in the guest when this is the first disk. */
  bootPartition: '/dev/vda1';
  pvPartition: '/dev/vda2';
  /** What the root LV's /etc/os-release says. */
  osRelease: Record<string, string>;
}

/** os-release of the installed system on the thinp host fixture. */
export const HOST_OS_RELEASE: Readonly<Record<string, string>> = {
  NAME: 'oVirt Node',
  VERSION: '4.5.5',
  ID: 'ovirt-node',
  VERSION_ID: '4.5.5',
  PRETTY_NAME: 'oVirt Node 4.5.5',
  VARIANT: 'oVirt Node 4.5.5',
  VARIANT_ID: 'ovirt-node',
};

function osReleaseText(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}="${value}"\n`)
    .join('');
}

/**
 * Files of a tiny OS-like tree (paths relative to its root). Small on purpose: enough for imgbased to
 * find an os-release, users, an fstab and some /usr and /var content.
 */
function osTreeFiles(osRelease: Record<string, string>): Record<string, string> {
  return {
    'etc/os-release': osReleaseText(osRelease),
    'etc/hostname': 'node.example.test\n',
    'etc/passwd': [
      'root:x:0:0:root:/root:/bin/bash',
      'bin:x:1:1:bin:/bin:/sbin/nologin',
      'daemon:x:2:2:daemon:/sbin:/sbin/nologin',
      'vdsm:x:36:36:Node Virtualization Manager:/var/lib/vdsm:/sbin/nologin',
      'nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin',
      '',
    ].join('\n'),
    'etc/group': ['root:x:0:', 'bin:x:1:', 'daemon:x:2:', 'kvm:x:36:vdsm', 'nobody:x:65534:', ''].join('\n'),
    'etc/fstab': ['/dev/mapper/onn-root / ext4 defaults,discard 1 1', 'LABEL=boot /boot ext4 defaults 1 2', ''].join(
      '\n',
    ),
    'etc/motd': 'fixture host\n',
    'usr/bin/hello': '#!/bin/sh\necho hello from the fixture\n',
    'usr/bin/true-ish': '#!/bin/sh\nexit 0\n',
    'usr/lib/fixture/README': 'part of an OS-like test tree\n',
    'var/lib/fixture/state': 'installed\n',
    'var/log/messages': '',
    'root/.profile': '',
  };
}

const EMPTY_DIRS = ['boot', 'home', 'tmp', 'var/tmp', 'dev', 'proc', 'sys', 'run', 'mnt'];

/** Write an OS-like tree into `root`; names are relative or absolute paths inside the tree. */
async function writeOsTree(root: string, files: Record<string, string>): Promise<void> {
  for (const dir of EMPTY_DIRS) await mkdir(path.join(root, dir), { recursive: true });
  for (const dir of ['tmp', 'var/tmp']) await chmod(path.join(root, dir), 0o1777);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name.replace(/^\/+/, ''));
    if (!file.startsWith(`${root}/`)) throw new Error(`fixture: path escapes the tree: ${name}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content, { mode: /(^|\/)s?bin\//.test(name) ? 0o755 : 0o644 });
  }
}

/** Copy keeping holes, so a multi-GiB template costs only its few written MiB. */
async function copySparse(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(to)), { recursive: true });
  await rm(to, { force: true });
  await execa(await which('cp'), ['--sparse=always', from, to]);
}

/**
 * Runs in the guest (`sh -c SCRIPT thinp-host TREE`) with the template disk as /dev/vda. It refuses to
 * run anywhere but in the test VM: on a host, /dev/vda may well be the real system disk.
 */
const THINP_HOST_SCRIPT = `set -eu
grep -q 'e2e.watchdog=' /proc/cmdline || { echo 'refusing: not inside the test VM' >&2; exit 99; }
tree="$1"
# MBR like anaconda on a BIOS machine: /boot first, then the LVM PV on the rest.
printf 'label: dos\\nstart=1MiB, size=256MiB, type=83, bootable\\ntype=8e\\n' | sfdisk --quiet --wipe always /dev/vda
for i in $(seq 50); do [ -b /dev/vda2 ] && break; sleep 0.1; done
mkfs.ext4 -q -L boot /dev/vda1
pvcreate -q /dev/vda2
vgcreate -q onn /dev/vda2
# Thin pool on most of the VG; the rest stays free (pool metadata spare, growth) as autopart leaves it.
lvcreate -q --type thin-pool -l 80%VG -n pool00 onn
lvcreate -q --type thin -V 1G --thinpool pool00 -n root onn
mkfs.ext4 -q -d "$tree" /dev/onn/root
vgchange -q -an onn
sync
`;

/** Bump when the tree or layout changes in a way the key below does not see. */
const FIXTURE_FORMAT = '2';

/**
 * A scratch disk laid out like a host installed with `autopart --type=thinp`: MBR, vda1 = /boot (ext4,
 * 256 MiB, label "boot"), vda2 = PV of VG "onn" holding thin pool "pool00" (80% of the VG) and thin LV
 * "root" (1 GiB virtual, ext4 with a small OS-like tree). The VG is left inactive: run
 * `vgchange -ay onn` in the VM before use. Built once in a VM and cached; each call copies the template.
 */
export async function buildThinpHostDisk(target: string, opts: { sizeBytes?: number } = {}): Promise<ThinpHostFixture> {
  const sizeBytes = opts.sizeBytes ?? 8 * GiB;
  if (sizeBytes < 2 * GiB) throw new Error('buildThinpHostDisk: sizeBytes must be at least 2 GiB');
  const files = osTreeFiles(HOST_OS_RELEASE);
  const key = sha256(FIXTURE_FORMAT, THINP_HOST_SCRIPT, JSON.stringify(files), String(sizeBytes)).slice(0, 12);
  const template = path.join(cacheDir, `thinp-host-${sizeBytes}-${key}.img`);

  await buildOnce(
    `${template}.lock`,
    () => fileExists(template),
    async () => {
      // The scratch dir is under the repo, not /tmp, so the guest sees the tree through its 9p root.
      const scratch = await makeScratchDir('thinp-host');
      try {
        const tree = path.join(scratch, 'root');
        await writeOsTree(tree, files);
        const disk = path.join(scratch, 'disk.img');
        const result = await runInVm({
          command: ['sh', '-c', THINP_HOST_SCRIPT, 'thinp-host', tree],
          disks: [{ path: disk, sizeBytes }],
          timeoutMs: 240_000,
        });
        if (result.exitCode !== 0) {
          throw new Error(
            `buildThinpHostDisk: building the template failed (exit ${result.exitCode}):\n${result.stderr}\n${result.consoleTail}`,
          );
        }
        await rename(disk, template); // same file system, so atomic
        await removeStaleSiblings(template, `thinp-host-${sizeBytes}-`);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  );

  await copySparse(template, target);
  return {
    path: target,
    vg: 'onn',
    pool: 'pool00',
    rootLv: 'root',
    bootPartition: '/dev/vda1',
    pvPartition: '/dev/vda2',
    osRelease: { ...HOST_OS_RELEASE },
  };
}

export interface BaseImageOptions {
  /** name-version-release, e.g. "ovirt-node-ng-4.5.6-0.20240601.0". */
  nvr: string;
  /** Size of the ext4 file system; default 64 MiB. */
  sizeBytes?: number;
  /** Extra or replaced files: path inside the image (relative or absolute) → content. */
  files?: Record<string, string>;
}

/** name, version, release of an NVR: the last two dash-separated fields are version and release. */
export function splitNvr(nvr: string): { name: string; version: string; release: string } {
  const match = /^(.+)-([^-]+)-([^-]+)$/.exec(nvr);
  if (!match) throw new Error(`not an NVR (name-version-release): ${nvr}`);
  return { name: match[1]!, version: match[2]!, release: match[3]! };
}

/**
 * An ext4 image file holding an OS-like tree whose /etc/os-release names `nvr` (VERSION is
 * "version-release", IMAGE_NVR the whole NVR): a new base for `imgbase base --add NVR --size 1G FILE`.
 * Made on the host with `mkfs.ext4 -d` (no loop device). Returns `target`.
 */
export async function buildBaseImage(target: string, opts: BaseImageOptions): Promise<string> {
  const { name, version, release } = splitNvr(opts.nvr);
  const sizeBytes = opts.sizeBytes ?? 64 * MiB;
  const osRelease = {
    ...HOST_OS_RELEASE,
    VERSION: `${version}-${release}`,
    VERSION_ID: version,
    PRETTY_NAME: `oVirt Node ${version}`,
    VARIANT: `oVirt Node ${version}`,
    IMAGE_NAME: name,
    IMAGE_NVR: opts.nvr,
  };
  const stage = await makeScratchDir('base-image');
  try {
    await writeOsTree(stage, { ...osTreeFiles(osRelease), ...opts.files });
    await mkdir(path.dirname(path.resolve(target)), { recursive: true });
    const temp = `${target}.tmp-${randomId()}`;
    try {
      const handle = await open(temp, 'w');
      await handle.truncate(sizeBytes);
      await handle.close();
      await execa(await which('mkfs.ext4'), ['-q', '-F', '-d', stage, temp]);
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  return target;
}

/** Read a file out of an ext4 image on the host without mounting it (debugfs). */
export async function readFileFromExt4Image(image: string, file: string): Promise<string> {
  const { stdout } = await execa(await which('debugfs'), ['-R', `cat ${file}`, image], { stderr: 'ignore' });
  return stdout;
}
