// Real ext4 file systems on loop devices for the persistence tests (needs root). The old layer and the
// new layer are block-level copies of their bases' images, as thin snapshots are.
import { createHash } from 'node:crypto';
import { chmod, chown, link, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CommandResult } from '@imgbased/core';
import { ExecaCommandRunner } from '../execa-command-runner.js';

export const runner = new ExecaCommandRunner();
const MiB = 1024 ** 2;

export function tool(argv: string[], okExitCodes: number[] = [0]): Promise<CommandResult> {
  return runner.run({ argv, mutates: false, okExitCodes });
}

/** Loop devices and mounts made by a test, all undone by `cleanup` (also after a failure). */
export class Scratch {
  readonly mounts: string[] = [];
  readonly loops: string[] = [];
  constructor(readonly work: string) {}

  static async create(): Promise<Scratch> {
    return new Scratch(await mkdtemp(join(tmpdir(), 'imgbased-persist-it-')));
  }

  /** A new, empty ext4 image file. */
  async image(name: string, size = 64 * MiB): Promise<string> {
    const file = join(this.work, `${name}.img`);
    await writeFile(file, '');
    await truncate(file, size);
    await tool(['mkfs.ext4', '-q', '-F', file]);
    return file;
  }

  /** A block-level copy of an image, like a thin snapshot. */
  async clone(from: string, name: string): Promise<string> {
    const file = join(this.work, `${name}.img`);
    await tool(['cp', '--sparse=always', from, file]);
    return file;
  }

  async mount(image: string): Promise<string> {
    const loop = (await tool(['losetup', '--find', '--show', image])).stdout.trim();
    this.loops.push(loop);
    const dir = join(this.work, `mnt-${this.loops.length}`);
    await mkdir(dir);
    await tool(['mount', '-t', 'ext4', loop, dir]);
    this.mounts.push(dir);
    return dir;
  }

