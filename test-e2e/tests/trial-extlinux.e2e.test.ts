// Trial boots under extlinux (SeaBIOS, MBR), the bootloader's half proven by booting: `imgbase boot
// --trial` arms ldlinux's boot-once (the ADV in ldlinux.sys), which ldlinux clears before it boots it.
// The layers here boot the proof init, which never marks a trial good: the trial boots once, then the
// last good layer (DEFAULT) boots by itself. (Re-arming up to `tries` from the good layer's check
// service, inside its own systemd userspace, is the next part of issue 12.)
import { describe, expect, it } from 'vitest';
import { bootDisk } from '../src/index.ts';
import { imgbaseOn, prepareBootDisk } from './support/boot-scenario.ts';

describe('extlinux trial boots', () => {
  it('boots an armed trial once, then the last good layer, and the record still counts the arm', async () => {
    const { fixture } = await prepareBootDisk('trial-extlinux', {
      mount: 'mount /dev/vda1 /boot',
      config: '[bootloader]\nplugins = extlinux\nboot_dir = /boot\n[trial]\ntries = 2',
      install: `mkdir -p /boot/extlinux && extlinux --install /boot/extlinux >&2
dd if=/usr/lib/syslinux/mbr/mbr.bin of=/dev/vda bs=440 count=1 conv=notrunc 2>/dev/null`,
      kernelOnBootPartition: true,
    });
    const armed = await imgbaseOn(
      fixture,
      'imgbase boot --set-default Base-1-0+1 >&2\nimgbase boot --trial Base-1-0+2 >&2\nimgbase boot --trial-status --json',
    );
    expect(armed).toContain('"layer": "Base-1-0+2"');
    expect(armed).toContain('"protocol": "extlinux-once"');
    const boot = async () => {
      const result = await bootDisk({ disk: fixture.disk, firmware: 'seabios' });
      expect(result.proof, result.console.slice(-3000)).toBeDefined();
      expect(result.proof!.rootDevice).toBe(`/dev/onn/${result.proof!.bootId}`);
      return result.proof!.bootId;
    };
    const started = Date.now();
    expect([await boot(), await boot(), await boot()]).toEqual(['Base-1-0+2', 'Base-1-0+1', 'Base-1-0+1']);
    const after = await imgbaseOn(fixture, 'imgbase boot --trial-status --json');
    expect(after).toContain('"attemptsLeft": 1');
    console.log(`trial-extlinux: 3 boots in ${Math.round((Date.now() - started) / 1000)} s`);
  });
});
