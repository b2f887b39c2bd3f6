// A bootloader plugin built outside this repository, proven by booting: the example plugin of
// examples/bootloader-minimal-extlinux is installed as a packager would (one module, root-owned, mode
// 0644, in /usr/lib/imgbased/plugins), the configuration names it, imgbase writes the entries through
// it, and the disk boots with SeaBIOS. What booted is read from the booted system, never from
// extlinux.conf. The disk is laid out as in boot-extlinux.e2e.test.ts (kernel on the /boot partition).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootDisk, repoRoot } from '../src/index.ts';
import { imgbaseOn, prepareBootDisk } from './support/boot-scenario.ts';

const EXAMPLE = path.join(repoRoot, 'examples/bootloader-minimal-extlinux/index.mjs');
const PLUGIN_DIR = '/usr/lib/imgbased/plugins';

describe('a third-party bootloader plugin from the plugin directory boots the layer imgbase chose', () => {
  it('loads minimal-extlinux by configuration, boots the default layer, refuses the module once group-writable, boots the other after boot --set-default', async () => {
    const { fixture, list } = await prepareBootDisk('boot-third-party', {
      // Every run of the harness VM starts from a fresh root: the plugin is installed with /boot mounted.
      mount: `mount /dev/vda1 /boot
mkdir -p ${PLUGIN_DIR} && chmod 0755 ${PLUGIN_DIR}
install -o root -g root -m 0644 ${EXAMPLE} ${PLUGIN_DIR}/minimal-extlinux.mjs`,
      config:
        '[bootloader]\nplugins = minimal-extlinux\nboot_dir = /boot\n[bootloader.minimal-extlinux]\nmenu_title = Third party',
      install: `mkdir -p /boot/extlinux && extlinux --install /boot/extlinux >&2
dd if=/usr/lib/syslinux/mbr/mbr.bin of=/dev/vda bs=440 count=1 conv=notrunc 2>/dev/null`,
      kernelOnBootPartition: true,
    });
    expect(list.bootloader).toBe('minimal-extlinux');
    expect(list.entries.map((e) => e.layer)).toEqual(['Base-1-0+1', 'Base-1-0+2']);

    const first = await bootDisk({ disk: fixture.disk, firmware: 'seabios' });
    expect(first.proof, first.console.slice(-3000)).toMatchObject({
      bootId: 'Base-1-0+2',
      rootDevice: '/dev/onn/Base-1-0+2',
      marker: 'Base-1-0+2',
    });

    const out = await imgbaseOn(
      fixture,
      [
        // An unsafe module is refused by name, before anything of it runs, and nothing is written.
        'sha256sum /boot/extlinux/extlinux.conf',
        `chmod 0664 ${PLUGIN_DIR}/minimal-extlinux.mjs`,
        'imgbase boot --set-default Base-1-0+1 --json || true',
        'sha256sum /boot/extlinux/extlinux.conf',
        `chmod 0644 ${PLUGIN_DIR}/minimal-extlinux.mjs`,
        'imgbase boot --set-default Base-1-0+1 >&2',
        'imgbase boot --get-default',
        'cat /boot/extlinux/extlinux.conf',
      ].join('\n'),
    );
    expect(out).toContain('"code": "E_PLUGIN_INVALID"');
    expect(out).toContain(`${PLUGIN_DIR}/minimal-extlinux.mjs is writable by group or others (mode 664)`);
    const sums = out.split('\n').filter((l) => l.endsWith('/boot/extlinux/extlinux.conf'));
    expect(sums).toHaveLength(2);
    expect(sums[0]).toBe(sums[1]);
    expect(out).toMatch(/^Base-1-0\+1$/m);
    // The plugin's own setting, from its [bootloader.minimal-extlinux] section, and its block format.
    expect(out).toContain('MENU TITLE Third party\nDEFAULT imgbased-Base-1-0-layer1\n');
    expect(out).toContain('LABEL imgbased-Base-1-0-layer2\n\tMENU LABEL Base-1-0+2 (');

    const second = await bootDisk({ disk: fixture.disk, firmware: 'seabios' });
    expect(second.proof, second.console.slice(-3000)).toMatchObject({
      bootId: 'Base-1-0+1',
      rootDevice: '/dev/onn/Base-1-0+1',
      marker: 'Base-1-0+1',
    });
  });
});
