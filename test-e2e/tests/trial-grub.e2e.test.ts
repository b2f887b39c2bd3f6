// Trial boots under grub (Debian's 2.06, menu mode, SeaBIOS), the bootloader's half proven by booting:
// `imgbase boot --trial` arms a countdown in grubenv that the shipped /etc/grub.d/42_imgbased runs at
// power-on. The layers here boot the proof init, which never marks a trial good: the trial layer is
// booted exactly `[trial] tries` times, then grub boots the last good layer by itself. (The check
// service inside a layer's own systemd userspace is the next part of issue 12.)
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootDisk, repoRoot } from '../src/index.ts';
import { imgbaseOn, prepareBootDisk } from './support/boot-scenario.ts';

const GRUB_D_SNIPPET = path.join(repoRoot, 'plugins/bootloader-grub-bls/grub.d/42_imgbased');

describe('grub trial boots', () => {
  it('boots a trial that never proves itself `tries` times, then the last good layer', async () => {
    const { fixture } = await prepareBootDisk('trial-grub', {
      mount: 'mount /dev/vda1 /boot',
      config: '[bootloader]\nplugins = grub-bls\nboot_dir = /boot\n[trial]\ntries = 2',
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
    const armed = await imgbaseOn(
      fixture,
      'imgbase boot --set-default Base-1-0+1 >&2\nimgbase boot --trial Base-1-0+2 >&2\ngrub-editenv /boot/grub/grubenv list',
    );
    expect(armed).toContain('saved_entry=imgbased-Base-1-0-layer1');
    expect(armed).toContain('imgbased_trial=imgbased-Base-1-0-layer2');
    expect(armed).toContain('imgbased_trial_left=2');
    const boot = async () => {
      const result = await bootDisk({ disk: fixture.disk, firmware: 'seabios', timeoutMs: 150_000 });
      expect(result.proof, result.console.slice(-3000)).toBeDefined();
      expect(result.proof!.rootDevice).toBe(`/dev/onn/${result.proof!.bootId}`);
      return result.proof!.bootId;
    };
    const started = Date.now();
    const booted = [await boot(), await boot(), await boot(), await boot()];
    expect(booted).toEqual(['Base-1-0+2', 'Base-1-0+2', 'Base-1-0+1', 'Base-1-0+1']);
    const after = await imgbaseOn(fixture, 'grub-editenv /boot/grub/grubenv list\nimgbase boot --trial-status --json');
    expect(after).toContain('imgbased_trial_left=0');
    expect(after).toContain('"attemptsLeft": 0');
    console.log(`trial-grub: 4 boots in ${Math.round((Date.now() - started) / 1000)} s`);
  });
});
