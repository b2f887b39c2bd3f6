// grub (Debian's 2.06, no blscfg, i386-pc under SeaBIOS), proven by booting: grub.cfg sources the menu
// file imgbase writes; default and one-shot go through the environment block. What booted is read
// from the booted system (its /proc/cmdline and the device mounted at /). grub.cfg is the serial
// console setup plus what the plugin's shipped /etc/grub.d/42_imgbased adds to a generated grub.cfg.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootDisk, repoRoot } from '../src/index.ts';
import { imgbaseOn, prepareBootDisk } from './support/boot-scenario.ts';

const GRUB_D_SNIPPET = path.join(repoRoot, 'plugins/bootloader-grub-bls/grub.d/42_imgbased');

describe('grub boots the layer imgbase chose', () => {
  it('boots the default, another after boot --set-default, the one-shot once, then the default again', async () => {
    const { fixture, list } = await prepareBootDisk('boot-grub', {
      mount: 'mount /dev/vda1 /boot',
      config: '[bootloader]\nplugins = grub-bls\nboot_dir = /boot',
      install: `grub-install --target=i386-pc --boot-directory=/boot --modules="part_msdos ext2" /dev/vda >&2
cat > /boot/grub/grub.cfg <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
CFG
${GRUB_D_SNIPPET} >> /boot/grub/grub.cfg
grub-script-check /boot/grub/grub.cfg`,
    });
    expect(list.bootloader).toBe('grub-bls');
    expect(list.entries.map((e) => e.layer)).toEqual(['Base-1-0+1', 'Base-1-0+2']);
    const boot = async () => {
      const result = await bootDisk({ disk: fixture.disk, firmware: 'seabios', timeoutMs: 150_000 });
      expect(result.proof, result.console.slice(-3000)).toBeDefined();
      expect(result.proof!.rootDevice).toBe(`/dev/onn/${result.proof!.bootId}`);
      expect(result.proof!.marker).toBe(result.proof!.bootId);
      return result.proof!.bootId;
    };

    expect(await boot()).toBe('Base-1-0+2');
    await imgbaseOn(fixture, 'imgbase boot --set-default Base-1-0+1 >&2\ngrub-script-check /boot/grub/imgbased.cfg');
    expect(await boot()).toBe('Base-1-0+1');
    const out = await imgbaseOn(fixture, 'imgbase boot --next Base-1-0+2 >&2\ngrub-editenv /boot/grub/grubenv list');
    expect(out).toContain('next_entry=imgbased-Base-1-0-layer2');
    expect(await boot()).toBe('Base-1-0+2');
    expect(await boot()).toBe('Base-1-0+1');
  });
});
