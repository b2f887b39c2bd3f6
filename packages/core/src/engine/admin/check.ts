import type { OperationContext } from '../../events.js';
import type { CheckReport, Finding, Health } from '../../layout/admin-schema.js';
import { checkBoot } from './check-boot.js';
import { checkMounts, checkStorage } from './check-host.js';
import { checkLeftovers } from './check-leftovers.js';
import { type HostState, readHostState } from './host-state.js';
import type { AdminParts } from './parts.js';

/** `imgbase check`'s exit codes, by health. */
export const CHECK_EXIT_CODES: Readonly<Record<Health, number>> = { ok: 0, degraded: 1, failed: 2 };

/**
 * `imgbase check`: the bootloader, the mount points, the thin storage and what interrupted operations
 * left. Reads only: takes no lock, so a live operation's half-made state may show as leftovers.
 */
export async function check(parts: AdminParts, context: OperationContext, known?: HostState): Promise<CheckReport> {
  const state = known ?? (await readHostState(parts, context));
  const groups = await Promise.all([
    checkBoot(parts, state, context).then((f) => f.map((x) => ({ group: 'bootloader' as const, ...x }))),
    checkMounts(parts, state, context).then((f) => f.map((x) => ({ group: 'mounts' as const, ...x }))),
    checkStorage(parts, state, context).then((f) => f.map((x) => ({ group: 'storage' as const, ...x }))),
    checkLeftovers(parts, context).then((f) => f.map((x) => ({ group: 'leftovers' as const, ...x }))),
  ]);
  const findings: Finding[] = groups.flat();
  const health = healthOf(findings);
  return { health, exitCode: CHECK_EXIT_CODES[health], findings };
}

export function healthOf(findings: readonly Finding[]): Health {
  if (findings.some((f) => f.status === 'fail')) return 'failed';
  if (findings.some((f) => f.status === 'warn')) return 'degraded';
  return 'ok';
}
