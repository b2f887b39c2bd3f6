import type { StorageReport } from '../../contracts/volume-manager.js';
import type { OperationContext } from '../../events.js';
import type { RecoverResult, RecoveryList } from '../../layout/admin-schema.js';
import { allLayers, readLayout } from '../../layout/layout.js';
import type { ChangeResult, LayoutView } from '../../layout/schema.js';
import { step } from '../change-path.js';
import type { RecoveryStep } from '../recovery-plan.js';
import type { AdminParts } from './parts.js';

/**
 * What `imgbase recover` repairs, in the order it does: the stale lock (taken over with the lock),
 * then exactly what the automatic recovery of every changing verb does (HostRecovery), then what only
 * an admin's explicit `recover` does: a boot entry for each committed layer that has none (adding a
 * way to boot is never done behind the admin's back).
 */
export async function listRecovery(parts: AdminParts, context: OperationContext): Promise<RecoveryList['steps']> {
  const report = await parts.volumes.report(context);
  const steps: RecoveryStep[] = [];
  const lock = await parts.lock.inspect?.();
  if (lock?.stale)
    steps.push({
      kind: 'remove-stale-lock',
      targets: [lock.path],
      message: `Taking over the stale lock ${lock.path} (${lock.holder}, no longer running)`,
    });
  steps.push(...(await parts.recovery.plan(report, context)).steps);
  for (const missing of await layersWithoutEntry(parts, report, context))
    steps.push({
      kind: 'add-boot-entry',
      targets: [missing.layer],
      message: `Adding the missing boot entry of ${missing.layer}`,
    });
  return steps.map((s) => ({ kind: s.kind, targets: [...s.targets], message: s.message }));
}

/** `recover --yes`: the change path (lock, automatic recovery), then the missing boot entries, undoably. */
export async function recover(parts: AdminParts, context: OperationContext): Promise<RecoverResult> {
  const steps = await listRecovery(parts, context);
  if (context.dryRun) return { dryRun: true, steps, recovered: [], addedEntries: [] };
  const addedEntries: string[] = [];
  const { recovered } = await parts.path.run('recover', context, async (tx, report) => {
    const vg = readLayout(report)?.vg;
    for (const missing of await layersWithoutEntry(parts, report, tx.context)) {
      step(tx, 'boot', `Adding the missing boot entry of ${missing.layer}`);
      const result: ChangeResult = { dryRun: false, created: [], removed: [], recovered: [], plan: [] };
      await parts.entries.addBootEntry(tx, result, vg!, missing.layer, missing.source, { makeDefault: false });
      if (result.boot) addedEntries.push(missing.layer);
    }
  });
  return { dryRun: false, steps, recovered, addedEntries };
}

/**
 * Committed layers with no boot entry, each with the layer whose entry's kernel it takes: the newest
 * other layer of its base that has an entry, else itself (its own /boot, or the running kernel).
 */
async function layersWithoutEntry(
  parts: AdminParts,
  report: StorageReport,
  context: OperationContext,
): Promise<{ layer: string; source: string }[]> {
  let layout: LayoutView | undefined;
  try {
    layout = readLayout(report);
  } catch {
    return [];
  }
  const bootloader = await parts.bootloaders?.select(context);
  if (!layout || !bootloader) return [];
  let entries: readonly { layer?: string | undefined }[];
  try {
    entries = (await bootloader.state(context)).entries;
  } catch {
    return []; // an unreadable configuration is left alone, as recovery does
  }
  const has = (layer: string) => entries.some((e) => e.layer === layer);
  return allLayers(layout)
    .filter((layer) => !has(layer.name))
    .map((layer) => {
      const base = layout.bases.find((b) => b.name === layer.base)!;
      const sibling = base.layers.filter((l) => l.name !== layer.name && has(l.name)).at(-1);
      return { layer: layer.name, source: sibling?.name ?? layer.name };
    });
}
