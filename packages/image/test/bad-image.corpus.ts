import { randomBytes } from 'node:crypto';
import { mkdir, open, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildTree, MiB, makeExt4Image, makeSquashfs, makeTar, tool } from './fixtures.js';

/**
 * Bad images, as data (issue 14's "Bad input, counted"): each case makes a file (or a path that is no
 * image) in `work` and says what `inspect` must answer: a typed error code, read-only all the way.
 */
export interface BadImageCase {
  readonly name: string;
  readonly code: string;
  /** The inspect option --format, when the case is about it. */
  readonly format?: 'ext4' | 'squashfs' | 'tar';
  readonly nvr?: string;
  readonly make: (work: string) => Promise<string>;
}

const bytes = (name: string, content: Buffer) => async (work: string) => {
  const path = join(work, name);
  await writeFile(path, content);
  return path;
};
const magicThenGarbage = (name: string, magic: number[], offset = 0) =>
  bytes(name, Buffer.concat([Buffer.alloc(offset), Buffer.from(magic), randomBytes(128 * 1024)]));

/** A good tree packed by `pack`, then cut to `fraction` of its size. */
const truncated =
  (name: string, pack: (tree: string, target: string) => Promise<string>, fraction: number) => async (work: string) => {
    const tree = join(work, `${name}-tree`);
    await buildTree(tree);
    await tool(['dd', 'if=/dev/urandom', `of=${join(tree, 'srv/big.bin')}`, 'bs=1M', 'count=2', 'status=none']);
    const path = await pack(tree, join(work, name));
    await truncate(path, Math.floor((await stat(path)).size * fraction));
    return path;
  };

/** A tree without /etc (no root file system), packed by `pack`. */
const noRootTree = (name: string, pack: (tree: string, target: string) => Promise<string>) => async (work: string) => {
  const tree = join(work, `${name}-tree`);
  await mkdir(join(tree, 'data'), { recursive: true });
  await writeFile(join(tree, 'data/readme'), 'not an OS');
  return pack(tree, join(work, name));
};

/** A good tree packed by `pack`, for the format-mismatch cases. */
const good = (name: string, pack: (tree: string, target: string) => Promise<string>) => async (work: string) => {
  const tree = join(work, `${name}-tree`);
  await buildTree(tree);
  return pack(tree, join(work, name));
};

const compressed = (name: string, argv: string[]) => async (work: string) => {
  const path = join(work, name);
  await writeFile(path, randomBytes(64 * 1024));
  await tool([...argv, path]);
  return `${path}${argv[0] === 'gzip' ? '.gz' : argv[0] === 'xz' ? '.xz' : '.zst'}`;
};

const tarOf = (compression: 'none' | 'gzip' | 'xz' | 'zstd') => (tree: string, target: string) =>
  makeTar(tree, target, compression);
const ext4 = (tree: string, target: string) => makeExt4Image(tree, target, 32 * MiB);

