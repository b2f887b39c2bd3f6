import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageInfo } from '@imgbased/core';
import { Ext4Driver } from '@imgbased/fs-ext4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OsImageInstaller, UrlOrFileImageSource } from '../src/index.js';
import {
  buildTree,
  contentHash,
  Devices,
  leftoverMounts,
  MiB,
  makeExt4Image,
  makeLiveimg,
  makeSquashfs,
  makeTar,
  NVR,
  runner,
  tool,
} from './fixtures.js';

// What an image is, told by real tools, and every refusal happening before the device is touched.
const installer = new OsImageInstaller(runner, new Ext4Driver(runner));
const source = new UrlOrFileImageSource();
let devices: Devices;
let work: string;
let tree: string;

beforeAll(async () => {
  devices = await Devices.create();
  work = devices.work;
  tree = join(work, 'tree');
  await buildTree(tree);
});
afterAll(async () => {
  await devices.remove();
});

/** What the engine will do: resolve and verify, inspect, then install. */
async function update(image: string, device: string, options: { sha256?: string; nvr?: string } = {}) {
  const local = await source.resolve(image, { downloadDirectory: join(work, 'downloads'), sha256: options.sha256 });
  const info = await installer.inspect(local.path, { nvr: options.nvr, fileName: local.fileName });
  await installer.install(info, device);
  return info;
}

/** Runs `attempt` against a fresh device and checks that it fails with `code`, the device byte for byte as before. */
async function refused(code: string, attempt: (device: string) => Promise<unknown>, saying = ''): Promise<void> {
  const device = await devices.loop(`refused-${code}-${Math.random().toString(36).slice(2)}`, 128 * MiB);
  await tool(['mkfs.ext4', '-q', '-F', device]); // something there, to see that it stays
  const before = await contentHash(device);
  const error = await attempt(device).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code, message: expect.stringContaining(saying) });
  expect(await contentHash(device)).toBe(before);
  expect(await leftoverMounts()).toEqual([]);
}

describe('inspect', () => {
  it('tells formats by content, whatever the file is called', async () => {
    const misnamed = await makeSquashfs(tree, join(work, 'looks-like.tar.gz'));
    expect(await installer.inspect(misnamed)).toMatchObject({ format: 'squashfs', nvr: NVR });
    const tarNamedImg = await makeTar(tree, join(work, 'image.img'), 'xz');
    expect(await installer.inspect(tarNamedImg)).toMatchObject({ format: 'tar', compression: 'xz' });
  });

  it('sizes ext4 by its used blocks and its file system, a tree by its bytes', async () => {
    const ext4 = await installer.inspect(await makeExt4Image(tree, join(work, 'size.img'), 96 * MiB));
    expect(ext4.minimumDeviceBytes).toBe(96 * MiB);
    // The tree holds about 0.3 MiB of data (the sparse file's holes are not used blocks).
    expect(ext4.dataBytes).toBeGreaterThan(256 * 1024);
    expect(ext4.dataBytes).toBeLessThan(20 * MiB);
    const tar = await installer.inspect(await makeTar(tree, join(work, 'size.tar'), 'none'));
    // A listing counts apparent sizes: the 32 MiB sparse file whole (an estimate that errs on the safe side).
    expect(tar.dataBytes).toBeGreaterThan(32 * MiB);
    expect(tar.minimumDeviceBytes).toBeGreaterThan(tar.dataBytes);
  });

  it('takes the NVR from --nvr, then os-release (IMAGE_NVR, IMAGE_ID+IMAGE_VERSION), then the file name', async () => {
    const withNvr = await makeSquashfs(tree, join(work, 'Other-1-1.squashfs'));
    expect(await installer.inspect(withNvr, { nvr: 'Given-2-3' })).toMatchObject({
      nvr: 'Given-2-3',
      nvrFrom: 'option',
    });
    expect(await installer.inspect(withNvr)).toMatchObject({ nvr: NVR, nvrFrom: 'os-release' });

    const standard = join(work, 'standard');
    await buildTree(standard, 'NAME=Node\nIMAGE_ID=node\nIMAGE_VERSION=5.0-1\n');
    const ext4 = await makeExt4Image(standard, join(work, 'standard.img'));
    expect(await installer.inspect(ext4)).toMatchObject({ nvr: 'node-5.0-1', nvrFrom: 'os-release' });

    const plain = join(work, 'plain');
    await buildTree(plain, 'NAME=Node\nVERSION_ID=4.7\n');
    const named = await makeTar(plain, join(work, 'Node-4.8-0.2.tar.zst'), 'zstd');
    expect(await installer.inspect(named)).toMatchObject({ nvr: 'Node-4.8-0.2', nvrFrom: 'file-name' });
    expect(await installer.inspect(named, { fileName: 'Node-4.9-1.tar.zst' })).toMatchObject({ nvr: 'Node-4.9-1' });
    const nameless = await makeTar(plain, join(work, 'rootfs.tar.zst'), 'zstd');
    await expect(installer.inspect(nameless)).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringMatching(/--nvr.*IMAGE_NVR=.*Node-4\.7-0\.1\.squashfs/),
    });
  });

  it('reads a liveimg’s NVR from the ext4 inside it, and releases its mount', async () => {
    const liveimg = await makeLiveimg(tree, join(work, 'ovirt-node-ng-image.squashfs.img'), work);
    expect(await installer.inspect(liveimg)).toMatchObject({
      format: 'liveimg',
      nvr: NVR,
      minimumDeviceBytes: 96 * MiB,
    });
    expect(await leftoverMounts()).toEqual([]);
    expect((await tool(['losetup', '-j', liveimg])).stdout).toBe('');
  });

  it('refuses --format naming another format, and an image that holds no root tree', async () => {
    const squashfs = await makeSquashfs(tree, join(work, 'format.squashfs'));
    await expect(installer.inspect(squashfs, { format: 'tar' })).rejects.toMatchObject({ code: 'E_IMAGE_INVALID' });
    expect(await installer.inspect(squashfs, { format: 'squashfs' })).toMatchObject({ format: 'squashfs' });
    const notOs = join(work, 'not-os');
    await mkdir(join(notOs, 'data'), { recursive: true });
    await writeFile(join(notOs, 'data/x'), 'x');
    await symlink('data', join(notOs, 'etc-link'));
    await expect(installer.inspect(await makeSquashfs(notOs, join(work, 'not-os.sqfs')))).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
      message: expect.stringContaining('no root tree'),
    });
  });
});

