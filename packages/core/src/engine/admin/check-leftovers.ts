import type { OperationContext } from '../../events.js';
import type { Finding } from '../../layout/admin-schema.js';
import type { AdminParts } from './parts.js';
import { listRecovery } from './recover.js';

type Found = Omit<Finding, 'group'>;

/** Recovery steps the bootloader group reports on its own terms (entries, default, one-shot). */
const BOOT_KINDS = new Set(['remove-boot-entries', 'set-default', 'point-one-shot', 'add-boot-entry']);

/**
 * The leftovers group of `imgbase check`: what `imgbase recover --yes` (or the next changing verb)
 * would clean up: a stale lock, mounts in imgbased's mount directory, pending volumes, boot files of
 * removed layers, an unfinished `layout --init`.
 */
export async function checkLeftovers(parts: AdminParts, context: OperationContext): Promise<Found[]> {
  const steps = (await listRecovery(parts, context)).filter((s) => !BOOT_KINDS.has(s.kind));
  if (steps.length === 0)
    return [{ check: 'leftovers', status: 'ok', message: 'Nothing left over by interrupted operations', targets: [] }];
  return steps.map((s) => ({
    check: s.kind === 'remove-volume' ? 'pending-volumes' : s.kind === 'unmount' ? 'leftover-mounts' : s.kind,
    status: 'warn' as const,
    message: `Left over (imgbase recover --yes repairs it): ${s.message}`,
    targets: [...s.targets],
  }));
}
