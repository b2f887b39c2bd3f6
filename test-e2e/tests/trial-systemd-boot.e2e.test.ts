// Trial boots under systemd-boot (Debian 12's 252, OVMF), the bootloader's half proven by booting:
// `imgbase boot --trial` renames the trial's entry to `<id>+2.conf`, gives it the first sort key and
// the good entry the second, and sets loader.conf's `default imgbased-*`. systemd-boot renames the file
// (`+LEFT-DONE`) before it starts the kernel and sorts entries with no tries left last, so the
// pattern boots the trial twice, then the good layer. The layers boot the proof init, which never
// marks a trial: the trial here is the OLDER layer, so that systemd-boot's own order without the sort
// keys (newest id first) would boot the good one: booting the trial proves the keys rank it. Last, a
// probe of how systemd-boot names entries: a counted file no longer matches `default <id>.conf`; and a
// counted new default (boot_counting_tries) named by imgbase's pattern `<id>[.+][0-9c]*` boots.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootDisk, makeOvmfVars } from '../src/index.ts';
import { imgbaseOn, prepareBootDisk } from './support/boot-scenario.ts';

const ENTRIES = '/boot/efi/loader/entries';
const TRIAL = 'Base-1-0+1';
const GOOD = 'Base-1-0+2';

interface Listed {
  layer: string | null;
  isDefault: boolean;
  triesLeft: number | null;
}

describe('systemd-boot trial boots', () => {
  it('boots a trial that never proves itself `tries` times, then the good layer; after mark-good, the trial', async () => {
    const { fixture, list } = await prepareBootDisk('trial-sdboot', {
      extraDisks: [{ name: 'esp.img', sizeBytes: 128 * 1024 ** 2 }],
      setup: "printf 'label: gpt\\n,,U\\n' | sfdisk -q /dev/vdb >&2 && mkfs.vfat -F 32 /dev/vdb1 >&2",
      mount: 'mkdir -p /boot/efi && mount -t vfat /dev/vdb1 /boot/efi',
      unmount: 'umount /boot/efi',
      config:
        '[bootloader]\nplugins = systemd-boot\n[bootloader.systemd-boot]\nesp_dir = /boot/efi\n[trial]\ntries = 2',
      install: `SYSTEMD_RELAX_ESP_CHECKS=1 bootctl install --esp-path=/boot/efi --no-variables >&2
printf 'timeout 0\\n' > /boot/efi/loader/loader.conf`,
      // Armed in the same VM run that made the layers (stderr: the files, for the log).
      afterLayers: `imgbase boot --set-default ${GOOD} >&2
imgbase boot --trial ${TRIAL} >&2
ls ${ENTRIES} >&2 && cat /boot/efi/loader/loader.conf >&2 && grep -H sort-key ${ENTRIES}/*.conf >&2
SYSTEMD_RELAX_ESP_CHECKS=1 bootctl --esp-path=/boot/efi list --no-pager >&2 || true`,
    });
    const entries = list.entries as unknown as Listed[];
    expect(entries.find((e) => e.layer === TRIAL)?.triesLeft).toBe(2);
    expect(entries.find((e) => e.layer === GOOD)).toMatchObject({ isDefault: true, triesLeft: null });

    const vars = await makeOvmfVars(path.join(path.dirname(fixture.disk), 'ovmf-vars.fd'));
    const boot = async () => {
      const result = await bootDisk({
        disk: fixture.disk,
        extraDisks: fixture.extraDisks,
        bootFrom: 1,
        firmware: 'ovmf',
        ovmfVars: vars,
        timeoutMs: 200_000,
      });
      expect(result.proof, result.console.slice(-3000)).toBeDefined();
      expect(result.proof!.rootDevice).toBe(`/dev/onn/${result.proof!.bootId}`);
      return result.proof!.bootId;
    };
    const started = Date.now();
    expect([await boot(), await boot(), await boot()]).toEqual([TRIAL, TRIAL, GOOD]);
    const trialBoots = Math.round((Date.now() - started) / 1000);

    const after = await imgbaseOn(
      fixture,
      `ls ${ENTRIES}
imgbase boot --trial-status --json
imgbase boot --mark-good ${TRIAL} >&2
ls ${ENTRIES}
cat /boot/efi/loader/loader.conf
grep -l sort-key ${ENTRIES}/*.conf || echo 'no sort keys'`,
    );
    // systemd-boot's own renames: +2 → +1-1 → +0-2, before each kernel started.
    expect(after).toContain('imgbased-Base-1-0-layer1+0-2.conf\n');
    expect(after).toContain('"attemptsLeft": 0');
    // Marked good: renamed to its plain name (as systemd-bless-boot does) and named by the default.
    expect(after).toContain('imgbased-Base-1-0-layer1.conf\n');
    expect(after).toContain('default imgbased-Base-1-0-layer1.conf\n');
    expect(after).toContain('no sort keys');
    const markedAt = Date.now();
    expect(await boot()).toBe(TRIAL);
    const markedBoot = Math.round((Date.now() - markedAt) / 1000);

    // systemd-boot 252's ids are whole file names, counter included: `default <id>.conf` no longer
    // matches once that file is counted, and the first entry in its order boots (the one with a sort key).
    await imgbaseOn(
      fixture,
      `cd ${ENTRIES}
mv imgbased-Base-1-0-layer1.conf imgbased-Base-1-0-layer1+3.conf
echo 'sort-key aaa' >> imgbased-Base-1-0-layer2.conf
cd /`,
    );
    expect(await boot()).toBe(GOOD);

    // So imgbase names a counted default by a pattern (`<id>[.+][0-9c]*`): with boot_counting_tries, a new
    // layer made the default keeps its `+3` and still boots, though the sort key ranks GOOD first.
    const countedAt = Date.now();
    const counted = await imgbaseOn(
      fixture,
      `printf '[bootloader]\\nplugins = systemd-boot\\n[bootloader.systemd-boot]\\nesp_dir = /boot/efi\\nboot_counting_tries = 3\\n' > /etc/imgbased.conf
imgbase layer --add >&2
ls ${ENTRIES}
cat /boot/efi/loader/loader.conf`,
    );
    expect(counted).toContain('imgbased-Base-1-0-layer3+3.conf\n');
    expect(counted).toContain('default imgbased-Base-1-0-layer3[.+][0-9c]*\n');
    expect(await boot()).toBe('Base-1-0+3');
    const countedRun = Math.round((Date.now() - countedAt) / 1000);
    console.log(
      `trial-systemd-boot: 3 trial boots in ${trialBoots} s, the boot after mark-good in ${markedBoot} s, the counted default (a VM run and a boot) in ${countedRun} s, all in ${Math.round((Date.now() - started) / 1000)} s`,
    );
  }, 1_200_000);
});