describe('refusals leave the device as it was', () => {
  it('a wrong --sha256, and a wrong IMAGE.sha256', async () => {
    const image = await makeExt4Image(tree, join(work, `${NVR}.img`));
    await refused('E_IMAGE_CHECKSUM', (device) => update(image, device, { sha256: 'e'.repeat(64) }));
    await writeFile(`${image}.sha256`, `${'d'.repeat(64)}  ${NVR}.img\n`);
    await refused('E_IMAGE_CHECKSUM', (device) => update(image, device));
    await rm(`${image}.sha256`);
  });

  it('a damaged ext4 image (e2fsck -n), a truncated squashfs and a truncated tar.gz', async () => {
    const ext4 = await makeExt4Image(tree, join(work, 'damaged.img'));
    const handle = await open(ext4, 'r+');
    await handle.write(randomBytes(64 * 1024), 0, 64 * 1024, 4096); // group descriptors and bitmaps
    await handle.close();
    await refused('E_IMAGE_INVALID', (device) => update(ext4, device), 'e2fsck -n finds its file system damaged: ');

    const squashfs = await makeSquashfs(tree, join(work, 'truncated.sqfs'));
    await truncate(squashfs, Math.floor((await stat(squashfs)).size / 2));
    await refused('E_IMAGE_INVALID', (device) => update(squashfs, device), 'unsquashfs');

    const tgz = await makeTar(tree, join(work, 'truncated.tar.gz'), 'gzip');
    const big = join(work, 'big-tree');
    await buildTree(big);
    await tool(['dd', 'if=/dev/urandom', `of=${join(big, 'srv/big.bin')}`, 'bs=1M', 'count=4', 'status=none']);
    await makeTar(big, tgz, 'gzip');
    await truncate(tgz, 2 * MiB);
    await refused('E_IMAGE_INVALID', (device) => update(tgz, device), 'Unexpected EOF');
  });

  it('a liveimg whose rootfs.img is not ext4', async () => {
    const stage = join(work, 'bad-live');
    await mkdir(join(stage, 'LiveOS'), { recursive: true });
    await writeFile(join(stage, 'LiveOS/rootfs.img'), randomBytes(8192));
    const image = await makeSquashfs(stage, join(work, 'bad-live.img'));
    await refused('E_IMAGE_INVALID', (device) => update(image, device, { nvr: 'X-1-1' }));
  });

  it('unknown formats: random bytes, a gzip that holds no tar, an ISO-like file, an empty file', async () => {
    const random = join(work, `${NVR}.bin`);
    await writeFile(random, randomBytes(256 * 1024));
    await refused('E_IMAGE_FORMAT_UNKNOWN', (device) => update(random, device));

    const gz = join(work, 'not-a-tar.tar.gz');
    await copyFile(random, join(work, 'payload'));
    await tool(['gzip', '-kf', join(work, 'payload')]);
    await copyFile(join(work, 'payload.gz'), gz);
    await refused('E_IMAGE_FORMAT_UNKNOWN', (device) => update(gz, device), 'not a tar archive');

    const iso = join(work, 'node.iso');
    await writeFile(iso, Buffer.concat([Buffer.alloc(0x8001), Buffer.from('CD001'), Buffer.alloc(4096)]));
    await refused('E_IMAGE_FORMAT_UNKNOWN', (device) => update(iso, device, { nvr: 'X-1-1' }), 'ISO 9660');

    const empty = join(work, 'empty.img');
    await writeFile(empty, '');
    await refused('E_IMAGE_FORMAT_UNKNOWN', (device) => update(empty, device));
  });

  it('an image without an NVR is a usage error; a good one then installs', async () => {
    const plain = join(work, 'plain-2');
    await buildTree(plain, 'NAME=Node\n');
    const image = await makeSquashfs(plain, join(work, 'image.squashfs'));
    await refused('E_USAGE', (device) => update(image, device));
    const device = await devices.loop('good', 256 * MiB);
    const info: ImageInfo = await update(image, device, { nvr: 'Node-9-1' });
    expect(info).toMatchObject({ nvr: 'Node-9-1', format: 'squashfs' });
    expect((await tool(['blkid', '-p', '-o', 'value', '-s', 'TYPE', device])).stdout.trim()).toBe('ext4');
  });
});
