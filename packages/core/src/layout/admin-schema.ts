// The results of the host administration verbs: status, check, motd, volume, recover, layer
// --mount/--umount/--diff (see schema.ts for the rules).
import * as z from 'zod/mini';
import { ChangeResultSchema } from './schema.js';
import { UpdateRecordSchema } from './update-record-schema.js';

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description));

export const HealthSchema = described(
  z.enum(['ok', 'degraded', 'failed']),
  'ok: every check passed; degraded: warnings (exit code 1 of check); failed: a check failed (exit code 2)',
);
export type Health = z.infer<typeof HealthSchema>;

export const FindingSchema = z.object({
  group: z.enum(['bootloader', 'mounts', 'storage', 'leftovers']),
  check: described(z.string(), 'stable name of the check, e.g. entry-per-layer, pool-data'),
  status: described(z.enum(['ok', 'warn', 'fail', 'skip']), 'skip: the check does not apply on this host'),
  message: z.string(),
  targets: described(z.array(z.string()), 'what the finding is about: layers, entries, paths, volumes'),
});
export type Finding = z.infer<typeof FindingSchema>;

export const CheckReportSchema = z.object({
  health: HealthSchema,
  exitCode: described(z.int(), '0 ok, 1 degraded, 2 failed: what imgbase check exits with'),
  findings: z.array(FindingSchema),
});
export type CheckReport = z.infer<typeof CheckReportSchema>;

const BootRefSchema = z.nullable(z.object({ entry: z.string(), layer: z.nullable(z.string()) }));

export const StatusLayerSchema = z.object({
  name: z.string(),
  base: z.string(),
  running: described(z.boolean(), 'mounted at /'),
  entries: described(z.int(), 'its boot entries (1 is right; 0 when no bootloader is present)'),
  bootsByDefault: z.boolean(),
  bootsNext: described(z.boolean(), 'the one-shot entry of the next boot is its'),
});
export type StatusLayer = z.infer<typeof StatusLayerSchema>;

export const StatusSchema = z.object({
  running: described(z.nullable(z.string()), 'the layer mounted at /; null when the host runs from none'),
  rootSource: described(z.string(), 'what is mounted at /'),
  bootloader: z.nullable(z.string()),
  defaultBoot: BootRefSchema,
  nextBoot: described(BootRefSchema, 'the one-shot entry; null when none is set'),
  layers: described(z.array(StatusLayerSchema), 'oldest base first'),
  lastUpdate: described(
    z.nullable(z.object({ base: z.string(), layer: z.nullable(z.string()), pinned: z.boolean() })),
    'the newest base (what the last update installed) and its first layer; null with one base only',
  ),
  lastUpdateRecord: described(
    z.nullable(UpdateRecordSchema),
    'the record the update that made the running layer left in it (/var/lib/imgbased/last-update.json); null when there is none or it cannot be read',
  ),
  pool: z.object({
    name: z.string(),
    sizeBytes: z.int(),
    freeBytes: z.int(),
    dataPercent: z.number(),
    metadataPercent: z.number(),
  }),
  health: HealthSchema,
  warnings: described(z.array(z.string()), 'the findings of imgbase check that are not ok'),
});
export type Status = z.infer<typeof StatusSchema>;

export const MotdSchema = z.object({
  dryRun: z.boolean(),
  health: HealthSchema,
  line: described(z.string(), 'the status line for /etc/motd.d/'),
  file: described(z.nullable(z.string()), 'the file written (motd --update); null when only shown'),
  changed: described(z.boolean(), 'the file’s content changed'),
});
export type Motd = z.infer<typeof MotdSchema>;

export const SeparateVolumeStateSchema = z.object({
  name: described(z.string(), 'the logical volume: /var/log/audit is var_log_audit'),
  path: described(z.string(), '/dev/VG/LV'),
  mountPoint: z.string(),
  sizeBytes: z.int(),
  dataPercent: z.nullable(z.number()),
  unit: described(z.string(), 'the systemd mount unit that mounts it'),
  mountedAt: described(z.array(z.string()), 'where it is mounted now'),
  attached: described(
    z.nullable(z.boolean()),
    'its mount unit is in the running layer; null when the host runs from no layer',
  ),
});
export type SeparateVolumeState = z.infer<typeof SeparateVolumeStateSchema>;

export const VolumeListSchema = z.object({ volumes: z.array(SeparateVolumeStateSchema) });
export type VolumeList = z.infer<typeof VolumeListSchema>;

export const VolumeChangeResultSchema = z.extend(ChangeResultSchema, {
  action: z.enum(['create', 'remove', 'attach', 'detach']),
  path: z.string(),
  volume: z.string(),
  unit: z.string(),
  layer: described(z.string(), 'the layer whose /etc/systemd/system holds (or held) the mount unit'),
  movedIn: described(z.array(z.string()), 'create: the names at PATH moved into the volume'),
  mountedNow: described(z.boolean(), 'mounted (or unmounted) at PATH on the running system too'),
});
export type VolumeChangeResult = z.infer<typeof VolumeChangeResultSchema>;

export const RecoveryStepSchema = z.object({
  kind: described(
    z.string(),
    'unmount, remove-boot-entries, set-default, point-one-shot, remove-boot-files, remove-volume, undo-init, add-boot-entry, remove-stale-lock',
  ),
  targets: z.array(z.string()),
  message: z.string(),
});

export const RecoveryListSchema = z.object({ steps: z.array(RecoveryStepSchema) });
export type RecoveryList = z.infer<typeof RecoveryListSchema>;

export const RecoverResultSchema = z.object({
  dryRun: z.boolean(),
  steps: described(z.array(RecoveryStepSchema), 'what was repaired (in a dry run: what would be)'),
  recovered: described(z.array(z.string()), 'volumes removed'),
  addedEntries: described(z.array(z.string()), 'layers that got their missing boot entry'),
});
export type RecoverResult = z.infer<typeof RecoverResultSchema>;

export const LayerMountSchema = z.object({
  dryRun: z.boolean(),
  layer: z.string(),
  directories: described(z.array(z.string()), 'mount: where it is mounted; umount: where it was unmounted from'),
  readOnly: z.boolean(),
});
export type LayerMount = z.infer<typeof LayerMountSchema>;

export const TreeChangeKindSchema = z.enum(['type', 'content', 'mode', 'owner', 'xattrs', 'link-target', 'device']);
export type TreeChangeKind = z.infer<typeof TreeChangeKindSchema>;

export const LayerDiffSchema = z.object({
  a: z.string(),
  b: described(z.string(), 'compared with a: added means in b only'),
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(
    z.object({
      path: z.string(),
      changes: z.array(TreeChangeKindSchema),
      diff: described(z.optional(z.string()), '--content: the unified diff of a text file'),
    }),
  ),
});
export type LayerDiff = z.infer<typeof LayerDiffSchema>;
