import type { CommandRunner, OperationContext, PersistenceVolumes } from '@imgbased/core';

/** Byte ranges `[start, end)` of a thin volume whose blocks differ from another's, sorted, not overlapping. */
export type ByteRanges = readonly (readonly [number, number])[];

/** What the thin pool says differs between the old base and the old layer, or why it cannot say. */
export type PoolDelta =
  | { readonly ok: true; readonly ranges: ByteRanges; readonly chunkBytes: number }
  | { readonly ok: false; readonly reason: string };

interface ThinVolume {
  readonly name: string;
  readonly pool: string;
  readonly thinId: number;
  readonly segtype: string;
}

/** The device-mapper name of VG/LV: each `-` in a name doubled, the two joined by `-`. */
export const dmName = (vg: string, lv: string) => `${vg.replaceAll('-', '--')}-${lv.replaceAll('-', '--')}`;

async function thinVolumes(
  runner: CommandRunner,
  volumes: PersistenceVolumes,
  context?: OperationContext,
): Promise<ThinVolume[]> {
  const { stdout } = await runner.run(
    {
      argv: [
        'lvm',
        'lvs',
        '--reportformat',
        'json',
        '-o',
        'lv_name,pool_lv,thin_id,segtype',
        `${volumes.vg}/${volumes.oldBase}`,
        `${volumes.vg}/${volumes.oldLayer}`,
      ],
      mutates: false,
    },
    context,
  );
  const rows = (JSON.parse(stdout) as { report: { lv: Record<string, string>[] }[] }).report[0]?.lv ?? [];
  return rows.map((r) => ({
    name: r.lv_name ?? '',
    pool: r.pool_lv ?? '',
    thinId: Number(r.thin_id),
    segtype: r.segtype ?? '',
  }));
}

/**
 * Asks the thin pool which blocks of the old layer differ from the old base's: `thin_delta` on a
 * snapshot of the live pool's metadata (reserved, read, released; the metadata snapshot changes no
 * data). Blocks that map to the same pool block hold the same bytes, so every byte that differs is in
 * a range returned (at the pool's chunk size: a superset). `synced` (the old layer's mount point) is
 * flushed first, so that what the file system holds in memory has reached the pool. Never throws for
 * what only means "no delta here" (volumes of other pools, no thin_delta, a metadata snapshot held by
 * someone else): that comes back as a reason, and the caller compares the whole trees.
 */
export async function poolDelta(
  runner: CommandRunner,
  volumes: PersistenceVolumes,
  synced: string,
  context?: OperationContext,
): Promise<PoolDelta> {
  let found: ThinVolume[];
  try {
    found = await thinVolumes(runner, volumes, context);
  } catch (error) {
    return { ok: false, reason: `lvs failed: ${messageOf(error)}` };
  }
  const base = found.find((v) => v.name === volumes.oldBase);
  const layer = found.find((v) => v.name === volumes.oldLayer);
  if (base === undefined || layer === undefined) return { ok: false, reason: 'lvs did not list both volumes' };
  if (base.segtype !== 'thin' || layer.segtype !== 'thin' || !Number.isInteger(base.thinId + layer.thinId))
    return { ok: false, reason: 'the old base and the old layer are not both thin volumes' };
  if (base.pool !== layer.pool) return { ok: false, reason: 'the old base and the old layer are in different pools' };

  await runner.run({ argv: ['sync', '-f', synced], mutates: false }, context);
  const pool = `${dmName(volumes.vg, base.pool)}-tpool`;
  const metadata = `/dev/mapper/${dmName(volumes.vg, `${base.pool}_tmeta`)}`;
  const dmMessage = (text: string) =>
    runner.run({ argv: ['dmsetup', 'message', pool, '0', text], mutates: false }, context);
  try {
    // Reserving commits the pool's transaction first: every block written so far is mapped.
    await dmMessage('reserve_metadata_snap');
  } catch (error) {
    return { ok: false, reason: `no metadata snapshot of ${pool}: ${messageOf(error)}` };
  }
  let xml: string;
  try {
    const argv = ['thin_delta', '-m', '--thin1', String(base.thinId), '--thin2', String(layer.thinId), metadata];
    xml = (await runner.run({ argv, mutates: false }, context)).stdout;
  } catch (error) {
    return { ok: false, reason: `thin_delta failed: ${messageOf(error)}` };
  } finally {
    await dmMessage('release_metadata_snap');
  }
  return parseThinDelta(xml);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0]! : String(error));

/** thin_delta's XML: the ranges that differ (`different`, `left_only`, `right_only`), in bytes, merged. */
export function parseThinDelta(xml: string): PoolDelta {
  const size = /data_block_size="(\d+)"/.exec(xml);
  if (size === null) return { ok: false, reason: 'thin_delta printed no data_block_size' };
  const chunkBytes = Number(size[1]) * 512;
  const found: [number, number][] = [];
  for (const m of xml.matchAll(/<(different|left_only|right_only) begin="(\d+)" length="(\d+)"\s*\/>/g)) {
    const start = Number(m[2]) * chunkBytes;
    found.push([start, start + Number(m[3]) * chunkBytes]);
  }
  found.sort((a, b) => a[0] - b[0]);
  const ranges: [number, number][] = [];
  for (const [start, end] of found) {
    const last = ranges.at(-1);
    if (last !== undefined && last[1] >= start) last[1] = Math.max(last[1], end);
    else ranges.push([start, end]);
  }
  return { ok: true, ranges, chunkBytes };
}
