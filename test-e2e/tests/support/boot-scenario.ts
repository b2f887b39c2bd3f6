// Shared by the boot-*.e2e tests: a thinp host disk whose root volume holds a kernel, the proof
// initrd and the proof init, laid out with a base and two layers by imgbase with the bootloader
// under test; and the steps that run imgbase on that disk in the harness VM.
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import {
  buildProofInitrd,
  buildThinpHostDisk,
  makeScratchDir,
  PROOF_INIT_SCRIPT,
  repoRoot,
  runInVm,
  type VmRunOptions,
} from '../../src/index.ts';

export const IMGBASE = path.join(repoRoot, 'apps/cli/bin/imgbase');
/** Time limit of one harness VM run (the guest watchdog of buildHarnessEsp is derived from it too). */
export const HARNESS_TIMEOUT_MS = 300_000;

/** How the harness VM boots (`uefi`: through OVMF and systemd-boot, see VmRunOptions). */
export type HarnessBoot = Pick<VmRunOptions, 'uefi'>;

/** Runs a shell script in the harness VM with the disk attached; fails the test on a non-zero exit. */
export async function inVm(
  disk: string,
  script: string,
  extraDisks: readonly string[] = [],
  vm: HarnessBoot = {},
): Promise<string> {
  const run = await runInVm({
    command: ['sh', '-c', `set -e\n${script}`],
    disks: [{ path: disk }, ...extraDisks.map((path) => ({ path }))],
    timeoutMs: HARNESS_TIMEOUT_MS,
    ...vm,
  });
  expect(run.exitCode, `${run.stdout}\n${run.stderr}\n${run.consoleTail}`).toBe(0);
  return run.stdout;
}

export interface BootFixture {
  disk: string;
  /** More disks (an ESP), /dev/vdb… */
  extraDisks: string[];
  /** Shell: activate the VG, mount the boot partition (or ESP) where the plugin expects it, write the config. */
  open: string;
  close: string;
}

/**
 * Prepares the disk: kernel + proof initrd + busybox + proof init in the root volume, then `install`
 * (the bootloader, with the boot partition mounted per `open`), `imgbase layout --init Base-1-0`,
 * `layer --add`, a marker file in each layer. Returns the `imgbase boot --list --json` data.
 */
export async function prepareBootDisk(
  name: string,
  options: {
    mount: string;
    config: string;
    install: string;
    unmount?: string;
    /** Shell run once before the first mount (partition and format an ESP). */
    setup?: string;
    extraDisks?: { name: string; sizeBytes: number }[];
    /**
     * Put the kernel and initrd on the boot partition (as `vmlinuz-<running release>`) instead of the
     * root volume's /boot: a host whose /boot is a partition of its own, where entries boot the running kernel.
     */
    kernelOnBootPartition?: boolean;
    /** Shell run in the same VM once the layers are made, before the list is printed (imgbase as `imgbase`). */
    afterLayers?: string;
  },
): Promise<{
  fixture: BootFixture;
  list: {
    bootloader: string;
    entries: { layer: string | null; isDefault: boolean; bootState: { state: string; reason: string | null } | null }[];
  };
}> {
  const dir = await makeScratchDir(name);
  const disk = (await buildThinpHostDisk(path.join(dir, 'host.img'))).path;
  const initrd = path.join(dir, 'initrd.img');
  const { kernelVersion, kernel } = await buildProofInitrd(initrd);
  const config = `printf '${options.config.replace(/\n/g, '\\n')}\\n' > /etc/imgbased.conf`;
  const open = `lvm vgchange -ay onn >&2\n${options.mount}\n${config}`;
  const close = `sync\n${options.unmount ?? 'umount /boot'}\nlvm vgchange -an onn >&2`;
  const extraDisks: string[] = [];
  for (const extra of options.extraDisks ?? []) {
    const file = path.join(dir, extra.name);
    await writeFile(file, '');
    await truncate(file, extra.sizeBytes);
    extraDisks.push(file);
  }
  const listed = await inVm(
    disk,
    `lvm vgchange -ay onn >&2
mkdir -p /mnt/root && mount /dev/onn/root /mnt/root
cp ${kernel} /tmp/staged-vmlinuz && cp ${initrd} /tmp/staged-initrd  # the host's /boot may be mounted over
mkdir -p /mnt/root/boot /mnt/root/bin /mnt/root/sbin /mnt/root/dev /mnt/root/proc /mnt/root/sys /mnt/root/etc
${options.kernelOnBootPartition ? '' : `cp ${kernel} /mnt/root/boot/vmlinuz-${kernelVersion}\ncp ${initrd} /mnt/root/boot/initrd.img-${kernelVersion}`}
cp "$(command -v busybox)" /mnt/root/bin/busybox
cp ${PROOF_INIT_SCRIPT} /mnt/root/sbin/imgbased-proof && chmod 755 /mnt/root/sbin/imgbased-proof
umount /mnt/root
${options.setup ?? ''}
${open}
${options.kernelOnBootPartition ? `test "$(uname -r)" = ${kernelVersion}\ncp /tmp/staged-vmlinuz /boot/vmlinuz-${kernelVersion}\ncp /tmp/staged-initrd /boot/initrd.img-${kernelVersion}` : ''}
${options.install}
${IMGBASE} layout --init Base-1-0 --from onn/root >&2
${IMGBASE} layer --add >&2
for l in Base-1-0+1 Base-1-0+2; do mount /dev/onn/$l /mnt/root; echo $l > /mnt/root/etc/imgbased-proof; umount /mnt/root; done
${(options.afterLayers ?? '').replace(/^imgbase /gm, `${IMGBASE} `)}
${IMGBASE} boot --list --json
${close}`,
    extraDisks,
  );
  return { fixture: { disk, extraDisks, open, close }, list: JSON.parse(listed).data };
}

/** Runs imgbase commands on the prepared disk (boot partition mounted, config in place). */
export function imgbaseOn(fixture: BootFixture, commands: string, vm: HarnessBoot = {}): Promise<string> {
  return inVm(
    fixture.disk,
    `${fixture.open}\n${commands.replace(/^imgbase /gm, `${IMGBASE} `)}\n${fixture.close}`,
    fixture.extraDisks,
    vm,
  );
}