export const BAD_IMAGE_CASES: readonly BadImageCase[] = [
  { name: 'an empty file', code: 'E_IMAGE_FORMAT_UNKNOWN', make: bytes('empty.img', Buffer.alloc(0)) },
  { name: 'random bytes', code: 'E_IMAGE_FORMAT_UNKNOWN', make: bytes('random.img', randomBytes(256 * 1024)) },
  { name: 'NUL bytes', code: 'E_IMAGE_FORMAT_UNKNOWN', make: bytes('zeros.img', Buffer.alloc(64 * 1024)) },
  { name: 'one byte', code: 'E_IMAGE_FORMAT_UNKNOWN', make: bytes('one.img', Buffer.from([0x1f])) },
  {
    name: 'a qcow2 disk',
    code: 'E_IMAGE_FORMAT_UNKNOWN',
    make: magicThenGarbage('disk.qcow2', [0x51, 0x46, 0x49, 0xfb]),
  },
  { name: 'bzip2', code: 'E_IMAGE_FORMAT_UNKNOWN', make: magicThenGarbage('root.tar.bz2', [0x42, 0x5a, 0x68]) },
  { name: 'a zip archive', code: 'E_IMAGE_FORMAT_UNKNOWN', make: magicThenGarbage('root.zip', [0x50, 0x4b, 3, 4]) },
  {
    name: 'an old squashfs',
    code: 'E_IMAGE_FORMAT_UNKNOWN',
    make: magicThenGarbage('old.sqfs', [0x73, 0x71, 0x73, 0x68]),
  },
  {
    name: 'an ISO 9660 image',
    code: 'E_IMAGE_FORMAT_UNKNOWN',
    nvr: 'X-1-1',
    make: magicThenGarbage('node.iso', [0x43, 0x44, 0x30, 0x30, 0x31], 0x8001),
  },
  { name: 'gzip of random bytes', code: 'E_IMAGE_FORMAT_UNKNOWN', make: compressed('payload-gz', ['gzip', '-kf']) },
  { name: 'xz of random bytes', code: 'E_IMAGE_FORMAT_UNKNOWN', make: compressed('payload-xz', ['xz', '-kf']) },
  { name: 'zstd of random bytes', code: 'E_IMAGE_FORMAT_UNKNOWN', make: compressed('payload-zst', ['zstd', '-qf']) },
  { name: 'gzip magic, then garbage', code: 'E_IMAGE_INVALID', make: magicThenGarbage('bad.tar.gz', [0x1f, 0x8b]) },
  {
    name: 'xz magic, then garbage',
    code: 'E_IMAGE_INVALID',
    make: magicThenGarbage('bad.tar.xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]),
  },
  {
    name: 'zstd magic, then garbage',
    code: 'E_IMAGE_INVALID',
    make: magicThenGarbage('bad.tar.zst', [0x28, 0xb5, 0x2f, 0xfd]),
  },
  {
    name: 'squashfs magic, then garbage',
    code: 'E_IMAGE_INVALID',
    make: magicThenGarbage('bad.sqfs', [0x68, 0x73, 0x71, 0x73]),
  },
  {
    name: 'ext4 magic in garbage',
    code: 'E_IMAGE_INVALID',
    make: bytes(
      'bad-ext4.img',
      Buffer.concat([randomBytes(1024 + 0x38), Buffer.from([0x53, 0xef]), randomBytes(64 * 1024)]),
    ),
  },
  { name: 'a truncated tar.gz', code: 'E_IMAGE_INVALID', make: truncated('cut.tar.gz', tarOf('gzip'), 0.5) },
  { name: 'a truncated tar.xz', code: 'E_IMAGE_INVALID', make: truncated('cut.tar.xz', tarOf('xz'), 0.5) },
  { name: 'a truncated tar.zst', code: 'E_IMAGE_INVALID', make: truncated('cut.tar.zst', tarOf('zstd'), 0.5) },
  { name: 'a truncated tar', code: 'E_IMAGE_INVALID', make: truncated('cut.tar', tarOf('none'), 0.5) },
  { name: 'a truncated squashfs', code: 'E_IMAGE_INVALID', make: truncated('cut.sqfs', makeSquashfs, 0.5) },
  { name: 'a truncated ext4 image', code: 'E_IMAGE_INVALID', make: truncated('cut.img', ext4, 0.25) },
  {
    name: 'an ext4 image with garbage over its group descriptors',
    code: 'E_IMAGE_INVALID',
    make: async (work) => {
      const path = await good('damaged.img', ext4)(work);
      const handle = await open(path, 'r+');
      await handle.write(randomBytes(64 * 1024), 0, 64 * 1024, 4096);
      await handle.close();
      return path;
    },
  },
  { name: 'a tar without /etc', code: 'E_IMAGE_INVALID', nvr: 'X-1-1', make: noRootTree('no-root.tar', tarOf('none')) },
  {
    name: 'a tar.gz without /etc',
    code: 'E_IMAGE_INVALID',
    nvr: 'X-1-1',
    make: noRootTree('no-root.tar.gz', tarOf('gzip')),
  },
  {
    name: 'a squashfs without /etc',
    code: 'E_IMAGE_INVALID',
    nvr: 'X-1-1',
    make: noRootTree('no-root.sqfs', makeSquashfs),
  },
  { name: 'an ext4 image without /etc', code: 'E_IMAGE_INVALID', nvr: 'X-1-1', make: noRootTree('no-root.img', ext4) },
  {
    name: 'a liveimg whose rootfs.img is garbage',
    code: 'E_IMAGE_INVALID',
    nvr: 'X-1-1',
    make: async (work) => {
      const stage = join(work, 'bad-live');
      await mkdir(join(stage, 'LiveOS'), { recursive: true });
      await writeFile(join(stage, 'LiveOS/rootfs.img'), randomBytes(8192));
      return makeSquashfs(stage, join(work, 'bad-live.img'));
    },
  },
  { name: '--format tar for a squashfs', code: 'E_IMAGE_INVALID', format: 'tar', make: good('f1.sqfs', makeSquashfs) },
  { name: '--format ext4 for a tar', code: 'E_IMAGE_INVALID', format: 'ext4', make: good('f2.tar', tarOf('none')) },
  {
    name: '--format squashfs for an ext4 image',
    code: 'E_IMAGE_INVALID',
    format: 'squashfs',
    make: good('f3.img', ext4),
  },
  {
    name: 'a directory',
    code: 'E_IMAGE_INVALID',
    make: async (work) => {
      await mkdir(join(work, 'dir.img'));
      return join(work, 'dir.img');
    },
  },
  { name: 'a missing file', code: 'E_IMAGE_INVALID', make: async (work) => join(work, 'missing.img') },
  {
    name: 'a symlink loop',
    code: 'E_IMAGE_INVALID',
    make: async (work) => {
      await symlink('loop-b.img', join(work, 'loop-a.img'));
      await symlink('loop-a.img', join(work, 'loop-b.img'));
      return join(work, 'loop-a.img');
    },
  },
  { name: '/dev/null', code: 'E_IMAGE_FORMAT_UNKNOWN', make: async () => '/dev/null' },
  {
    name: 'a tree without an NVR anywhere',
    code: 'E_USAGE',
    make: async (work) => {
      const tree = join(work, 'no-nvr-tree');
      await buildTree(tree, 'NAME=Something\n');
      return makeTar(tree, join(work, 'image.tar'), 'none');
    },
  },
];
