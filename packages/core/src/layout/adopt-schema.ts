// zod/mini, as the other result schemas: `layout --adopt`'s answer.
import * as z from 'zod/mini';
import { PlannedCommandSchema } from './schema.js';

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description));

export const AdoptStepSchema = z.object({
  volume: z.string(),
  kind: z.enum(['base', 'layer']),
  step: described(
    z.enum(['tag', 'protect']),
    'tag: its kind’s tag only; protect: read-only, activation skip, inactive',
  ),
  message: z.string(),
});
export type AdoptStep = z.infer<typeof AdoptStepSchema>;

export const AdoptResultSchema = z.object({
  dryRun: z.boolean(),
  steps: described(z.array(AdoptStepSchema), 'what was changed (in a dry run: what would be), in order'),
  skipped: described(z.array(z.string()), 'what was left as it is, and why'),
  plan: described(z.array(PlannedCommandSchema), 'in a dry run: the commands that would change the system'),
});
export type AdoptResult = z.infer<typeof AdoptResultSchema>;
