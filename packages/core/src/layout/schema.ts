// zod/mini: tree-shakable and quick to load, which matters for a CLI started by scripts in loops.
import * as z from 'zod/mini';

/**
 * The data imgbased returns: from the engine, in the CLI's `--json` output and over the daemon's API.
 * These schemas are the one source of truth: types are inferred from them, and the published JSON
 * Schema is generated from them. Bump SCHEMA_VERSION on any incompatible change.
 */
export { SCHEMA_VERSION } from './schema-version.js';

import { SCHEMA_VERSION } from './schema-version.js';

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description));

export const NvrSchema = z.object({ name: z.string(), version: z.string(), release: z.string() });

const VolumeFields = {
  name: z.string(),
  path: described(z.string(), '/dev/VG/LV'),
  sizeBytes: z.int(),
  readOnly: z.boolean(),
  activationSkip: z.boolean(),
  active: z.boolean(),
  origin: described(z.nullable(z.string()), 'the volume this one is a thin snapshot of'),
};

/** A layer's trial-boot state (docs/trial-boots.md), as `layout` and `boot --list` show it. */
export const BootStateSchema = z.object({
  state: described(
    z.enum(['trial', 'good', 'failed']),
    'trial: boots on probation; good: proved itself (or marked by hand); failed: its check failed or it never reached it',
  ),
  at: described(z.string(), 'when the trial started or the verdict was recorded (ISO 8601)'),
  attemptsLeft: described(z.nullable(z.int()), 'boots the trial has left; null unless state is trial'),
  reason: described(z.nullable(z.string()), 'why it failed; null unless state is failed'),
});
export type BootStateView = z.infer<typeof BootStateSchema>;

export const LayerViewSchema = z.object({
  ...VolumeFields,
  base: z.string(),
  index: z.int().check(z.minimum(1)),
  bootState: described(
    z.nullable(BootStateSchema),
    'trial boots: on trial (with its boots left), proved good, or failed (with the reason and time); null: none recorded, or a bootloader without trial boots',
  ),
});
export type LayerView = z.infer<typeof LayerViewSchema>;

export const BaseViewSchema = z.object({
  ...VolumeFields,
  nvr: NvrSchema,
  pinned: described(z.boolean(), 'garbage collection keeps it (imgbase base --pin)'),
  layers: z.array(LayerViewSchema),
});
export type BaseView = z.infer<typeof BaseViewSchema>;

export const PoolViewSchema = z.object({
  name: z.string(),
  sizeBytes: z.int(),
  dataPercent: z.number(),
  metadataPercent: z.number(),
  freeBytes: described(z.int(), 'size × (1 − data%)'),
});
export type PoolView = z.infer<typeof PoolViewSchema>;

export const SeparateVolumeViewSchema = z.object({
  name: z.string(),
  path: described(z.string(), '/dev/VG/LV'),
  sizeBytes: z.int(),
  active: z.boolean(),
  mountPoint: described(z.string(), 'where it belongs, read from its name: var_log_audit is /var/log/audit'),
});
export type SeparateVolumeView = z.infer<typeof SeparateVolumeViewSchema>;

export const LayoutViewSchema = z.object({
  vg: z.string(),
  pool: PoolViewSchema,
  initVolume: described(z.nullable(z.string()), 'the root volume the layout was initialised from'),
  bases: described(z.array(BaseViewSchema), 'oldest first, ordered by rpm version rules'),
  orphanLayers: described(z.array(LayerViewSchema), 'layers whose base is gone'),
  incomplete: described(z.array(z.string()), 'volumes left half-made by an interrupted operation'),
  volumes: described(
    z.array(SeparateVolumeViewSchema),
    'separate volumes (tag imgbased:volume, e.g. var_log_audit): listed and kept, never bases or layers',
  ),
});
export type LayoutView = z.infer<typeof LayoutViewSchema>;

export const PlannedCommandSchema = z.object({ argv: z.array(z.string()) });
export type PlannedCommand = z.infer<typeof PlannedCommandSchema>;

export const ChangeResultSchema = z.object({
  dryRun: z.boolean(),
  created: described(z.array(z.string()), 'volumes made'),
  removed: described(z.array(z.string()), 'volumes removed'),
  recovered: described(z.array(z.string()), 'half-made volumes of an interrupted operation, removed first'),
  plan: described(z.array(PlannedCommandSchema), 'in a dry run: the commands that would change the system'),
  boot: z.optional(
    described(
      z.object({
        bootloader: z.string(),
        added: z.array(z.string()),
        removed: z.array(z.string()),
        atomic: described(z.boolean(), 'every boot configuration write of the operation was atomic'),
        trial: z.optional(
          described(z.boolean(), 'layer --add --trial: the new layer boots next as a trial, not as the default'),
        ),
      }),
      'the boot entries the operation kept in step; absent when no bootloader is present or in a dry run',
    ),
  ),
});
export type ChangeResult = z.infer<typeof ChangeResultSchema>;

