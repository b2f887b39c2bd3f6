// systemd-boot under OVMF (UEFI), proven by booting: an ESP (GPT, FAT) on a second disk with
// systemd-boot installed by bootctl, BLS entries and kernels written there by imgbase, the default in
// loader.conf, the one-shot in the EFI variable LoaderEntryOneShot. Every boot of the test shares one
// OVMF variable store, as a machine's NVRAM. What booted is read from the booted system (its
// /proc/cmdline and the device at /).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootDisk, buildHarnessEsp, makeOvmfVars, OVMF_CODE } from '../src/index.ts';
import { HARNESS_TIMEOUT_MS, imgbaseOn, prepareBootDisk } from './support/boot-scenario.ts';

describe('systemd-boot boots the layer imgbase chose', () => {
  it('boots the default, another after boot --set-default, the one-shot once, then the default again', async () => {
    const { fixture, list } = await prepareBootDisk('boot-sdboot', {
      extraDisks: [{ name: 'esp.img', sizeBytes: 128 * 1024 ** 2 }],
      setup: "printf 'label: gpt\\n,,U\\n' | sfdisk -q /dev/vdb >&2 && mkfs.vfat -F 32 /dev/vdb1 >&2",
      mount: 'mkdir -p /boot/efi && mount -t vfat /dev/vdb1 /boot/efi',
      unmount: 'umount /boot/efi',
      config: '[bootloader]\nplugins = systemd-boot\n[bootloader.systemd-boot]\nesp_dir = /boot/efi',
      install: `SYSTEMD_RELAX_ESP_CHECKS=1 bootctl install --esp-path=/boot/efi --no-variables >&2
printf 'timeout 0\\n' > /boot/efi/loader/loader.conf`,
    });
    expect(list.bootloader).toBe('systemd-boot');
    expect(list.entries.map((e) => e.layer)).toEqual(['Base-1-0+1', 'Base-1-0+2']);
    const dir = path.dirname(fixture.disk);
    const vars = await makeOvmfVars(path.join(dir, 'ovmf-vars.fd'));
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
      expect(result.proof!.marker).toBe(result.proof!.bootId);
      return result.proof!.bootId;
    };

    expect(await boot()).toBe('Base-1-0+2');
    const out = await imgbaseOn(
      fixture,
      'imgbase boot --set-default Base-1-0+1 >&2\ncat /boot/efi/loader/loader.conf\nimgbase boot --next Base-1-0+2 --json || true',
    );
    expect(out).toContain('default imgbased-Base-1-0-layer1.conf\n');
    // The usual harness VM is not booted with UEFI: no EFI variables, so no one-shot there.
    expect(out).toContain('"code": "E_BOOT_UNSUPPORTED"');
    expect(await boot()).toBe('Base-1-0+1');

    // A harness VM that OVMF and systemd-boot booted (its own ESP, booted first), on the same variable
    // store: bootctl set-oneshot, which needs a loader-booted system, writes LoaderEntryOneShot there.
    const harnessEsp = await buildHarnessEsp(path.join(dir, 'harness-esp.img'), { timeoutMs: HARNESS_TIMEOUT_MS });
    const listed = await imgbaseOn(
      fixture,
      // The guest's root is the host's /: when the host is a container, its /.dockerenv would make
      // systemd (bootctl) think it runs in one, where it never touches EFI variables.
      `rm -f /.dockerenv
modprobe efivarfs
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
imgbase boot --next Base-1-0+2 >&2
imgbase boot --list --json`,
      { uefi: { code: OVMF_CODE, vars, disk: harnessEsp } },
    );
    const state = JSON.parse(listed).data;
    expect(state.capabilities.nativeOneShot).toBe(true);
    expect(state.next).toBe('imgbased-Base-1-0-layer2');
    expect(state.default).toBe('imgbased-Base-1-0-layer1');
    // systemd-boot takes the one-shot (and removes the variable), then falls back to loader.conf's default.
    expect(await boot()).toBe('Base-1-0+2');
    expect(await boot()).toBe('Base-1-0+1');
  });
});
