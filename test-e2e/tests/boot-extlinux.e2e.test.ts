// extlinux, proven by booting: a thinp host disk with extlinux installed on its /boot partition (MBR,
// SeaBIOS), a base and two layers made by imgbase, then real boots of the disk. What booted is read
// from the booted system (its /proc/cmdline and the device mounted at /), never from extlinux.conf.
// This disk keeps its kernel on the /boot partition, not in the root volume (a separate /boot, as
// anaconda lays hosts out): the layers' entries boot the running kernel, as the original's did.
import { describe, expect, it } from 'vitest';
import { bootDisk } from '../src/index.ts';
import { imgbaseOn, prepareBootDisk } from './support/boot-scenario.ts';

describe('extlinux boots the layer imgbase chose', () => {
  it('boots the default layer, then another after boot --set-default with edited kernel arguments; one-shot is refused as not native', async () => {
    const { fixture, list } = await prepareBootDisk('boot-extlinux', {
      mount: 'mount /dev/vda1 /boot',
      config: '[bootloader]\nplugins = extlinux\nboot_dir = /boot',
      install: `mkdir -p /boot/extlinux && extlinux --install /boot/extlinux >&2
dd if=/usr/lib/syslinux/mbr/mbr.bin of=/dev/vda bs=440 count=1 conv=notrunc 2>/dev/null`,
      kernelOnBootPartition: true,
    });
    expect(list.bootloader).toBe('extlinux');
    expect(list.entries.map((e) => e.layer)).toEqual(['Base-1-0+1', 'Base-1-0+2']);

    const first = await bootDisk({ disk: fixture.disk, firmware: 'seabios' });
    expect(first.proof, first.console.slice(-3000)).toMatchObject({
      bootId: 'Base-1-0+2',
      rootDevice: '/dev/onn/Base-1-0+2',
      marker: 'Base-1-0+2',
    });
    expect(first.proof!.cmdline).toContain('rd.lvm.lv=onn/Base-1-0+2 root=/dev/onn/Base-1-0+2 rootflags=discard');

    const out = await imgbaseOn(
      fixture,
      [
        'imgbase boot --set-default Base-1-0+1 >&2',
        'imgbase boot --get-default',
        'imgbase boot --next Base-1-0+2 --json || true',
        'imgbase boot --edit-kernel-args Base-1-0+1 --append imgbased.e2e=edited --delete rootflags >&2',
        'imgbase boot --kernel-args Base-1-0+2',
      ].join('\n'),
    );
    expect(out).toContain('Base-1-0+1\n');
    expect(out).toContain('"code": "E_BOOT_UNSUPPORTED"');
    // Only the edited layer's entry changed.
    expect(out).toContain('rootflags=discard img.bootid=Base-1-0+2\n');
    expect(out).not.toContain('imgbased.e2e=edited');

    const second = await bootDisk({ disk: fixture.disk, firmware: 'seabios' });
    expect(second.proof, second.console.slice(-3000)).toMatchObject({
      bootId: 'Base-1-0+1',
      rootDevice: '/dev/onn/Base-1-0+1',
      marker: 'Base-1-0+1',
    });
    const cmdline = second.proof!.cmdline.split(' ');
    expect(cmdline).toContain('imgbased.e2e=edited');
    expect(cmdline).not.toContain('rootflags=discard');
  });
});
