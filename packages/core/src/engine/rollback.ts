import type { BootEntry, BootState } from '../contracts/bootloader.js';
import type { HostInfo } from '../contracts/host.js';
import type { StorageReport } from '../contracts/volume-manager.js';
import {
  BootEntryNotFoundError,
  LayerNotFoundError,
  NoBootloaderError,
  NoRollbackTargetError,
} from '../errors/index.js';
import type { OperationContext } from '../events.js';
import { allLayers } from '../layout/layout.js';
import type { LayoutView } from '../layout/schema.js';
import type { RollbackResult } from '../layout/update-schema.js';
import { parseLayerName } from '../naming/nvr.js';
import type { BootEntries } from './boot-entries.js';
import { type ChangePath, step } from './change-path.js';
import { findByDevice, requireLayout } from './layout-lookups.js';
import type { RollbackRequest } from './requests.js';
import { endTrialForDefault } from './trial-end.js';

/**
 * `imgbase rollback [--to LAYER]`: the default boot entry becomes LAYER's, or, as in the original, the
 * newest layer (with an entry) of the base before the default entry's base; while a trial runs, the
 * trial ends and its last good layer stays the default. On the change path (lock,
 * recovery, transaction); a refusal changes nothing.
 */
export class Rollback {
  constructor(
    private readonly path: ChangePath,
    private readonly boot: BootEntries,
    private readonly host: HostInfo,
  ) {}

  async rollback(request: RollbackRequest, context: OperationContext): Promise<RollbackResult> {
    if (request.to !== undefined) parseLayerName(request.to);
    const { value } = await this.path.run('rollback', context, async (tx, report) => {
      const layout = requireLayout(report);
      const bootloader = await this.boot.bootloader(tx.context);
      if (!bootloader) throw new NoBootloaderError(['auto']);
      const state = await bootloader.state(tx.context);
      const previous = state.entries.find((e) => e.id === state.defaultId);
      // While a trial runs the default is already the last good layer: rolling back means leaving the
      // trial (ended below), not going one base further back.
      const trial = (await bootloader.trial?.()?.readRecord(tx.context))?.trial;
      const target =
        request.to !== undefined
          ? this.entryOf(request.to, layout, state, bootloader.name)
          : trial !== undefined
            ? this.entryOf(trial.good, layout, state, bootloader.name)
            : await this.previousLayerEntry(layout, report, state, previous, tx.context);
      // What the next boot would have started: the trial layer, while one runs.
      const before = trial !== undefined && trial.layer !== target.layer ? trial.layer : previous?.layer;
      const result = {
        dryRun: Boolean(context.dryRun),
        bootloader: bootloader.name,
        layer: target.layer!,
        entry: target.id,
        previous: before ?? null,
      };
      if (context.dryRun) {
        step(tx, 'boot', `Would make ${target.id} the default entry (dry run)`);
        return { ...result, atomic: true };
      }
      await endTrialForDefault(bootloader, result.layer, 'rollback', tx.context);
      if (state.defaultId === target.id) return { ...result, atomic: true };
      step(tx, 'boot', `Rolling back: ${target.layer} boots by default (${bootloader.name})`);
      const { atomic } = await bootloader.setDefault(target.id, tx.context);
      const oldDefault = state.defaultId;
      if (oldDefault !== undefined && state.entries.some((e) => e.id === oldDefault)) {
        tx.onUndo(`make ${oldDefault} the default again`, async (c) => {
          await bootloader.setDefault(oldDefault, c);
        });
      }
      return { ...result, atomic };
    });
    return value;
  }

  /** `--to LAYER`: a layer of the layout with an entry. */
  private entryOf(layer: string, layout: LayoutView, state: BootState, bootloader: string): BootEntry {
    if (!allLayers(layout).some((l) => l.name === layer)) throw new LayerNotFoundError(layer);
    const entry = state.entries.find((e) => e.layer === layer);
    if (!entry) throw new BootEntryNotFoundError(layer, bootloader);
    return entry;
  }

  /** The newest layer with an entry of the base before the one the default entry (else the running layer) boots. */
  private async previousLayerEntry(
    layout: LayoutView,
    report: StorageReport,
    state: BootState,
    current: BootEntry | undefined,
    context: OperationContext,
  ): Promise<BootEntry> {
    let from = current?.layer;
    if (from === undefined) {
      const root = await this.host.mountedRoot(context);
      from = root.device && findByDevice(allLayers(layout), report, root.device)?.name;
    }
    if (from === undefined) throw new NoRollbackTargetError('the default boot entry is not one of imgbased’s');
    const index = layout.bases.findIndex((b) => b.layers.some((l) => l.name === from));
    if (index < 0) throw new NoRollbackTargetError(`the default layer ${from} is not in the layout`);
    if (index === 0) throw new NoRollbackTargetError(`${from} is on the oldest base, ${layout.bases[0]!.name}`);
    const before = layout.bases[index - 1]!;
    const withEntry = [...before.layers]
      .reverse()
      .map((l) => state.entries.find((e) => e.layer === l.name))
      .find((e) => e !== undefined);
    if (!withEntry) {
      throw new NoRollbackTargetError(`no layer of the previous base ${before.name} has a boot entry`);
    }
    return withEntry;
  }
}
