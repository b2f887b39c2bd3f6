// Shared by the update*.e2e tests: OS images of every format imgbase update installs (built on the
// host, without loop devices), a thinp host disk prepared for them (kernel, proof initrd and an
// extended proof init in the root volume, extlinux on /boot, the admin's changes in the first layer),
// and the lines the booted system prints about itself.
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { buildBaseImage, buildProofInitrd, buildThinpHostDisk, makeScratchDir, repoRoot } from '../../src/index.ts';

// Not imported from boot-scenario.ts, which needs vitest: the demo uses this module too.
const IMGBASE = path.join(repoRoot, 'apps/cli/bin/imgbase');

/** PID 1 of every layer these tests boot: the standard proof lines plus what the update carried over. */
export const UPDATE_PROOF_SCRIPT = path.join(repoRoot, 'test-e2e/tests/support/update-proof.sh');

/** Files of the old root besides the fixture's: what the admin then edits, deletes, chmods. */
export const ROOT_EXTRA_FILES: Record<string, string> = {
  'etc/shadow': 'root:*:19000:0:99999:7:::\nvdsm:!!:19000::::::\n',
  'etc/gshadow': 'root:::\nkvm:!::vdsm\n',
  'etc/deleteme.conf': 'the admin deletes this\n',
  'etc/modeme.conf': 'the admin makes this 0600\n',
};

/** What the vendor changed in every new image: a file the admin left alone, a new user. */
function vendorFiles(nvr: string): Record<string, string> {
  return {
    ...ROOT_EXTRA_FILES,
    'etc/motd': `vendor motd of ${nvr}\n`,
    'etc/passwd': `${[
      'root:x:0:0:root:/root:/bin/bash',
      'bin:x:1:1:bin:/bin:/sbin/nologin',
      'daemon:x:2:2:daemon:/sbin:/sbin/nologin',
      'vdsm:x:36:36:Node Virtualization Manager:/var/lib/vdsm:/sbin/nologin',
      'nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin',
      'vendoruser:x:990:990::/var/lib/vendor:/sbin/nologin',
    ].join('\n')}\n`,
    'etc/group': 'root:x:0:\nbin:x:1:\ndaemon:x:2:\nkvm:x:36:vdsm\nnobody:x:65534:\nvendoruser:x:990:\n',
  };
}

export interface ImageSet {
  ext4: string;
  squashfs: string;
  liveimg: string;
  tar: string;
}

async function run(file: string, args: string[], cwd?: string): Promise<void> {
  await execa(file, args, { cwd, stdout: 'ignore' });
}

/**
 * An image of `format` holding an OS-like tree whose os-release names `nvr`, with the vendor's changes
 * and (unless `bootable` is false) a kernel, the proof initrd, busybox and the update proof init.
 * ext4 and liveimg are made with `mkfs.ext4 -d`, squashfs with mksquashfs, tar with tar + xz.
 */
export async function buildUpdateImage(
  target: string,
  options: {
    nvr: string;
    format: keyof ImageSet;
    bootable?: boolean;
    /** false: the os-release names no NVR (no IMAGE_NVR), so that it comes from the file name. */
    nvrInOsRelease?: boolean;
    extraFiles?: Record<string, string>;
    /** A file of this many random bytes in /var/lib/filler: an image whose copy takes a while. */
    fillerBytes?: number;
  },
): Promise<string> {
  const work = await makeScratchDir('update-image');
  try {
    const plain = path.join(work, 'plain.img');
    const files = { ...vendorFiles(options.nvr), ...options.extraFiles };
    if (options.nvrInOsRelease === false) {
      const version = options.nvr.split('-').slice(-2).join('-');
      files['etc/os-release'] =
        `NAME="oVirt Node"\nID=ovirt-node\nVERSION="${version}"\nPRETTY_NAME="oVirt Node ${version}"\n`;
    }
    await buildBaseImage(plain, { nvr: options.nvr, files });
    const tree = path.join(work, 'tree');
    await mkdir(tree);
    await run('debugfs', ['-R', `rdump / ${tree}`, plain]);
    await rm(path.join(tree, 'lost+found'), { recursive: true, force: true });
    if (options.bootable !== false) await makeBootable(tree, work);
    const filler = options.fillerBytes ?? 0;
    if (filler > 0) await writeRandomFile(path.join(tree, 'var/lib/filler'), filler);
    const ext4 = async (out: string) => {
      await writeFile(out, '');
      await execa('truncate', ['-s', `${96 + Math.ceil((filler * 1.1) / 2 ** 20)}M`, out]);
      await run('mkfs.ext4', ['-q', '-F', '-d', tree, out]);
    };
    await rm(target, { force: true });
    if (options.format === 'ext4') await ext4(target);
    if (options.format === 'squashfs') await run('mksquashfs', [tree, target, '-noappend', '-quiet', '-no-progress']);
    if (options.format === 'liveimg') {
      const live = path.join(work, 'live');
      await mkdir(path.join(live, 'LiveOS'), { recursive: true });
      await ext4(path.join(live, 'LiveOS/rootfs.img'));
      await run('mksquashfs', [live, target, '-noappend', '-quiet', '-no-progress']);
    }
    if (options.format === 'tar') await run('tar', ['-C', tree, '--numeric-owner', '-cJf', target, '.']);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (let done = 0; done < bytes; done += 2 ** 20) await handle.write(randomBytes(Math.min(2 ** 20, bytes - done)));
  } finally {
    await handle.close();
  }
}

