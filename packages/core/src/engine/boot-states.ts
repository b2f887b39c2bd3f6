import type { TrialRecord } from '../boot/trial-protocol.js';
import { layerBootStateView } from '../boot/trial-record.js';
import type { Bootloader } from '../contracts/bootloader.js';
import { emit, type OperationContext } from '../events.js';
import type { BootStateView, LayerView, LayoutView } from '../layout/schema.js';

/** A layer's boot state by name: null when none is recorded or there is no layer. */
export type BootStateOf = (layer: string | undefined) => BootStateView | null;

/** Each layer's trial-boot state, from trial.json; an unreadable record is a warning, not a failure. */
export async function trialBootStates(
  bootloader: Bootloader | undefined,
  context: OperationContext,
): Promise<BootStateOf> {
  const trial = bootloader?.trial?.();
  if (trial === undefined) return () => null;
  let record: TrialRecord;
  let armed: { layer: string; left: number } | undefined;
  try {
    [record, { armed }] = await Promise.all([trial.readRecord(context), trial.trialState(context)]);
  } catch (error) {
    emit(context, { type: 'warning', message: `trial boot states unknown: ${(error as Error).message}` });
    return () => null;
  }
  // extlinux's boot-once has no counter: its boots left are the record's tries minus the arms used.
  const left = trial.protocol === 'extlinux-once' ? undefined : armed?.left;
  return (layer) =>
    layer === undefined ? null : layerBootStateView(record, layer, armed?.layer === layer ? left : undefined);
}

/** The layout with each layer's boot state (`layout --json`, the daemon's layout resource). */
export async function withBootStates(
  layout: LayoutView,
  bootloader: Bootloader | undefined,
  context: OperationContext,
): Promise<LayoutView> {
  const stateOf = await trialBootStates(bootloader, context);
  const fill = (layer: LayerView): LayerView => ({ ...layer, bootState: stateOf(layer.name) });
  return {
    ...layout,
    bases: layout.bases.map((base) => ({ ...base, layers: base.layers.map(fill) })),
    orphanLayers: layout.orphanLayers.map(fill),
  };
}
