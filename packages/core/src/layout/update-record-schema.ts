// The record an update leaves in its new layer, which `imgbase status` shows (issue 13).
import * as z from 'zod/mini';

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description));

/** Where the record lives inside a layer; on the running host, the same path from /. */
export const LAST_UPDATE_RECORD_PATH = '/var/lib/imgbased/last-update.json';

export const CarryOverSummarySchema = z.object({
  plugin: z.string(),
  copied: z.int(),
  merged: z.int(),
  keptFromNewBase: z.int(),
  deleted: z.int(),
  conflicts: z.int(),
});
export type CarryOverSummary = z.infer<typeof CarryOverSummarySchema>;

export const UpdateRecordSchema = z.object({
  time: described(z.string(), 'when the update ran (ISO 8601, UTC)'),
  image: z.object({
    given: described(z.string(), 'the image as given to imgbase update (a path or URL)'),
    format: z.string(),
    sha256: described(z.nullable(z.string()), 'the verified SHA-256; null when it was not verified'),
  }),
  base: described(z.string(), 'the base the update installed'),
  layer: described(z.string(), 'its first layer, which holds this record'),
  from: described(z.string(), 'the layer whose state was carried over'),
  carryOver: described(z.array(CarryOverSummarySchema), 'one summary per persistence plugin, in the order they ran'),
  gcRemoved: described(z.array(z.string()), 'the bases garbage collection removed'),
});
export type UpdateRecord = z.infer<typeof UpdateRecordSchema>;
