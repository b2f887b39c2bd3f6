// imgbase update and rollback under grub (SeaBIOS) and systemd-boot (OVMF), proven by booting; the
// extlinux case is update-formats. Per bootloader: one harness VM prepares the disk (Base-1-0 with two
// layers, as the boot-* tests do) and installs a new image from Base-1-0+2, which boots next as a trial
// ([trial] enabled, the default): the old layer stays the default. The new layer boots and says from the
// booted system what its root is and which os-release it has; rollback ends the trial; the old layer boots.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootDisk, type DiskBootResult, makeOvmfVars, makeScratchDir, repoRoot } from '../src/index.ts';
import { type BootFixture, imgbaseOn, prepareBootDisk } from './support/boot-scenario.ts';
import { buildUpdateImage, parseUpdateProof } from './support/update-scenario.ts';

const GRUB_D_SNIPPET = path.join(repoRoot, 'plugins/bootloader-grub-bls/grub.d/42_imgbased');
const NEW_LAYER = 'Node-2.0-1+1';
/** The newest layer of the old base: the update carries its state over and rollback goes back to it. */
const OLD_LAYER = 'Base-1-0+2';

type Prepare = Omit<Parameters<typeof prepareBootDisk>[1], 'afterLayers'>;

/** Update, boot the new layer, rollback, boot the old one; `boot` boots the disk with the bootloader's firmware. */
async function updateBootRollbackBoot(
  name: string,
  format: 'ext4' | 'squashfs',
  prepare: Prepare,
  boot: (fixture: BootFixture) => Promise<DiskBootResult>,
): Promise<void> {
  const image = await buildUpdateImage(path.join(await makeScratchDir(`${name}-image`), `node-image.${format}`), {
    nvr: 'Node-2.0-1',
    format,
  });
  const { fixture, list } = await prepareBootDisk(name, {
    ...prepare,
    afterLayers: `imgbase update --from ${OLD_LAYER} ${image} >&2`,
  });
  expect(list.entries.map((e) => e.layer)).toEqual(['Base-1-0+1', 'Base-1-0+2', NEW_LAYER]);
  // A trial: the default stays the old layer until the new one proves itself; the trial boots next.
  expect(list.entries.filter((e) => e.isDefault).map((e) => e.layer)).toEqual([OLD_LAYER]);
  const states = list.entries.map((e) => [e.layer, e.bootState?.state ?? null]);
  expect(states).toEqual([
    ['Base-1-0+1', null],
    [OLD_LAYER, null],
    [NEW_LAYER, 'trial'],
  ]);

  const updated = await boot(fixture);
  expect(updated.proof, updated.console.slice(-3000)).toMatchObject({
    bootId: NEW_LAYER,
    rootDevice: `/dev/onn/${NEW_LAYER}`,
    // /etc/imgbased-proof is the admin's file, carried over from the old layer.
    marker: OLD_LAYER,
  });
  expect(parseUpdateProof(updated.console)).toMatchObject({
    version: 'VERSION="2.0-1"',
    nvr: 'IMAGE_NVR="Node-2.0-1"',
    motd: 'vendor motd of Node-2.0-1',
  });

  // The trial booted once and never marked itself good (the proof init runs no check): rollback ends it.
  const rolled = await imgbaseOn(
    fixture,
    'imgbase rollback\nimgbase boot --get-default\nimgbase boot --trial-status --json',
  );
  // On the ESP (FAT) the line goes on: "(not written atomically on this file system)".
  const [said, nowDefault, ...status] = rolled.split('\n');
  expect(said).toMatch(`${OLD_LAYER} boots next (instead of ${NEW_LAYER}): reboot to use it`);
  expect(nowDefault).toBe(OLD_LAYER);
  expect(JSON.parse(status.join('\n')).data).toMatchObject({
    trial: null,
    layers: [{ layer: NEW_LAYER, state: 'failed', reason: `ended by rollback ${OLD_LAYER}` }],
  });
  const old = await boot(fixture);
  expect(old.proof, old.console.slice(-3000)).toMatchObject({
    bootId: OLD_LAYER,
    rootDevice: `/dev/onn/${OLD_LAYER}`,
    marker: OLD_LAYER,
  });
  // The old base's own PID 1 (no update proof lines): not the new image's root.
  expect(parseUpdateProof(old.console)).toEqual({});
}

describe('imgbase update boots the new layer, and rollback the old one', () => {
  it('under grub (SeaBIOS, Debian grub with 42_imgbased)', async () => {
    await updateBootRollbackBoot(
      'update-grub',
      'squashfs',
      {
        mount: 'mount /dev/vda1 /boot',
        config: '[bootloader]\nplugins = grub-bls\nboot_dir = /boot',
        install: `grub-install --target=i386-pc --boot-directory=/boot --modules="part_msdos ext2" /dev/vda >&2
cat > /boot/grub/grub.cfg <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
CFG
${GRUB_D_SNIPPET} >> /boot/grub/grub.cfg`,
      },
      (fixture) => bootDisk({ disk: fixture.disk, firmware: 'seabios', timeoutMs: 150_000 }),
    );
  }, 1_200_000);

  it('under systemd-boot (OVMF, one EFI variable store)', async () => {
    let vars: string | undefined;
    await updateBootRollbackBoot(
      'update-sdboot',
      'ext4',
      {
        extraDisks: [{ name: 'esp.img', sizeBytes: 128 * 1024 ** 2 }],
        setup: "printf 'label: gpt\\n,,U\\n' | sfdisk -q /dev/vdb >&2 && mkfs.vfat -F 32 /dev/vdb1 >&2",
        mount: 'mkdir -p /boot/efi && mount -t vfat /dev/vdb1 /boot/efi',
        unmount: 'umount /boot/efi',
        config: '[bootloader]\nplugins = systemd-boot\n[bootloader.systemd-boot]\nesp_dir = /boot/efi',
        install: `SYSTEMD_RELAX_ESP_CHECKS=1 bootctl install --esp-path=/boot/efi --no-variables >&2
printf 'timeout 0\\n' > /boot/efi/loader/loader.conf`,
      },
      async (fixture) => {
        vars ??= await makeOvmfVars(path.join(path.dirname(fixture.disk), 'ovmf-vars.fd'));
        return bootDisk({
          disk: fixture.disk,
          extraDisks: fixture.extraDisks,
          bootFrom: 1,
          firmware: 'ovmf',
          ovmfVars: vars,
          timeoutMs: 200_000,
        });
      },
    );
  }, 1_200_000);
});
