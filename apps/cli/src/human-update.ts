import type { PinChange, RollbackResult, UpdateResult } from '@imgbased/core';
import { lines, type Outcome } from './human.js';
import { shellQuote } from './output.js';

const MiB = 1024 ** 2;
const mib = (bytes: number) => `${Math.ceil(bytes / MiB)} MiB`;
/** Paths listed per kind in the human report; `--json` has all of them. */
const LISTED = 8;

const WHY = { running: 'the running layer', newest: 'the newest layer', option: '--from' } as const;
const SPACE = { 'pool-data': 'data', 'pool-metadata': 'metadata', boot: 'free space' } as const;

function listed(label: string, paths: readonly string[]): string[] {
  if (paths.length === 0) return [];
  const shown = paths.slice(0, LISTED).join(', ');
  return [
    `    ${label} (${paths.length}): ${shown}${paths.length > LISTED ? `, … (${paths.length - LISTED} more)` : ''}`,
  ];
}

/** The carry-over, per plugin: what was copied, merged, kept from the new image, deleted, and the conflicts. */
function carryOver(result: UpdateResult): string[] {
  const out = [`State carried over from ${result.from.layer} (${WHY[result.from.why]}) into ${result.layer}:`];
  if (result.persistence.length === 0) out.push('  nothing: no persistence plugin is configured');
  for (const report of result.persistence) {
    if (result.dryRun) {
      out.push(`  ${report.plugin}: would run`);
      continue;
    }
    const counts = [
      `${report.copied.length} copied`,
      `${report.merged.length} merged`,
      `${report.keptFromNewBase.length} kept from the new image`,
      `${report.deleted.length} deleted`,
      `${report.conflicts.length} conflict${report.conflicts.length === 1 ? '' : 's'}`,
    ];
    out.push(`  ${report.plugin}: ${counts.join(', ')}`);
    out.push(...listed('copied', report.copied), ...listed('merged', report.merged));
    out.push(...listed('kept from the new image', report.keptFromNewBase), ...listed('deleted', report.deleted));
    for (const c of report.conflicts) {
      const kept = c.resolution === 'kept-admin' ? 'the admin’s version kept' : 'the new image’s version taken';
      out.push(`    conflict: ${c.path}: ${c.reason}; ${kept}${c.savedAs ? `, the other in ${c.savedAs}` : ''}`);
    }
  }
  return out;
}

/** `imgbase update`: what was installed, carried over, removed, and what boots next; or, in a dry run, the plan. */
export function updated(result: UpdateResult): Outcome {
  const out: string[] = [];
  for (const name of result.recovered) out.push(`Removed ${name}, left half-made by an interrupted operation`);
  const image = `${result.image.given} (${result.image.format}${result.image.sha256 ? ', SHA-256 verified' : ''})`;
  const nvr = `NVR ${result.base} from ${result.image.nvrFrom === 'option' ? '--nvr' : result.image.nvrFrom}`;
  if (result.dryRun) {
    out.push('Dry run: nothing was changed.');
    out.push(`Would install ${image} as base ${result.base} (${nvr}), first layer ${result.layer}`);
    out.push(...carryOver(result));
    out.push('Space:');
    for (const need of result.space.needs)
      out.push(`  ${need.where} ${SPACE[need.space]}: needs ${mib(need.neededBytes)}, ${mib(need.freeBytes)} free`);
    const grow = result.space.metadataExtension;
    if (grow) out.push(`  pool metadata grown from ${mib(grow.fromBytes)} to ${mib(grow.toBytes)} first`);
    out.push(`  new volume: ${mib(result.space.newVolumeBytes)} (virtual)`);
    const gone = result.space.gcFrees.map((g) => `${g.base} (frees up to ${mib(g.freesBytes)})`);
    out.push(
      `Garbage collection (keep ${result.gc.keep}) would remove: ${gone.length > 0 ? gone.join(', ') : 'nothing'}`,
    );
    out.push('These commands would run:');
    for (const command of result.plan) out.push(`  ${shellQuote(command.argv)}`);
    out.push(`${result.bootsNext ?? 'The current default'} would boot next${result.trial ? ' as a trial' : ''}`);
    return { data: result, human: lines(out) };
  }
  out.push(`Installed ${image} as base ${result.base} (${nvr}), first layer ${result.layer}`);
  out.push(...carryOver(result));
  for (const removed of result.gc.removed) {
    const layers = removed.layers.length > 0 ? ` with ${removed.layers.join(', ')}` : '';
    out.push(`Removed base ${removed.base}${layers} and their boot entries (keep ${result.gc.keep})`);
  }
  out.push(`Bases kept: ${result.gc.kept.join(', ')}`);
  if (result.bootsNext === result.layer && result.trial)
    out.push(`${result.layer} boots next as a trial: it becomes the default once its checks pass; reboot to use it`);
  else if (result.bootsNext === result.layer) out.push(`${result.layer} boots next: reboot to use it`);
  else
    out.push(`No boot entry was written for ${result.layer}; ${result.bootsNext ?? 'the current default'} boots next`);
  return { data: result, human: lines(out) };
}

/** `imgbase rollback`. */
export function rolledBack(result: RollbackResult): Outcome {
  const from = result.previous ? ` (instead of ${result.previous})` : '';
  const human = result.dryRun
    ? `Dry run: nothing was changed. ${result.layer} would boot next${from}\n`
    : `${result.layer} boots next${from}: reboot to use it${result.atomic ? '' : ' (not written atomically on this file system)'}\n`;
  return { data: result, human };
}

/** `imgbase base --pin/--unpin`. */
export function pinChanged(change: PinChange): Outcome {
  const state = change.pinned ? 'pinned: garbage collection keeps it' : 'not pinned: garbage collection may remove it';
  const human = change.dryRun
    ? `Dry run: nothing was changed. ${change.base} would be ${state}\n`
    : `${change.base} is ${change.changed ? 'now ' : 'already '}${state}\n`;
  return { data: change, human };
}
