// The results of the trial-boot verbs (docs/trial-boots.md; see schema.ts for the rules).
import * as z from 'zod/mini';
import { BootStateSchema } from './schema.js';

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description));

export const LayerBootStateSchema = z.object({ layer: z.string(), ...BootStateSchema.shape });
export type LayerBootStateView = z.infer<typeof LayerBootStateSchema>;

export const TrialStatusSchema = z.object({
  bootloader: z.nullable(z.string()),
  protocol: described(
    z.nullable(z.enum(['grub-counter', 'sd-boot-counter', 'extlinux-once'])),
    'how the bootloader counts a trial’s boots; null when it has no trial boots',
  ),
  trial: z.nullable(
    z.object({
      layer: z.string(),
      good: described(z.string(), 'the last good layer: the default while the trial runs, kept by GC'),
      tries: z.int(),
      attemptsLeft: z.int(),
      started: z.string(),
    }),
  ),
  layers: described(z.array(LayerBootStateSchema), 'each layer’s recorded boot state'),
});
export type TrialStatus = z.infer<typeof TrialStatusSchema>;

export const TrialChangeSchema = z.object({
  dryRun: z.boolean(),
  bootloader: z.string(),
  layer: z.string(),
  state: z.enum(['trial', 'good', 'failed']),
  reason: z.nullable(z.string()),
});
export type TrialChange = z.infer<typeof TrialChangeSchema>;

export const TrialCheckSchema = z.object({
  layer: described(z.nullable(z.string()), 'the trial layer; null when no trial runs'),
  booted: z.string(),
  result: described(
    z.enum(['no-trial', 'waiting', 'good', 'failed', 'repaired']),
    'waiting: booted the good layer while the trial still has boots; repaired: finished writes a crash cut',
  ),
  reason: z.nullable(z.string()),
  reboot: described(z.boolean(), 'the host should reboot now (per [trial] on_failure)'),
  checks: described(
    z.array(z.object({ name: z.string(), required: z.boolean(), ok: z.boolean(), detail: z.nullable(z.string()) })),
    'the checks run in the trial layer, in order',
  ),
});
export type TrialCheck = z.infer<typeof TrialCheckSchema>;
