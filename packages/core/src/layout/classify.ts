import type { ThinVolume } from '../contracts/volume-manager.js';
import { type LayerName, type Nvr, parseLayerName, parseNvr } from '../naming/nvr.js';
import { Tags } from './tags.js';

/**
 * How imgbased tells bases from layers: by name first, as the original does (`NAME-VERSION-RELEASE`
 * is a base, `…+N` a layer), among the volumes tagged as either. The tag only says that a volume is
 * imgbased's: the original tags the first base of `layout --init` `imgbased:layer`, so a tag that
 * disagrees with the name is normal on hosts it laid out, and is reported, never trusted.
 */
export type Classified =
  | { readonly kind: 'base'; readonly volume: ThinVolume; readonly nvr: Nvr }
  | { readonly kind: 'layer'; readonly volume: ThinVolume; readonly layer: LayerName };

export interface Classification {
  readonly bases: readonly (Classified & { kind: 'base' })[];
  readonly layers: readonly (Classified & { kind: 'layer' })[];
  /** Tagged volumes whose names imgbased cannot read: left out of the layout, never touched. */
  readonly unreadable: readonly ThinVolume[];
  /** One line per volume whose tag and name disagree, or whose name cannot be read. */
  readonly notes: readonly string[];
}

/** True for a volume the original or imgbased tagged as a base or a layer. */
export function isImageVolume(volume: ThinVolume): boolean {
  return volume.tags.includes(Tags.base) || volume.tags.includes(Tags.layer);
}

/** Classifies tagged volumes by name; tags only decide which volumes are considered. */
export function classifyVolumes(volumes: readonly ThinVolume[]): Classification {
  const bases: (Classified & { kind: 'base' })[] = [];
  const layers: (Classified & { kind: 'layer' })[] = [];
  const unreadable: ThinVolume[] = [];
  const notes: string[] = [];
  for (const volume of volumes.filter(isImageVolume)) {
    const tag = volume.tags.includes(Tags.base) ? Tags.base : Tags.layer;
    const layer = volume.name.includes('+') ? attempt(() => parseLayerName(volume.name)) : undefined;
    const nvr = layer === undefined ? attempt(() => parseNvr(volume.name)) : undefined;
    if (layer !== undefined) {
      layers.push({ kind: 'layer', volume, layer });
      if (!volume.tags.includes(Tags.layer))
        notes.push(`${volume.name} is tagged ${tag} but named as a layer (NVR+N): read as a layer`);
    } else if (nvr !== undefined) {
      bases.push({ kind: 'base', volume, nvr });
      if (!volume.tags.includes(Tags.base))
        notes.push(`${volume.name} is tagged ${tag} but named as a base (NVR): read as a base`);
    } else {
      unreadable.push(volume);
      notes.push(`${volume.name} is tagged ${tag} but its name is neither NVR nor NVR+N: left out`);
    }
  }
  return { bases, layers, unreadable, notes };
}

function attempt<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/**
 * The original's separate volumes (`/var/log/audit` → `var_log_audit`, tag `imgbased:volume`): where
 * they are mounted, read back from the name as the original does (`_` → `/`, `--` → `-`).
 */
export function volumeMountPoint(name: string): string {
  return `/${name.replaceAll('_', '/').replaceAll('--', '-')}`;
}
