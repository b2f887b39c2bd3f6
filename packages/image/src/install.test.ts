import type { ImageInfo } from '@imgbased/core';
import { RecordingFilesystem, ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { installImage, tarArgv } from './install.js';

function image(overrides: Partial<ImageInfo>): ImageInfo {
  return {
    path: '/var/tmp/Node-1-0.img',
    format: 'ext4',
    nvr: 'Node-1-0',
    nvrFrom: 'os-release',
    dataBytes: 1024,
    minimumDeviceBytes: 4096,
    ...overrides,
  };
}

describe('installImage', () => {
  it('writes an ext4 image through the file system driver (used blocks, then grown)', async () => {
    const runner = new ScriptedRunner({ strict: true });
    const filesystems = new RecordingFilesystem();
    await installImage(runner, filesystems, image({}), '/dev/fake/new');
    expect(filesystems.calls).toEqual(['writeImage /var/tmp/Node-1-0.img /dev/fake/new']);
    expect(runner.commandLines).toEqual([]);
  });

  it('writes a liveimg’s rootfs.img from a read-only mount of it, unmounted even when the write fails', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['mount'], {}).on(['umount'], {});
    const filesystems = new RecordingFilesystem();
    filesystems.fail = { method: 'writeImage', error: new Error('disk full') };
    await expect(installImage(runner, filesystems, image({ format: 'liveimg' }), '/dev/fake/new')).rejects.toThrow(
      'disk full',
    );
    expect(runner.commandLines[0]).toMatch(
      /^mount -t squashfs -o ro,loop \/var\/tmp\/Node-1-0\.img \/tmp\/imgbased-sqfs-\w+\/root$/,
    );
    expect(filesystems.calls[0]).toMatch(
      /^writeImage \/tmp\/imgbased-sqfs-\w+\/root\/LiveOS\/rootfs\.img \/dev\/fake\/new$/,
    );
    expect(runner.commandLines[1]).toMatch(/^umount \/tmp\/imgbased-sqfs-\w+\/root$/);
  });

  it('fills a fresh ext4 with unsquashfs, keeping xattrs', async () => {
    const runner = new ScriptedRunner({ strict: true }).on(['unsquashfs'], {});
    const filesystems = new RecordingFilesystem();
    await installImage(runner, filesystems, image({ format: 'squashfs' }), '/dev/fake/new');
    expect(filesystems.calls).toEqual(['create /dev/fake/new', 'mount /dev/fake/new']);
    expect(runner.calls[0]).toMatchObject({
      argv: ['unsquashfs', '-no-progress', '-force', '-xattrs', '-dest', '/mnt/fake', '/var/tmp/Node-1-0.img'],
      mutates: true,
    });
  });

  it('extracts a tar with its compression named and every attribute kept', () => {
    const argv = tarArgv(image({ format: 'tar', compression: 'zstd', path: '/i.tar.zst' }), '/mnt/x');
    expect(argv.slice(0, 7)).toEqual(['tar', '-x', '--zstd', '-f', '/i.tar.zst', '-C', '/mnt/x']);
    expect(argv).toEqual(
      expect.arrayContaining(['--xattrs', '--xattrs-include=*', '--acls', '--selinux', '--numeric-owner']),
    );
    expect(tarArgv(image({ format: 'tar', compression: 'none' }), '/m').slice(0, 3)).toEqual(['tar', '-x', '-f']);
  });
});
