import type { OperationContext } from '../../events.js';
import type { Status } from '../../layout/admin-schema.js';
import { LAST_UPDATE_RECORD_PATH, type UpdateRecord, UpdateRecordSchema } from '../../layout/update-record-schema.js';
import { check } from './check.js';
import { readHostState } from './host-state.js';
import type { AdminParts } from './parts.js';

/**
 * `imgbase status`, in the spirit of `bootc status`: the layer the host runs from, what boots by
 * default and next, each layer's boot state, the last update, the thin pool, and check's warnings.
 */
export async function status(parts: AdminParts, context: OperationContext): Promise<Status> {
  const state = await readHostState(parts, context);
  const report = await check(parts, context, state);
  const entries = state.boot?.entries ?? [];
  const ref = (id: string | undefined) => {
    const entry = id === undefined ? undefined : entries.find((e) => e.id === id);
    return id === undefined ? null : { entry: id, layer: entry?.layer ?? null };
  };
  const defaultBoot = ref(state.boot?.defaultId);
  const nextBoot = ref(state.boot?.nextId);
  const layers = state.layout.bases.flatMap((base) =>
    base.layers.map((layer) => ({
      name: layer.name,
      base: base.name,
      running: layer.name === state.running?.name,
      entries: entries.filter((e) => e.layer === layer.name).length,
      bootsByDefault: defaultBoot?.layer === layer.name,
      bootsNext: nextBoot?.layer === layer.name,
    })),
  );
  const newest = state.layout.bases.at(-1);
  const { pool } = state.layout;
  return {
    running: state.running?.name ?? null,
    rootSource: state.root.source,
    bootloader: state.bootloader?.name ?? null,
    defaultBoot,
    nextBoot,
    layers,
    lastUpdate:
      newest && state.layout.bases.length > 1
        ? { base: newest.name, layer: newest.layers[0]?.name ?? null, pinned: newest.pinned }
        : null,
    lastUpdateRecord: await readUpdateRecord(parts, context),
    pool: {
      name: `${state.layout.vg}/${pool.name}`,
      sizeBytes: pool.sizeBytes,
      freeBytes: pool.freeBytes,
      dataPercent: pool.dataPercent,
      metadataPercent: pool.metadataPercent,
    },
    health: report.health,
    warnings: report.findings.filter((f) => f.status === 'warn' || f.status === 'fail').map((f) => f.message),
  };
}

/** The running root's update record; null when absent, unreadable or not a record (an older imgbased's, say). */
async function readUpdateRecord(parts: AdminParts, context: OperationContext): Promise<UpdateRecord | null> {
  const text = await parts.files?.readText(LAST_UPDATE_RECORD_PATH, context).catch(() => undefined);
  if (text === undefined) return null;
  try {
    const parsed = UpdateRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