let proofInitrd: Promise<{ kernelVersion: string; kernel: string; initrd: string }> | undefined;
/** The proof initrd, built once per test file. */
export function sharedProofInitrd(): Promise<{ kernelVersion: string; kernel: string; initrd: string }> {
  proofInitrd ??= (async () => {
    const initrd = path.join(await makeScratchDir('update-initrd'), 'initrd.img');
    return { ...(await buildProofInitrd(initrd)), initrd };
  })();
  return proofInitrd;
}

async function makeBootable(tree: string, work: string): Promise<void> {
  const { kernelVersion, kernel, initrd } = await sharedProofInitrd();
  await copyFile(kernel, path.join(tree, `boot/vmlinuz-${kernelVersion}`));
  await copyFile(initrd, path.join(tree, `boot/initrd.img-${kernelVersion}`));
  for (const d of ['bin', 'sbin']) await mkdir(path.join(tree, d), { recursive: true });
  const { stdout: busybox } = await execa('sh', ['-c', 'command -v busybox'], { cwd: work });
  await copyFile(busybox, path.join(tree, 'bin/busybox'));
  await chmod(path.join(tree, 'bin/busybox'), 0o755);
  await writeFile(path.join(tree, 'sbin/imgbased-proof'), await readFile(UPDATE_PROOF_SCRIPT), { mode: 0o755 });
}

/** The booted system's `UPDATE-PROOF key: value` lines. */
export function parseUpdateProof(console: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const match of console.matchAll(/^UPDATE-PROOF ([\w-]+): ?(.*?)\r?$/gm)) found[match[1]!] = match[2]!;
  return found;
}

/** Shell that opens the disk in the harness VM: the VG active, /boot mounted, extlinux configured. */
export const OPEN = `lvm vgchange -ay onn >&2
mount /dev/vda1 /boot
printf '[bootloader]\\nplugins = extlinux\\nboot_dir = /boot\\n' > /etc/imgbased.conf`;
export const CLOSE = 'sync\numount /boot\nlvm vgchange -an onn >&2';

/** `lvs` of everything in onn and every file of /boot with its checksum: equal before and after a refusal. */
export const FINGERPRINT = `{ lvm lvs -a --noheadings -o lv_name,lv_attr,lv_tags,lv_size,origin onn | sort; find /boot -xdev -type f -print0 | sort -z | xargs -0 sha256sum; }`;

/**
 * A thinp host disk with a kernel, the proof initrd, busybox and the update proof in its root volume,
 * extlinux on /boot, `layout --init Base-1-0`, and the admin's changes in Base-1-0+1: a new file, an
 * edit, a deletion, a mode change, a new user in passwd, shadow, group and gshadow, the proof marker.
 * Returns the disk; `extra` runs in the same VM before the disk is closed.
 */
export async function prepareUpdateDisk(name: string): Promise<{ disk: string; dir: string; setup: string }> {
  const dir = await makeScratchDir(name);
  const disk = (await buildThinpHostDisk(path.join(dir, 'host.img'))).path;
  const { kernelVersion, kernel, initrd } = await sharedProofInitrd();
  const extra = Object.entries(ROOT_EXTRA_FILES)
    .map(([file, text]) => `printf '%s' '${text}' > /mnt/root/${file}`)
    .join('\n');
  const setup = `mkdir -p /mnt/root /mnt/l
lvm vgchange -ay onn >&2
mount /dev/onn/root /mnt/root
mkdir -p /mnt/root/boot /mnt/root/bin /mnt/root/sbin /mnt/root/dev /mnt/root/proc /mnt/root/sys
cp ${kernel} /mnt/root/boot/vmlinuz-${kernelVersion}
cp ${initrd} /mnt/root/boot/initrd.img-${kernelVersion}
cp "$(command -v busybox)" /mnt/root/bin/busybox
cp ${UPDATE_PROOF_SCRIPT} /mnt/root/sbin/imgbased-proof && chmod 755 /mnt/root/sbin/imgbased-proof
${extra}
umount /mnt/root
${OPEN}
mkdir -p /boot/extlinux && extlinux --install /boot/extlinux >&2
dd if=/usr/lib/syslinux/mbr/mbr.bin of=/dev/vda bs=440 count=1 conv=notrunc 2>/dev/null
${IMGBASE} layout --init Base-1-0 --from onn/root >&2
mount /dev/onn/Base-1-0+1 /mnt/l
echo 'the admin wrote this' > /mnt/l/etc/admin-new.conf
echo 'admin-edited.example.test' > /mnt/l/etc/hostname
rm /mnt/l/etc/deleteme.conf
chmod 600 /mnt/l/etc/modeme.conf
echo 'alice:x:1001:1001::/home/alice:/bin/sh' >> /mnt/l/etc/passwd
echo 'alice:$6$salt$hash:19000:0:99999:7:::' >> /mnt/l/etc/shadow
echo 'alice:x:1001:' >> /mnt/l/etc/group
echo 'alice:!::' >> /mnt/l/etc/gshadow
echo 'Base-1-0+1' > /mnt/l/etc/imgbased-proof
umount /mnt/l`;
  return { disk, dir, setup };
}
