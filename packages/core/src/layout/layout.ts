import type { StorageReport, ThinVolume } from '../contracts/volume-manager.js';
import { LayoutInvalidError } from '../errors/index.js';
import { compareLayerNames, compareNvr, type LayerName, type Nvr } from '../naming/nvr.js';
import { classifyVolumes, isImageVolume, volumeMountPoint } from './classify.js';
import type { BaseView, LayerView, LayoutView } from './schema.js';
import { Tags } from './tags.js';

/**
 * Reads the layout from one storage report: pure, so every verb that lists things costs exactly
 * the one `lvs` call behind the report.
 */
export function readLayout(report: StorageReport): LayoutView | undefined {
  const groups = report.groups.filter((group) => group.tags.includes(Tags.group));
  if (groups.length === 0) return undefined;
  if (groups.length > 1) {
    throw new LayoutInvalidError(
      `Several volume groups are tagged ${Tags.group} (${groups.map((g) => g.name).join(', ')}): remove the tag from all but one`,
      { groups: groups.map((g) => g.name) },
    );
  }
  const vg = groups[0]!.name;
  const pool = report.pools.find((p) => p.vg === vg && p.tags.includes(Tags.pool));
  if (!pool) {
    throw new LayoutInvalidError(`Volume group '${vg}' has no thin pool tagged ${Tags.pool}`, { vg });
  }
  const volumes = report.volumes.filter((v) => v.vg === vg);
  // While `layout --init` has not finished (its group is still pending), nothing of it counts yet.
  const initUnfinished = groups[0]!.tags.includes(Tags.pending);
  const isIncomplete = (v: ThinVolume) =>
    v.tags.includes(Tags.pending) || (initUnfinished && (v.tags.includes(Tags.base) || v.tags.includes(Tags.layer)));
  const incomplete = volumes.filter(isIncomplete).map((v) => v.name);
  const settled = volumes.filter((v) => !isIncomplete(v));

  // By name, as the original reads them (see classifyVolumes); the tag only marks them as imgbased's.
  const classified = classifyVolumes(settled);
  const bases: (BaseView & { parsed: Nvr })[] = classified.bases.map(({ volume, nvr }) => ({
    ...volumeFields(volume),
    nvr,
    pinned: volume.tags.includes(Tags.pinned),
    layers: [],
    parsed: nvr,
  }));
  bases.sort((a, b) => compareNvr(a.parsed, b.parsed));

  const layers: (LayerView & { parsed: LayerName })[] = classified.layers.map(({ volume, layer }) => ({
    ...volumeFields(volume),
    base: volume.name.slice(0, volume.name.lastIndexOf('+')),
    index: layer.index,
    // Read from the volumes alone: the engine's `layout` fills it in from the bootloader's trial record.
    bootState: null,
    parsed: layer,
  }));
  layers.sort((a, b) => compareLayerNames(a.parsed, b.parsed));

  const orphanLayers: LayerView[] = [];
  for (const { parsed: _parsed, ...layer } of layers) {
    const base = bases.find((b) => b.name === layer.base);
    if (base) base.layers.push(layer);
    else orphanLayers.push(layer);
  }
  return {
    vg,
    pool: {
      name: pool.name,
      sizeBytes: pool.sizeBytes,
      dataPercent: pool.dataPercent,
      metadataPercent: pool.metadataPercent,
      freeBytes: Math.floor(pool.sizeBytes * (1 - pool.dataPercent / 100)),
    },
    initVolume: volumes.find((v) => v.tags.includes(Tags.init))?.name ?? null,
    bases: bases.map(({ parsed: _parsed, ...base }) => base),
    orphanLayers,
    incomplete,
    volumes: volumes
      .filter((v) => v.tags.includes(Tags.volume) && !isImageVolume(v))
      .map((v) => ({
        name: v.name,
        path: v.path,
        sizeBytes: v.sizeBytes,
        active: v.active,
        mountPoint: volumeMountPoint(v.name),
      })),
  };
}

function volumeFields(volume: ThinVolume) {
  return {
    name: volume.name,
    path: volume.path,
    sizeBytes: volume.sizeBytes,
    readOnly: volume.readOnly,
    activationSkip: volume.activationSkip,
    active: volume.active,
    origin: volume.origin ?? null,
  };
}

/** What `readLayout` read differently from the tags (see classifyVolumes), for `--debug`. */
export function layoutNotes(report: StorageReport): readonly string[] {
  const group = report.groups.find((g) => g.tags.includes(Tags.group));
  if (!group) return [];
  return classifyVolumes(report.volumes.filter((v) => v.vg === group.name && !v.tags.includes(Tags.pending))).notes;
}

export function allLayers(layout: LayoutView): LayerView[] {
  return layout.bases.flatMap((base) => base.layers);
}

export function latestBase(layout: LayoutView): BaseView | undefined {
  return layout.bases.at(-1);
}

/** The newest layer: the highest index of the newest base that has layers. */
export function latestLayer(layout: LayoutView): LayerView | undefined {
  return allLayers(layout).at(-1);
}
