import type { HostInfo } from '../contracts/host.js';
import type { OperationContext } from '../events.js';
import type { BootEntries } from './boot-entries.js';
import type { SpaceInput } from './space-plan.js';

/**
 * The free space of the boot directory and, when the bootloader stages kernels under another root
 * (systemd-boot's ESP mounted apart from /boot, on /efi or /boot/efi), of that one too. A space that
 * cannot be told (no statfs, a bootloader that does not say where its files are) is left out.
 */
export async function bootSpaces(
  host: HostInfo,
  boot: BootEntries,
  bootDir: string,
  context: OperationContext,
): Promise<Pick<SpaceInput, 'boot' | 'esp'>> {
  const space = async (where: string) => {
    const found = await host.spaceOf?.(where, context);
    return found && { where, freeBytes: found.freeBytes };
  };
  const bootloader = await boot.bootloader(context);
  // Its own files' root is where new kernels go; reading it fails only on a broken partition,
  // which writing the entry reports later, with its cause.
  const kernelRoot = (await bootloader?.ownFiles?.(context).catch(() => undefined))?.root;
  return {
    boot: await space(bootDir),
    esp: kernelRoot !== undefined && kernelRoot !== bootDir ? await space(kernelRoot) : undefined,
  };
}
