import * as z from 'zod/mini';
import type { BootFileOps } from '../contracts/bootloader-plugin.js';
import { BootConfigInvalidError } from '../errors/index.js';
import { replaceFileDurably } from './files.js';
import { EMPTY_TRIAL_RECORD, type LayerVerdict, type TrialRecord } from './trial-protocol.js';

/** Where the record lives below the boot partition's root: every layer and early boot can read it. */
export const TRIAL_RECORD_PATH = 'imgbased/trial.json';

const verdictSchema = z.strictObject({
  state: z.enum(['good', 'failed']),
  at: z.string(),
  reason: z.optional(z.string()),
});

const recordSchema = z.strictObject({
  version: z.literal(1),
  trial: z.optional(
    z.strictObject({
      layer: z.string().check(z.minLength(1)),
      good: z.string().check(z.minLength(1)),
      tries: z.int().check(z.minimum(1), z.maximum(9)),
      attempts: z.int().check(z.minimum(0)),
      started: z.string(),
    }),
  ),
  layers: z.record(z.string(), verdictSchema),
});

export function trialRecordPath(bootRoot: string): string {
  return `${bootRoot.replace(/\/+$/, '')}/${TRIAL_RECORD_PATH}`;
}

/** Parses trial.json; a file that is not a record is E_BOOT_CONFIG_INVALID naming it (nothing changes). */
export function parseTrialRecord(text: string, file: string): TrialRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BootConfigInvalidError(file, `not JSON (${(error as Error).message})`);
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BootConfigInvalidError(file, `${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}`);
  }
  const layers: Record<string, LayerVerdict> = {};
  for (const [layer, verdict] of Object.entries(parsed.data.layers)) {
    layers[layer] = verdict.reason === undefined ? { state: verdict.state, at: verdict.at } : { ...verdict };
  }
  return { trial: parsed.data.trial, layers };
}

/** Stable text: keys in a fixed order, layers sorted, so an unchanged record is never rewritten. */
export function serializeTrialRecord(record: TrialRecord): string {
  const layers = Object.fromEntries(
    Object.keys(record.layers)
      .sort()
      .map((name) => [name, record.layers[name]]),
  );
  const json = record.trial === undefined ? { version: 1, layers } : { version: 1, trial: record.trial, layers };
  return `${JSON.stringify(json, null, 2)}\n`;
}

export async function readTrialRecord(ops: BootFileOps, bootRoot: string): Promise<TrialRecord> {
  const path = trialRecordPath(bootRoot);
  const text = await ops.read(path);
  return text === undefined ? EMPTY_TRIAL_RECORD : parseTrialRecord(text, path);
}

/** Writes the record durably (new file, fsync, rename, fsync of the directory), only when it changed. */
export async function writeTrialRecord(ops: BootFileOps, bootRoot: string, record: TrialRecord): Promise<boolean> {
  const path = trialRecordPath(bootRoot);
  const text = serializeTrialRecord(record);
  if ((await ops.read(path)) === text) return false;
  await ops.mkdir(path.slice(0, path.lastIndexOf('/')));
  await replaceFileDurably(ops, path, text);
  return true;
}

/** A layer's boot state as `layout --json` and `boot --list` show it. */
export type LayerBootState =
  | { readonly state: 'trial'; readonly attemptsLeft: number; readonly since: string }
  | { readonly state: 'good'; readonly at: string }
  | { readonly state: 'failed'; readonly at: string; readonly reason: string }
  | { readonly state: 'unknown' };

/** `armedLeft`: the boots the bootloader still gives the trial (extlinux: tries minus arms used). */
export function layerBootState(record: TrialRecord, layer: string, armedLeft?: number): LayerBootState {
  const trial = record.trial;
  if (trial?.layer === layer) {
    const left = armedLeft ?? Math.max(0, trial.tries - trial.attempts);
    return { state: 'trial', attemptsLeft: left, since: trial.started };
  }
  const verdict = record.layers[layer];
  if (verdict === undefined) return { state: 'unknown' };
  return verdict.state === 'good'
    ? { state: 'good', at: verdict.at }
    : { state: 'failed', at: verdict.at, reason: verdict.reason ?? 'no reason recorded' };
}

/** The same, as the verbs' results show it (JSON: nulls, not absent keys); null when nothing is recorded. */
export function layerBootStateView(
  record: TrialRecord,
  layer: string,
  armedLeft?: number,
): { state: 'trial' | 'good' | 'failed'; at: string; attemptsLeft: number | null; reason: string | null } | null {
  const view = layerBootState(record, layer, armedLeft);
  if (view.state === 'trial') return { state: 'trial', at: view.since, attemptsLeft: view.attemptsLeft, reason: null };
  if (view.state === 'good') return { state: 'good', at: view.at, attemptsLeft: null, reason: null };
  if (view.state === 'failed') return { state: 'failed', at: view.at, attemptsLeft: null, reason: view.reason };
  return null;
}
