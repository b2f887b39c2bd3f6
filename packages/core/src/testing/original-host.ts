import type { BootEntry } from '../contracts/bootloader.js';
import { Tags } from '../layout/tags.js';
import { MemoryBootloader } from './memory-bootloader.js';
import { MemoryVolumeManager } from './memory-volumes.js';

/** The first base, as the original's `layout --init` names it on an oVirt Node host. */
export const ORIGINAL_FIRST_BASE = 'ovirt-node-ng-4.5.5-0.20231130.0';
/** A second base, as the original's `update` (its `base --add`) makes it. */
export const ORIGINAL_SECOND_BASE = 'ovirt-node-ng-4.5.6-0.20240601.0';
export const ORIGINAL_KERNEL = '5.14.0-388.el9.x86_64';
/** The original's separate volumes, by name (`/var/log/audit` → `var_log_audit`). */
export const ORIGINAL_SEPARATE_VOLUMES = ['home', 'tmp', 'var', 'var_crash', 'var_log', 'var_log_audit', 'var_tmp'];

/**
 * A boot entry as the original writes it with grubby (BLS `<layer>-<kver>.conf`): title `<nvr> (<kver>)`
 * (the image's NVR, not the layer's name), kernel and initrd in `/<layer>/`, its own arguments.
 */
export function originalBootEntry(layer: string, { vg = 'onn', kernel = ORIGINAL_KERNEL } = {}): BootEntry {
  const nvr = layer.slice(0, layer.lastIndexOf('+'));
  return {
    id: `${layer}-${kernel}`,
    title: `${nvr} (${kernel})`,
    version: kernel,
    kernel: `/${layer}/vmlinuz-${kernel}`,
    initrd: `/${layer}/initramfs-${kernel}.img`,
    options: [
      'crashkernel=auto',
      `rd.lvm.lv=${vg}/${layer}`,
      `root=/dev/${vg}/${layer}`,
      'boot=UUID=0e6b4c33-5f0a-4b4e-9c61-7f3e0c1d2a11',
      'rootflags=discard',
      `img.bootid=${layer}`,
    ],
    layer,
  };
}

/**
 * The state the original (1.2.x) leaves an oVirt Node host in after `layout --init` and one update,
 * as read from its code and from its behaviour on LVM: the first base tagged `imgbased:layer`,
 * writable, active, with activation skip; the second base `imgbased:base`, read-only, inactive; one
 * layer each; `root` tagged `imgbased:init`, protected; the separate volumes tagged `imgbased:volume`;
 * pool metadata grown to 1 GiB; one grubby-written BLS entry per layer, the newest the default (the
 * original puts the entry's title in `saved_entry`; grub-bls resolves titles to ids, as grub does).
 */
export function originalNodeHost(vg = 'onn'): { volumes: MemoryVolumeManager; boot: MemoryBootloader } {
  const volumes = MemoryVolumeManager.thinpHost(vg);
  volumes.groups[0]!.tags.push(Tags.group);
  volumes.pools[0]!.tags.push(Tags.pool);
  volumes.pools[0]!.metadataSizeBytes = 2 ** 30;
  Object.assign(volumes.find('root')!, { tags: [Tags.init], readOnly: true, activationSkip: true, active: false });
  volumes.find('root')!.device = undefined;
  const first = ORIGINAL_FIRST_BASE;
  const second = ORIGINAL_SECOND_BASE;
  const pool = 'pool00';
  volumes.addVolume({ vg, name: first, pool, origin: 'root', tags: [Tags.layer], activationSkip: true, active: true });
  volumes.addVolume({ vg, name: `${first}+1`, pool, origin: first, tags: [Tags.layer], active: true });
  volumes.addVolume({ vg, name: second, pool, tags: [Tags.base], readOnly: true, activationSkip: true });
  volumes.addVolume({ vg, name: `${second}+1`, pool, origin: second, tags: [Tags.layer], active: true });
  for (const name of ORIGINAL_SEPARATE_VOLUMES)
    volumes.addVolume({ vg, name, pool, tags: [Tags.volume], active: true, sizeBytes: 2 ** 30 });

  const boot = new MemoryBootloader();
  boot.entries = [originalBootEntry(`${first}+1`, { vg }), originalBootEntry(`${second}+1`, { vg })];
  boot.defaultId = boot.entries[1]!.id;
  return { volumes, boot };
}
