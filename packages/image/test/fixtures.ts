// OS images of every format built on this machine from one tree, loop devices to install them onto,
// and what the tests compare. Needs root (loop devices, mounts, security.* xattrs).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, chown, link, mkdir, mkdtemp, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CommandResult } from '@imgbased/core';
import { ExecaCommandRunner } from '@imgbased/system';

export const MiB = 1024 ** 2;
export const runner = new ExecaCommandRunner();

export function tool(argv: string[], okExitCodes: number[] = [0]): Promise<CommandResult> {
  return runner.run({ argv, mutates: false, okExitCodes });
}

export const NVR = 'Node-4.7-0.1';
/** The top-level names of the tree, as describeTree wants them. */
export const TOP = ['etc', 'usr', 'srv', 'home'];

async function put(root: string, path: string, content: string | Buffer, mode = 0o644, uid = 0, gid = 0) {
  const target = join(root, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content);
  await chown(target, uid, gid);
  await chmod(target, mode);
}

/**
 * A small root tree with what an install must keep: an os-release that is a symlink (naming the NVR),
 * user and SELinux xattrs, an ACL, hard links, a sparse file, symlinks, owners and special modes, an
 * empty directory. No device nodes.
 */
export async function buildTree(root: string, osRelease = `NAME="oVirt Node"\nIMAGE_NVR=${NVR}\n`): Promise<void> {
  await put(root, 'usr/lib/os-release', osRelease);
  await mkdir(join(root, 'etc'), { recursive: true });
  await symlink('../usr/lib/os-release', join(root, 'etc/os-release'));
  await put(root, 'etc/hosts', '127.0.0.1 localhost\n');
  // As SELinux stores labels: NUL-terminated (tar --selinux writes them so).
  const label = `0x${Buffer.from('system_u:object_r:net_conf_t:s0\0').toString('hex')}`;
  await tool(['setfattr', '-h', '-n', 'security.selinux', '-v', label, join(root, 'etc/hosts')]);
  await put(root, 'etc/acl.conf', 'with an ACL\n', 0o640);
  await tool(['setfacl', '-m', 'u:1000:r,g:10:rw', join(root, 'etc/acl.conf')]);
  await put(root, 'usr/bin/tool', '#!/bin/sh\necho tool\n', 0o755);
  await tool(['setfattr', '-h', '-n', 'user.origin', '-v', 'vendor', join(root, 'usr/bin/tool')]);
  await link(join(root, 'usr/bin/tool'), join(root, 'usr/bin/tool-alias'));
  await link(join(root, 'usr/bin/tool'), join(root, 'usr/sbin-tool'));
  await put(root, 'usr/bin/suid', '#!/bin/sh\n', 0o4755);
  await symlink('tool', join(root, 'usr/bin/link-to-tool'));
  await symlink('/nowhere/at/all', join(root, 'usr/bin/dangling'));
  await put(root, 'home/alice/notes', 'mine\n', 0o600, 1000, 1000);
  await mkdir(join(root, 'srv/empty'), { recursive: true });
  const sparse = join(root, 'srv/sparse.img');
  await put(root, 'srv/sparse.img', Buffer.alloc(4096, 7));
  await truncate(sparse, 32 * MiB);
  await put(root, 'srv/data.bin', createHash('sha512').update('x').digest().toString('hex').repeat(4000));
}

export async function makeExt4Image(tree: string, target: string, size = 96 * MiB): Promise<string> {
  await writeFile(target, '');
  await truncate(target, size);
  await tool(['mkfs.ext4', '-q', '-F', '-d', tree, target]);
  return target;
}

export async function makeSquashfs(tree: string, target: string): Promise<string> {
  await tool(['mksquashfs', tree, target, '-noappend', '-quiet', '-no-progress']);
  return target;
}

/** oVirt Node's liveimg: a squashfs holding LiveOS/rootfs.img, an ext4 image of the tree. */
export async function makeLiveimg(tree: string, target: string, work: string): Promise<string> {
  const stage = await mkdtemp(join(work, 'liveimg-'));
  await mkdir(join(stage, 'LiveOS'));
  await makeExt4Image(tree, join(stage, 'LiveOS/rootfs.img'));
  await makeSquashfs(stage, target);
  await rm(stage, { recursive: true });
  return target;
}

export async function makeTar(tree: string, target: string, compression: 'none' | 'gzip' | 'xz' | 'zstd') {
  const flag = { none: [], gzip: ['-z'], xz: ['-J'], zstd: ['--zstd'] }[compression];
  await tool([
    'tar',
    '-c',
    ...flag,
    '-f',
    target,
    '--xattrs',
    '--xattrs-include=*',
    '--acls',
    '--selinux',
    '--sparse',
    '--numeric-owner',
    '-C',
    tree,
    '.',
  ]);
  return target;
}

/** Loop devices on sparse files, and mounts, all undone by cleanup. */
export class Devices {
  private readonly loops: string[] = [];
  private readonly mounts: string[] = [];
  constructor(readonly work: string) {}

  static async create(): Promise<Devices> {
    return new Devices(await mkdtemp(join(tmpdir(), 'imgbased-it-image-')));
  }

  async loop(name: string, size: number): Promise<string> {
    const file = join(this.work, `${name}.dev`);
    await writeFile(file, '');
    await truncate(file, size);
    const loop = (await tool(['losetup', '--find', '--show', file])).stdout.trim();
    this.loops.push(loop);
    return loop;
  }

  async mount(device: string, readOnly = true): Promise<string> {
    const dir = await mkdtemp(join(this.work, 'mnt-'));
    await tool(['mount', '-t', 'ext4', '-o', readOnly ? 'ro' : 'rw', device, dir]);
    this.mounts.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const dir of this.mounts.reverse()) await tool(['umount', '-l', dir], [0, 32]);
    for (const loop of this.loops.reverse()) await tool(['losetup', '-d', loop], [0, 1]);
    this.mounts.length = 0;
    this.loops.length = 0;
  }

  async remove(): Promise<void> {
    await this.cleanup();
    await rm(this.work, { recursive: true, force: true });
  }
}

/** SHA-256 of everything on a device (or file). */
export async function contentHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

/** Bytes a file really takes on its file system. */
export async function allocatedBytes(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

/** Mounts the installer (its squashfs views) or the ext4 driver left behind: there must be none. */
export async function leftoverMounts(): Promise<string[]> {
  const out = (await tool(['findmnt', '-rn', '-o', 'TARGET'])).stdout.split('\n');
  return out.filter((target) => /^\/tmp\/imgbased-(mnt|sqfs)-/.test(target));
}
