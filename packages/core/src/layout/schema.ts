import { z } from 'zod';

/**
 * The data imgbased returns: from the engine, in the CLI's `--json` output and over the daemon's API.
 * These schemas are the one source of truth: types are inferred from them, and the published JSON
 * Schema is generated from them. Bump SCHEMA_VERSION on any incompatible change.
 */
export const SCHEMA_VERSION = 1;

export const NvrSchema = z.object({ name: z.string(), version: z.string(), release: z.string() });

const VolumeFields = {
  name: z.string(),
  path: z.string().describe('/dev/VG/LV'),
  sizeBytes: z.number().int(),
  readOnly: z.boolean(),
  activationSkip: z.boolean(),
  active: z.boolean(),
  origin: z.string().nullable().describe('the volume this one is a thin snapshot of'),
};

export const LayerViewSchema = z.object({ ...VolumeFields, base: z.string(), index: z.number().int().min(1) });
export type LayerView = z.infer<typeof LayerViewSchema>;

export const BaseViewSchema = z.object({ ...VolumeFields, nvr: NvrSchema, layers: z.array(LayerViewSchema) });
export type BaseView = z.infer<typeof BaseViewSchema>;

export const PoolViewSchema = z.object({
  name: z.string(),
  sizeBytes: z.number().int(),
  dataPercent: z.number(),
  metadataPercent: z.number(),
  freeBytes: z.number().int().describe('size × (1 − data%)'),
});
export type PoolView = z.infer<typeof PoolViewSchema>;

export const LayoutViewSchema = z.object({
  vg: z.string(),
  pool: PoolViewSchema,
  initVolume: z.string().nullable().describe('the root volume the layout was initialised from'),
  bases: z.array(BaseViewSchema).describe('oldest first, ordered by rpm version rules'),
  orphanLayers: z.array(LayerViewSchema).describe('layers whose base is gone'),
  incomplete: z.array(z.string()).describe('volumes left half-made by an interrupted operation'),
});
export type LayoutView = z.infer<typeof LayoutViewSchema>;

export const PlannedCommandSchema = z.object({ argv: z.array(z.string()) });
export type PlannedCommand = z.infer<typeof PlannedCommandSchema>;

export const ChangeResultSchema = z.object({
  dryRun: z.boolean(),
  created: z.array(z.string()).describe('volumes made'),
  removed: z.array(z.string()).describe('volumes removed'),
  recovered: z.array(z.string()).describe('half-made volumes of an interrupted operation, removed first'),
  plan: z.array(PlannedCommandSchema).describe('in a dry run: the commands that would change the system'),
});
export type ChangeResult = z.infer<typeof ChangeResultSchema>;

export const FreeSpaceSchema = z.object({ pool: z.string(), freeBytes: z.number().int(), sizeBytes: z.number().int() });
export type FreeSpace = z.infer<typeof FreeSpaceSchema>;
