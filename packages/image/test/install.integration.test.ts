import { join } from 'node:path';
import type { EngineEvent, ImageFormat, ImageInfo } from '@imgbased/core';
import { Ext4Driver } from '@imgbased/fs-ext4';
import { describeTree } from '@imgbased/system/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OsImageInstaller } from '../src/index.js';
import {
  allocatedBytes,
  buildTree,
  Devices,
  leftoverMounts,
  MiB,
  makeExt4Image,
  makeLiveimg,
  makeSquashfs,
  makeTar,
  NVR,
  runner,
  TOP,
  tool,
} from './fixtures.js';

// Every format built from one tree with real tools, installed onto a loop device, and read back.
const installer = new OsImageInstaller(runner, new Ext4Driver(runner));
let devices: Devices;
let tree: string;
let source: Map<string, string>;
const images: Record<string, string> = {};

beforeAll(async () => {
  devices = await Devices.create();
  tree = join(devices.work, 'tree');
  await buildTree(tree);
  source = await describeTree(tree, TOP);
  images.ext4 = await makeExt4Image(tree, join(devices.work, 'ext4-image.img'));
  images.squashfs = await makeSquashfs(tree, join(devices.work, 'squashfs-image.img'));
  images.liveimg = await makeLiveimg(tree, join(devices.work, 'liveimg-image.img'), devices.work);
  for (const compression of ['none', 'gzip', 'xz', 'zstd'] as const) {
    images[`tar-${compression}`] = await makeTar(tree, join(devices.work, `tar-${compression}-image.bin`), compression);
  }
});
afterEach(async () => {
  await devices.cleanup();
});
afterAll(async () => {
  await devices.remove();
});

/** A squashfs holds no ACLs (only user., trusted. and security. xattrs): those go, the rest stays. */
function withoutAcls(tree: Map<string, string>): Map<string, string> {
  return new Map([...tree].map(([path, line]) => [path, line.replace(/,?system\.posix_acl_\w+=0x[0-9a-f]+/g, '')]));
}

const CASES: { image: string; format: ImageFormat; keepsAcls: boolean }[] = [
  { image: 'ext4', format: 'ext4', keepsAcls: true },
  { image: 'liveimg', format: 'liveimg', keepsAcls: true },
  { image: 'squashfs', format: 'squashfs', keepsAcls: false },
  { image: 'tar-none', format: 'tar', keepsAcls: true },
  { image: 'tar-gzip', format: 'tar', keepsAcls: true },
  { image: 'tar-xz', format: 'tar', keepsAcls: true },
  { image: 'tar-zstd', format: 'tar', keepsAcls: true },
];

describe('OsImageInstaller on loop devices', () => {
  it('the source tree has what the installs must keep', () => {
    expect(source.get('/etc/acl.conf')).toMatch(/system\.posix_acl_access=/);
    expect(source.get('/etc/hosts')).toMatch(/security\.selinux=/);
    expect(source.get('/usr/bin/tool-alias')).toMatch(/ =\/usr\/bin\/tool /);
  });

  for (const { image, format, keepsAcls } of CASES) {
    it(`installs ${image}: the same tree, hard links, xattrs${keepsAcls ? ', ACLs' : ''} and holes`, async () => {
      const info = await installer.inspect(images[image]!);
      expect(info).toMatchObject({ format, nvr: NVR, nvrFrom: 'os-release' });
      const device = await devices.loop(image, 256 * MiB);
      expect(info.minimumDeviceBytes).toBeLessThanOrEqual(256 * MiB);
      const events: EngineEvent[] = [];
      await installer.install(info, device, { report: (e) => events.push(e) });

      const root = await devices.mount(device);
      const installed = await describeTree(root, TOP);
      expect(keepsAcls ? installed : withoutAcls(installed)).toEqual(keepsAcls ? source : withoutAcls(source));
      expect(Number((await tool(['stat', '-c', '%h', join(root, 'usr/bin/tool')])).stdout)).toBe(3);
      // 4 KiB of data in 32 MiB: holes stay holes (squashfs rounds to its 128 KiB blocks).
      expect(await allocatedBytes(join(root, 'srv/sparse.img'))).toBeLessThanOrEqual(256 * 1024);
      // The file system fills the device (ext4 and liveimg are grown after the copy).
      const df = await tool(['df', '--output=size', '-B1', root]);
      expect(Number(df.stdout.split('\n')[1])).toBeGreaterThan(200 * MiB);

      const progress = events.filter((e) => e.type === 'progress');
      expect(progress.at(-1)).toMatchObject({ step: 'install', total: info.dataBytes });
      expect((progress.at(-1) as { bytes: number }).bytes).toBeGreaterThan(0);
      expect(await leftoverMounts()).toEqual([]);
    });
  }

  it('writes only the used blocks of an ext4 image: the device file stays thin', async () => {
    const info = await installer.inspect(images.ext4!);
    const device = await devices.loop('thin', 1024 * MiB);
    await installer.install(info, device);
    await tool(['losetup', '-d', device]);
    // The image's used blocks, plus what resize2fs writes for the grown groups: far below 1 GiB.
    expect(await allocatedBytes(join(devices.work, 'thin.dev'))).toBeLessThan(info.dataBytes + 64 * MiB);
  });

  it('plans without writing in a dry run', async () => {
    const device = await devices.loop('dry', 256 * MiB);
    const before = (await tool(['sha256sum', device])).stdout;
    const events: EngineEvent[] = [];
    const info: ImageInfo = await installer.inspect(images.squashfs!, {}, { dryRun: true });
    await installer.install(info, device, { dryRun: true, report: (e) => events.push(e) });
    const planned = events.flatMap((e) => (e.type === 'command' && e.planned ? [e.argv[0]] : []));
    expect(planned).toEqual(['mkfs.ext4', 'mount', 'unsquashfs', 'umount']);
    expect((await tool(['sha256sum', device])).stdout).toBe(before);
  });

  it('is cancelled during the copy, leaving nothing mounted', async () => {
    const big = join(devices.work, 'big-tree');
    await buildTree(big);
    await tool(['dd', 'if=/dev/urandom', `of=${join(big, 'srv/big.bin')}`, 'bs=1M', 'count=200', 'status=none']);
    const image = await makeTar(big, join(devices.work, 'big.tar.gz'), 'gzip');
    const info = await installer.inspect(image);
    const device = await devices.loop('cancel', 512 * MiB);
    const controller = new AbortController();
    const running = installer.install(info, device, {
      signal: controller.signal,
      report: (e) => {
        if (e.type === 'command' && e.argv[0] === 'tar') setTimeout(() => controller.abort(), 300);
      },
    });
    await expect(running).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(await leftoverMounts()).toEqual([]);
  });
});
