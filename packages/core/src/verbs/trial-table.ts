import * as z from 'zod/mini';
import type { OperationContext } from '../events.js';
import {
  type TrialChange,
  TrialChangeSchema,
  type TrialCheck,
  TrialCheckSchema,
  type TrialStatus,
  TrialStatusSchema,
} from '../layout/trial-schema.js';
import { LayerArg, NoArgs } from './args.js';
import { defineVerb, type VerbDefinition } from './verb.js';

/** The engine calls of the trial-boot verbs (ImageEngine has them). */
export interface TrialVerbEngine {
  trialStatus(context?: OperationContext): Promise<TrialStatus>;
  bootTrial(layer: string, context?: OperationContext): Promise<TrialChange>;
  markGood(layer: string | undefined, context?: OperationContext): Promise<TrialChange>;
  markBad(layer: string, reason: string | undefined, context?: OperationContext): Promise<TrialChange>;
  checkTrial(context?: OperationContext): Promise<TrialCheck>;
}

const layerText = z.string().check(z.minLength(1), z.maxLength(255));
export const MarkGoodArgs = z.strictObject({ layer: z.optional(layerText) });
export const MarkBadArgs = z.strictObject({
  layer: layerText,
  reason: z.optional(z.string().check(z.minLength(1), z.maxLength(1024), z.describe('recorded with the verdict'))),
});

/** Trial boots (docs/trial-boots.md): boot a layer on probation, mark it, and the check service's run. */
export const TRIAL_VERBS = {
  'boot --trial-status': defineVerb({
    kind: 'read',
    summary: 'The running trial and each layer’s boot state: trial (boots left), good, failed (reason, time)',
    args: NoArgs,
    result: TrialStatusSchema,
    http: { method: 'GET', path: '/v1/boot/trial' },
    run: (engine, _args, context) => engine.trialStatus(context),
  }),
  'boot --trial': defineVerb({
    kind: 'change',
    summary: 'Boot a layer as a trial: it becomes the default only once its checks pass',
    args: LayerArg,
    result: TrialChangeSchema,
    run: (engine, args, context) => engine.bootTrial(args.layer, context),
  }),
  'boot --mark-good': defineVerb({
    kind: 'change',
    summary: 'Mark the running trial good: it becomes the default',
    args: MarkGoodArgs,
    result: TrialChangeSchema,
    run: (engine, args, context) => engine.markGood(args.layer, context),
  }),
  'boot --mark-bad': defineVerb({
    kind: 'change',
    summary: 'Mark the running trial bad: the last good layer stays the default',
    args: MarkBadArgs,
    result: TrialChangeSchema,
    run: (engine, args, context) => engine.markBad(args.layer, args.reason, context),
  }),
  'boot --check-trial': defineVerb({
    kind: 'change',
    summary: 'Check this boot’s trial (imgbased-boot-check.service): mark it good or bad, reboot per on_failure',
    args: NoArgs,
    result: TrialCheckSchema,
    run: (engine, _args, context) => engine.checkTrial(context),
  }),
} as const satisfies Record<string, VerbDefinition>;