  async umount(dir: string): Promise<void> {
    await tool(['umount', dir]);
    this.mounts.splice(this.mounts.indexOf(dir), 1);
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

export async function put(
  root: string,
  path: string,
  content: string | Buffer,
  meta: { mode?: number; uid?: number; gid?: number } = {},
): Promise<void> {
  const target = join(root, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content);
  await chown(target, meta.uid ?? 0, meta.gid ?? 0);
  await chmod(target, meta.mode ?? 0o644);
}

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\n';
const GROUP = 'root:x:0:\nbin:x:1:\nwheel:x:10:root\n';
const SHADOW = 'root:$6$base:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n';
const GSHADOW = 'root:::\nbin:::\nwheel:::root\n';

/** The old base: a small /etc, /root and /usr. */
export async function buildOldBase(root: string): Promise<void> {
  await put(root, 'etc/hosts', '127.0.0.1 localhost\n');
  await put(root, 'etc/edited.conf', 'a=1\n');
  await put(root, 'etc/todelete.conf', 'gone soon\n');
  await put(root, 'etc/chmod.conf', 'mode only\n');
  await put(root, 'etc/xattr.conf', 'xattr only\n');
  await put(root, 'etc/updated-by-new.conf', 'v1\n');
  await put(root, 'etc/conflict.conf', 'base\n');
  await put(root, 'etc/ssh/ssh_host_key', 'excluded\n', { mode: 0o600 });
  await put(root, 'etc/passwd', PASSWD);
  await put(root, 'etc/group', GROUP);
  await put(root, 'etc/shadow', SHADOW, { mode: 0o000 });
  await put(root, 'etc/gshadow', GSHADOW, { mode: 0o000 });
  await put(root, 'root/.bashrc', '# bashrc\n', { mode: 0o600 });
  await put(root, 'usr/bin/tool', '#!/bin/sh\n', { mode: 0o755 });
  await tool(['setfattr', '-h', '-n', 'security.selinux', '-v', 'system_u:object_r:etc_t:s0', join(root, 'etc/hosts')]);
}

/** Every kind of admin change. */
export async function adminChanges(root: string): Promise<void> {
  await put(root, 'etc/new.conf', 'new by admin\n');
  await put(root, 'etc/edited.conf', 'a=2\n');
  await rm(join(root, 'etc/todelete.conf'));
  await chmod(join(root, 'etc/chmod.conf'), 0o600);
  await tool(['setfattr', '-h', '-n', 'user.checksum', '-v', 'abc', join(root, 'etc/xattr.conf')]);
  await put(root, 'etc/conflict.conf', 'admin\n');
  await put(root, 'etc/ssh/ssh_host_key', 'admin key, excluded\n', { mode: 0o600 });
  await put(root, 'etc/passwd', `${PASSWD}alice:x:1000:1000::/home/alice:/bin/bash\n`);
  await put(root, 'etc/group', `${GROUP.replace('wheel:x:10:root', 'wheel:x:10:root,alice')}alice:x:1000:\n`);
  await put(root, 'etc/shadow', `${SHADOW.replace('$6$base', '$6$admin')}alice:$6$alice:19500:0:99999:7:::\n`, {
    mode: 0o000,
  });
  await put(root, 'etc/gshadow', `${GSHADOW.replace('wheel:::root', 'wheel:::root,alice')}alice:!::\n`, {
    mode: 0o000,
  });
  await symlink('../usr/share/zoneinfo/UTC', join(root, 'etc/localtime'));
  await put(root, 'etc/hl-a', 'hard linked\n');
  await link(join(root, 'etc/hl-a'), join(root, 'etc/hl-b'));
  await put(root, 'root/bin/suid', '#!/bin/sh\n', { mode: 0o4755 });
  await put(root, 'root/bin/sgid', '#!/bin/sh\n', { mode: 0o2750, uid: 1000, gid: 1000 });
  await put(root, 'etc/acl.conf', 'with an ACL\n', { mode: 0o640 });
  await tool(['setfacl', '-m', 'u:1000:r', join(root, 'etc/acl.conf')]);
  await tool([
    'setfattr',
    '-h',
    '-n',
    'security.selinux',
    '-v',
    'system_u:object_r:admin_home_t:s0',
    join(root, 'etc/acl.conf'),
  ]);
  const sparse = join(root, 'root/sparse.img');
  await writeFile(sparse, Buffer.alloc(4096, 1));
  await truncate(sparse, 32 * MiB);
  await tool(['setfattr', '-h', '-n', 'user.note', '-v', 'sparse', sparse]);
}

/** What the new base changed relative to the old base. */
export async function newBaseChanges(root: string): Promise<void> {
  await put(root, 'etc/updated-by-new.conf', 'v2\n');
  await put(root, 'etc/conflict.conf', 'new base\n');
  await put(root, 'etc/added-by-new.conf', 'new base only\n');
  await put(root, 'etc/passwd', `${PASSWD}chrony:x:990:990::/var/lib/chrony:/sbin/nologin\n`);
  await put(root, 'etc/group', `${GROUP}chrony:x:990:\n`);
  await put(root, 'etc/shadow', `${SHADOW}chrony:!!:19600::::::\n`, { mode: 0o000 });
  await put(root, 'etc/gshadow', `${GSHADOW}chrony:!::\n`, { mode: 0o000 });
  await put(root, 'usr/bin/tool', '#!/bin/sh\n# v2\n', { mode: 0o755 });
}

/**
 * Every object under `roots` of a tree, as `path type mode uid:gid content-or-target xattrs`: what
 * must be equal when a file is carried exactly (timestamps aside). Hard links show as `=first-name`.
 */
export async function describeTree(dir: string, roots: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const inodes = new Map<string, string>();
  for (const root of roots) {
    const listing = await tool(['find', join(dir, root), '-printf', '%y %m %U:%G %i %n\\0%l\\0%P\\0'], [0, 1]);
    const fields = listing.stdout.split('\0');
    const records: [string, string, string][] = [];
    for (let i = 0; i + 2 < fields.length; i += 3) records.push([fields[i]!, fields[i + 1]!, fields[i + 2]!]);
    records.sort((x, y) => (x[2] < y[2] ? -1 : 1));
    for (const [stat, target, rel] of records) {
      const [type, mode, owner, ino, nlink] = stat.split(' ');
      const path = `/${root}${rel ? `/${rel}` : ''}`;
      let what = target;
      if (type === 'f') {
        what = createHash('sha256')
          .update(await readFile(join(dir, path)))
          .digest('hex')
          .slice(0, 16);
        if (Number(nlink) > 1) {
          const first = inodes.get(ino!);
          if (first === undefined) inodes.set(ino!, path);
          else what += ` =${first}`;
        }
      }
      const xattrs = (
        await tool(['getfattr', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', join(dir, path)], [0, 1])
      ).stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .sort()
        .join(',');
      out.set(path, `${type} ${mode} ${owner} ${what} ${xattrs}`);
    }
  }
  return out;
}
