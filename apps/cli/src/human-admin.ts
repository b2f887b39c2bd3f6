import type {
  CheckReport,
  LayerDiff,
  LayerMount,
  Motd,
  RecoverResult,
  RecoveryList,
  Status,
  VolumeChangeResult,
  VolumeList,
} from '@imgbased/core';
import { changed, lines, type Outcome } from './human.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const size = (bytes: number) => (bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.round(bytes / MiB)} MiB`);

/** `imgbase status`: the host at a glance, then check's warnings. */
export function statusShown(status: Status): Outcome {
  const boot = (ref: Status['defaultBoot']) => (ref === null ? '(none)' : (ref.layer ?? ref.entry));
  const out = [
    `Running:     ${status.running ?? `no layer (/ is ${status.rootSource})`}`,
    `Bootloader:  ${status.bootloader ?? '(none found)'}`,
    `Default:     ${boot(status.defaultBoot)}${status.nextBoot ? `   next boot only: ${boot(status.nextBoot)}` : ''}`,
    'Layers:',
    ...status.layers.map((l) => {
      const marks = [
        l.running ? 'running' : '',
        l.bootsByDefault ? 'default' : '',
        l.bootsNext ? 'next' : '',
        l.entries === 1 || status.bootloader === null ? '' : `${l.entries} boot entries`,
      ].filter(Boolean);
      return `  ${l.running ? '*' : ' '} ${l.name}${marks.length > 0 ? `  (${marks.join(', ')})` : ''}`;
    }),
    `Last update: ${status.lastUpdate ? `${status.lastUpdate.base} (first layer ${status.lastUpdate.layer ?? 'none'})` : '(none)'}`,
    ...updateRecordLines(status.lastUpdateRecord),
    `Thin pool:   ${status.pool.name}: data ${status.pool.dataPercent.toFixed(1)}%, metadata ${status.pool.metadataPercent.toFixed(1)}%, ${size(status.pool.freeBytes)} free of ${size(status.pool.sizeBytes)}`,
    `Health:      ${status.health}`,
    ...status.warnings.map((w) => `  ! ${w}`),
  ];
  return { data: status, human: lines(out) };
}

/** The running layer's update record: when, from which image, what was carried over and collected. */
function updateRecordLines(record: Status['lastUpdateRecord']): string[] {
  if (record === null) return [];
  const checksum = record.image.sha256 === null ? 'not verified' : `sha256 ${record.image.sha256}`;
  const carried = record.carryOver.map(
    (c) =>
      `${c.plugin}: ${c.copied} copied, ${c.merged} merged, ${c.keptFromNewBase} kept from the new base, ${c.deleted} deleted, ${c.conflicts} conflicts`,
  );
  return [
    `  made ${record.layer} at ${record.time} from ${record.image.given} (${record.image.format}, ${checksum})`,
    `  carried over from ${record.from}: ${carried.length > 0 ? carried.join('; ') : 'nothing (no persistence plugin)'}`,
    `  removed by GC: ${record.gcRemoved.length > 0 ? record.gcRemoved.join(', ') : 'none'}`,
  ];
}

const MARK = { ok: ' ok ', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;

/** `imgbase check`: one line per finding; exits 0 ok, 1 degraded, 2 failed. */
export function checkShown(report: CheckReport): Outcome {
  const out = report.findings.map((f) => `[${MARK[f.status]}] ${f.group.padEnd(10)} ${f.message}`);
  out.push(`imgbase check: ${report.health} (exit code ${report.exitCode})`);
  return { data: report, human: lines(out), exitCode: report.exitCode };
}

export function motdShown(motd: Motd): Outcome {
  const written =
    motd.file === null
      ? []
      : [
          motd.dryRun
            ? `Dry run: ${motd.file} would be written`
            : motd.changed
              ? `Written to ${motd.file}`
              : `${motd.file} is up to date`,
        ];
  return { data: motd, human: lines([motd.line, ...written]) };
}

export function volumesListed(list: VolumeList): Outcome {
  const out = list.volumes.map((v) => {
    const state = [
      v.mountedAt.length > 0 ? `mounted at ${v.mountedAt.join(', ')}` : 'not mounted',
      v.attached === null ? '' : v.attached ? `${v.unit} in the running layer` : `no ${v.unit} in the running layer`,
    ].filter(Boolean);
    return `${v.mountPoint}  ${v.name}  ${size(v.sizeBytes)}${v.dataPercent === null ? '' : ` (${v.dataPercent.toFixed(1)}% used)`}  ${state.join(', ')}`;
  });
  return { data: list, human: lines(out) };
}

export function volumeChanged(result: VolumeChangeResult): Outcome {
  if (result.dryRun) return { ...changed(result), data: result };
  const what = {
    create: `Created ${result.volume} for ${result.path}${result.movedIn.length > 0 ? ` (moved in: ${result.movedIn.join(', ')})` : ''}; ${result.unit} written into ${result.layer}`,
    remove: `Removed ${result.volume} (${result.path}) and its ${result.unit} from ${result.layer}`,
    attach: `${result.unit} written into ${result.layer}: ${result.path} is mounted from ${result.volume}`,
    detach: `${result.unit} taken out of ${result.layer}: ${result.path} is no longer mounted from ${result.volume} (kept)`,
  }[result.action];
  const now = result.mountedNow
    ? [`${result.action === 'detach' ? 'Unmounted' : 'Mounted'} ${result.path} now too`]
    : [];
  const recovered = result.recovered.map((n) => `Removed ${n}, left half-made by an interrupted operation`);
  return { data: result, human: lines([...recovered, what, ...now]) };
}

export function recoveryListed(list: RecoveryList): Outcome {
  if (list.steps.length === 0) return { data: list, human: 'Nothing to recover\n' };
  return { data: list, human: lines([...list.steps.map((s) => s.message), "Run 'imgbase recover --yes' to repair"]) };
}

export function recovered(result: RecoverResult): Outcome {
  if (result.steps.length === 0) return { data: result, human: 'Nothing to recover\n' };
  const head = result.dryRun ? 'Dry run: nothing was changed. Recovery would do:' : 'Recovered:';
  return { data: result, human: lines([head, ...result.steps.map((s) => `  ${s.message}`)]) };
}

export function layerMounted(result: LayerMount, mounting: boolean): Outcome {
  const dry = result.dryRun ? 'Dry run: nothing was changed. Would have ' : '';
  const verb = mounting ? `mounted ${result.layer} at` : `unmounted ${result.layer} from`;
  const text = `${dry}${verb} ${result.directories.join(', ')}${mounting ? (result.readOnly ? ' (read-only)' : ' (read-write)') : ''}`;
  return { data: result, human: `${text.charAt(0).toUpperCase()}${text.slice(1)}\n` };
}

/** `layer --diff`: `+` in B only, `-` in A only, `M` changed (what), then the unified diffs. */
export function layersDiffed(diff: LayerDiff): Outcome {
  const out = [
    ...diff.added.map((p) => `+ ${p}`),
    ...diff.removed.map((p) => `- ${p}`),
    ...diff.changed.map((c) => `M ${c.path} (${c.changes.join(', ')})`),
    ...diff.changed.flatMap((c) => (c.diff ? [c.diff.trimEnd()] : [])),
  ];
  return { data: diff, human: lines(out) };
}
