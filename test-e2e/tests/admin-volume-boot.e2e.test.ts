// A separate volume, proven by booting: `imgbase volume --create /var/log 256M` on a thinp host disk
// with extlinux moves the newest layer's /var/log into a new thin volume and writes its mount unit
// into that layer; a real boot of the layer then mounts it (the proof initrd mounts what the layer's
// local-fs.target wants, as systemd would) and the booted system reads the file moved in from there.
import { describe, expect, it } from 'vitest';
import { bootDisk } from '../src/index.ts';
import { imgbaseOn, prepareBootDisk } from './support/boot-scenario.ts';

describe('imgbase volume --create', () => {
  it('moves /var/log into a volume that the next boot of the layer mounts, with discard', async () => {
    const { fixture } = await prepareBootDisk('admin-volume-boot', {
      mount: 'mount /dev/vda1 /boot',
      config: '[bootloader]\nplugins = extlinux\nboot_dir = /boot',
      install: `mkdir -p /boot/extlinux && extlinux --install /boot/extlinux >&2
dd if=/usr/lib/syslinux/mbr/mbr.bin of=/dev/vda bs=440 count=1 conv=notrunc 2>/dev/null`,
      kernelOnBootPartition: true,
    });
    const out = await imgbaseOn(
      fixture,
      [
        'mkdir -p /mnt/l && mount /dev/onn/Base-1-0+2 /mnt/l && mkdir -p /mnt/l/var/log && echo moved-in > /mnt/l/var/log/imgbased-proof && umount /mnt/l',
        'imgbase volume --create /var/log 256M --json',
        'mount -o ro /dev/onn/Base-1-0+2 /mnt/l && ls -A /mnt/l/var/log | wc -l && umount /mnt/l',
      ].join('\n'),
    );
    const envelope = JSON.parse(out.slice(0, out.lastIndexOf('}') + 1));
    expect(envelope.data).toMatchObject({ volume: 'var_log', layer: 'Base-1-0+2' });
    expect(envelope.data.movedIn).toContain('imgbased-proof');
    expect(out.trimEnd().split('\n').at(-1)).toBe('0');

    const booted = await bootDisk({ disk: fixture.disk, firmware: 'seabios' });
    expect(booted.proof, booted.console.slice(-3000)).toMatchObject({
      bootId: 'Base-1-0+2',
      rootDevice: '/dev/onn/Base-1-0+2',
      varLogMarker: 'moved-in',
    });
    const varLog = booted.proof!.mounts.find((line) => line.split(' ')[4] === '/var/log');
    expect(varLog, booted.proof!.mounts.join('\n')).toMatch(/ - ext4 \S*var_log \S*discard/);
  });
});
