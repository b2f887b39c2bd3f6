// The results of `update`, `rollback` and `base --pin/--unpin` (see schema.ts for the rules).
import * as z from 'zod/mini';
import { BootChangeSchema, PlannedCommandSchema } from './schema.js';

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description));

export const SpaceNeedSchema = z.object({
  space: z.enum(['pool-data', 'pool-metadata', 'boot']),
  where: described(z.string(), 'VG/POOL, or the boot partition’s mount point'),
  neededBytes: z.int(),
  freeBytes: z.int(),
});
export type SpaceNeed = z.infer<typeof SpaceNeedSchema>;

export const SpacePlanSchema = z.object({
  newVolumeBytes: described(z.int(), 'virtual size of the new base (and of its first layer)'),
  imageDataBytes: described(z.int(), 'what the installed image takes in the pool'),
  carryOverBoundBytes: described(z.int(), 'room kept for the admin’s state carried over'),
  needs: z.array(SpaceNeedSchema),
  metadataExtension: described(
    z.nullable(z.object({ fromBytes: z.int(), toBytes: z.int() })),
    'the thin pool’s metadata grown first (the volume group had room)',
  ),
  gcFrees: described(
    z.array(z.object({ base: z.string(), freesBytes: z.int() })),
    'bases garbage collection removes after the update, with what each frees (an upper bound)',
  ),
});
export type SpacePlan = z.infer<typeof SpacePlanSchema>;

export const PersistenceReportSchema = z.object({
  plugin: z.string(),
  copied: described(z.array(z.string()), 'taken from the old layer (added or changed by the admin)'),
  merged: described(z.array(z.string()), 'merged entry by entry (passwd, group, shadow, gshadow)'),
  keptFromNewBase: described(z.array(z.string()), 'left alone by the admin, changed by the new image'),
  deleted: described(z.array(z.string()), 'deleted by the admin, so deleted in the new layer'),
  conflicts: z.array(
    z.object({
      path: z.string(),
      reason: z.string(),
      resolution: z.enum(['kept-admin', 'took-new-saved-admin', 'failed']),
      savedAs: z.nullable(z.string()),
    }),
  ),
  delta: z.nullable(z.string()),
});
export type PersistenceReportView = z.infer<typeof PersistenceReportSchema>;

export const UpdateResultSchema = z.object({
  dryRun: z.boolean(),
  image: z.object({
    given: described(z.string(), 'IMAGE as given: a path or a URL'),
    path: z.string(),
    format: z.enum(['ext4', 'squashfs', 'liveimg', 'tar']),
    nvr: z.string(),
    nvrFrom: z.enum(['option', 'os-release', 'file-name']),
    sha256: described(z.nullable(z.string()), 'the checksum verified; null when none was given or found'),
  }),
  base: described(z.string(), 'the new base'),
  layer: described(z.string(), 'its first layer, holding the carried-over state'),
  from: z.object({
    layer: described(z.string(), 'the layer whose state was carried over'),
    why: z.enum(['running', 'newest', 'option']),
  }),
  created: z.array(z.string()),
  removed: described(z.array(z.string()), 'volumes garbage collection removed'),
  recovered: z.array(z.string()),
  plan: described(z.array(PlannedCommandSchema), 'in a dry run: the commands that would change the system'),
  space: SpacePlanSchema,
  persistence: z.array(PersistenceReportSchema),
  gc: z.object({
    keep: z.int(),
    removed: z.array(z.object({ base: z.string(), layers: z.array(z.string()) })),
    kept: described(z.array(z.string()), 'the bases left, oldest first'),
  }),
  boot: z.optional(
    z.object({
      bootloader: z.string(),
      added: z.array(z.string()),
      removed: z.array(z.string()),
      atomic: z.boolean(),
    }),
  ),
  bootsNext: described(z.nullable(z.string()), 'the layer the next boot starts; null when no entry is known'),
  rebootRequired: described(z.boolean(), 'the new layer is used after a reboot'),
  trial: described(
    z.boolean(),
    'the new layer boots next as a trial ([trial] enabled): the last good layer stays the default until its checks pass',
  ),
});
export type UpdateResult = z.infer<typeof UpdateResultSchema>;

export const RollbackResultSchema = z.extend(BootChangeSchema, {
  previous: described(
    z.nullable(z.string()),
    'the layer the next boot started before: the default, or the running trial',
  ),
});
export type RollbackResult = z.infer<typeof RollbackResultSchema>;

export const PinChangeSchema = z.object({
  dryRun: z.boolean(),
  base: z.string(),
  pinned: z.boolean(),
  changed: described(z.boolean(), 'false when the base was already so'),
});
export type PinChange = z.infer<typeof PinChangeSchema>;