export const BootCapabilitiesSchema = z.object({
  atomicSwap: described(z.boolean(), 'the configuration is swapped in with one atomic rename on this file system'),
  nativeOneShot: z.boolean(),
  nativeBootCounting: z.boolean(),
});

export const BootEntryViewSchema = z.object({
  id: z.string(),
  title: z.string(),
  version: z.string(),
  kernel: described(z.string(), 'path on the boot partition'),
  initrd: z.nullable(z.string()),
  options: z.array(z.string()),
  layer: described(z.nullable(z.string()), 'the layer it boots (img.bootid); null for entries imgbased did not write'),
  isDefault: z.boolean(),
  isNext: z.boolean(),
  triesLeft: described(z.nullable(z.int()), 'boot counting: tries left, when the entry counts them'),
  bootState: described(
    z.nullable(BootStateSchema),
    'trial boots (docs/trial-boots.md): the layer on trial, proved good, or failed with the reason; null: none recorded',
  ),
});
export type BootEntryView = z.infer<typeof BootEntryViewSchema>;

export const BootListSchema = z.object({
  bootloader: described(z.nullable(z.string()), 'the plugin in use; null when no bootloader is present'),
  capabilities: z.nullable(BootCapabilitiesSchema),
  default: described(z.nullable(z.string()), 'id of the default entry'),
  next: described(z.nullable(z.string()), 'id of the one-shot entry of the next boot'),
  entries: z.array(BootEntryViewSchema),
});
export type BootList = z.infer<typeof BootListSchema>;

export const BootDefaultSchema = z.object({
  bootloader: z.nullable(z.string()),
  entry: z.nullable(z.string()),
  layer: described(z.nullable(z.string()), 'the layer of the default entry; null when it is not one of imgbased’s'),
});
export type BootDefault = z.infer<typeof BootDefaultSchema>;

export const BootChangeSchema = z.object({
  dryRun: z.boolean(),
  bootloader: z.string(),
  layer: z.string(),
  entry: z.string(),
  atomic: described(z.boolean(), 'the change was one atomic write on this file system'),
});
export type BootChange = z.infer<typeof BootChangeSchema>;

export const BootDefaultChangeSchema = z.extend(BootChangeSchema, {
  trial: described(
    z.boolean(),
    'boot --set-default --trial: the layer boots next as a trial and becomes the default only once its checks pass',
  ),
});
export type BootDefaultChange = z.infer<typeof BootDefaultChangeSchema>;

export const KernelArgsSchema = z.object({
  bootloader: z.string(),
  layer: z.string(),
  entry: z.string(),
  options: described(z.array(z.string()), 'the kernel command line of the layer’s entry, one argument each'),
});
export type KernelArgs = z.infer<typeof KernelArgsSchema>;

export const KernelArgsChangeSchema = z.extend(BootChangeSchema, {
  previous: described(z.array(z.string()), 'the arguments before the change'),
  options: described(z.array(z.string()), 'the arguments after the change (in a dry run: what they would be)'),
});
export type KernelArgsChange = z.infer<typeof KernelArgsChangeSchema>;

export const FreeSpaceSchema = z.object({ pool: z.string(), freeBytes: z.int(), sizeBytes: z.int() });
export type FreeSpace = z.infer<typeof FreeSpaceSchema>;

export const NameResultSchema = {
  base: z.object({ base: z.string() }),
  layer: z.object({ layer: z.string() }),
  bases: z.object({ bases: z.array(z.string()) }),
  layers: z.object({ layers: z.array(z.string()) }),
  path: z.object({ path: z.string() }),
};

interface SerializedErrorShape {
  name: string;
  code: string;
  message: string;
  details?: Record<string, unknown> | undefined;
  cause?: SerializedErrorShape | undefined;
}

export const SerializedErrorSchema: z.ZodMiniType<SerializedErrorShape> = z.object({
  name: z.string(),
  code: described(z.string(), 'stable: E_NAME_INVALID, E_BASE_NOT_FOUND, E_LOCKED, …'),
  message: described(z.string(), 'one line that says what to do'),
  details: z.optional(z.record(z.string(), z.unknown())),
  get cause() {
    return z.optional(SerializedErrorSchema);
  },
});

export const EnvelopeSchema = z.union([
  z.object({ schemaVersion: z.literal(SCHEMA_VERSION), verb: z.string(), data: z.unknown() }),
  z.object({ schemaVersion: z.literal(SCHEMA_VERSION), verb: z.string(), error: SerializedErrorSchema }),
]);
