import type { OperationContext } from '../../events.js';
import type { Finding } from '../../layout/admin-schema.js';
import { Tags } from '../../layout/tags.js';
import { type HostState, mountIsVolume } from './host-state.js';
import type { AdminParts } from './parts.js';

type Found = Omit<Finding, 'group'>;

/** The mount point group of `imgbase check`: discard, separate volumes, fstab's root. */
export async function checkMounts(parts: AdminParts, state: HostState, context: OperationContext): Promise<Found[]> {
  const running = state.running;
  if (!running) {
    const message = `The host runs from ${state.root.source}, not from a layer: mount points are not judged`;
    return [{ check: 'running-layer', status: 'skip', message, targets: [] }];
  }
  if (!state.mounts)
    return [{ check: 'mounts', status: 'skip', message: 'The mount table cannot be read', targets: [] }];
  const findings: Found[] = [];
  const rootMount = state.mounts.findLast((m) => m.target === '/');
  const noDiscard = [
    ...(rootMount && !rootMount.options.includes('discard') ? ['/'] : []),
    ...state.mounts
      .filter((m) => separateVolumes(state).some((v) => mountIsVolume(m, v)) && !m.options.includes('discard'))
      .map((m) => m.target),
  ];
  findings.push(
    noDiscard.length > 0
      ? {
          check: 'discard',
          status: 'warn',
          message: `Mounted without discard (freed blocks stay taken in the thin pool): ${noDiscard.join(', ')}`,
          targets: noDiscard,
        }
      : {
          check: 'discard',
          status: 'ok',
          message: 'The layer and the separate volumes are mounted with discard',
          targets: [],
        },
  );
  for (const path of parts.check.separate_paths) {
    const mount = state.mounts.findLast((m) => m.target === path);
    const separate = mount !== undefined && mount.source !== rootMount?.source;
    findings.push({
      check: 'separate-path',
      status: separate ? 'ok' : 'warn',
      message: separate
        ? `${path} is separate (${mount!.source})`
        : `${path} is not a separate volume ('imgbase volume --create ${path} SIZE' makes one)`,
      targets: [path],
    });
  }
  findings.push(await checkFstab(parts, state, context));
  return findings;
}

/** fstab's `/` line names the running layer (by device path or by its file system's UUID or label). */
async function checkFstab(parts: AdminParts, state: HostState, context: OperationContext): Promise<Found> {
  const running = state.running!;
  const text = await parts.files?.readText('/etc/fstab', context);
  if (text === undefined) return { check: 'fstab-root', status: 'skip', message: 'No /etc/fstab to read', targets: [] };
  const spec = text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[1] === '/' && !fields[0]!.startsWith('#'))?.[0];
  if (spec === undefined) return { check: 'fstab-root', status: 'ok', message: 'fstab does not mount /', targets: [] };
  const vg = state.layout.vg;
  const mapper = `/dev/mapper/${vg.replaceAll('-', '--')}-${running.name.replaceAll('-', '--')}`;
  let matches = spec === running.path || spec === mapper;
  if (!matches && /^(UUID|LABEL)=/.test(spec)) {
    const info = await parts.filesystem.probe(running.path, context);
    const [key, value] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1).replace(/^"|"$/g, '')];
    matches = (key === 'UUID' ? info?.uuid : info?.label) === value;
  }
  return matches
    ? { check: 'fstab-root', status: 'ok', message: `fstab mounts ${running.name} at /`, targets: [spec] }
    : {
        check: 'fstab-root',
        status: 'warn',
        message: `fstab mounts ${spec} at /, but the host runs from ${running.name}`,
        targets: [spec],
      };
}

/** The storage group: the thin pool's data and metadata use, and its autoextension. */
export async function checkStorage(parts: AdminParts, state: HostState, context: OperationContext): Promise<Found[]> {
  const { pool, vg } = state.layout;
  const settings = parts.check;
  const level = (percent: number, warn: number, fail: number) =>
    percent >= fail ? 'fail' : percent >= warn ? 'warn' : 'ok';
  const findings: Found[] = [
    {
      check: 'pool-data',
      status: level(pool.dataPercent, settings.pool_data_warn, settings.pool_data_fail),
      message: `Thin pool ${vg}/${pool.name} data ${pool.dataPercent.toFixed(1)}% used (warn at ${settings.pool_data_warn}%, fail at ${settings.pool_data_fail}%)`,
      targets: [`${vg}/${pool.name}`],
    },
    {
      check: 'pool-metadata',
      status: level(pool.metadataPercent, settings.pool_metadata_warn, settings.pool_metadata_fail),
      message: `Thin pool ${vg}/${pool.name} metadata ${pool.metadataPercent.toFixed(1)}% used (warn at ${settings.pool_metadata_warn}%, fail at ${settings.pool_metadata_fail}%)`,
      targets: [`${vg}/${pool.name}`],
    },
  ];
  if (!settings.autoextend) return findings;
  const autoextend = await parts.volumes.poolAutoextend?.(context);
  if (autoextend === undefined)
    findings.push({ check: 'autoextend', status: 'skip', message: 'LVM’s autoextension cannot be read', targets: [] });
  else if (autoextend.threshold >= 100)
    findings.push({
      check: 'autoextend',
      status: 'warn',
      message:
        'LVM does not autoextend the thin pool (activation/thin_pool_autoextend_threshold is 100): a full pool stops every write',
      targets: [`${vg}/${pool.name}`],
    });
  else
    findings.push({
      check: 'autoextend',
      status: 'ok',
      message: `LVM grows the thin pool by ${autoextend.percent}% at ${autoextend.threshold}% use`,
      targets: [`${vg}/${pool.name}`],
    });
  return findings;
}

/** The separate volumes of the layout, with their device numbers. */
export function separateVolumes(state: HostState) {
  return state.report.volumes.filter((v) => v.vg === state.layout.vg && v.tags.includes(Tags.volume));
}
