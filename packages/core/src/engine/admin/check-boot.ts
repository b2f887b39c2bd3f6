import type { OperationContext } from '../../events.js';
import type { Finding } from '../../layout/admin-schema.js';
import { allLayers } from '../../layout/layout.js';
import { committedLayerNames, type HostState } from './host-state.js';
import type { AdminParts } from './parts.js';

type Found = Omit<Finding, 'group'>;

const ok = (check: string, message: string, targets: string[] = []): Found => ({
  check,
  status: 'ok',
  message,
  targets,
});

/**
 * The bootloader group of `imgbase check`: every layer has exactly one entry, no entry boots a volume
 * that is not there, the default is an entry, and the kernels and initrds the entries name exist.
 */
export async function checkBoot(parts: AdminParts, state: HostState, context: OperationContext): Promise<Found[]> {
  if (!state.bootloader) {
    return [
      { check: 'bootloader', status: 'warn', message: 'No bootloader found: layers get no boot entries', targets: [] },
    ];
  }
  if (!state.boot) {
    const message = `The ${state.bootloader.name} configuration cannot be read: ${state.bootError ?? 'unknown error'}`;
    return [{ check: 'boot-config', status: 'fail', message, targets: [] }];
  }
  const { entries, defaultId } = state.boot;
  const findings: Found[] = [];
  const layers = allLayers(state.layout).map((l) => l.name);
  const missing = layers.filter((layer) => !entries.some((e) => e.layer === layer));
  const doubled = layers.filter((layer) => entries.filter((e) => e.layer === layer).length > 1);
  if (missing.length > 0)
    findings.push({
      check: 'entry-per-layer',
      status: 'fail',
      message: `No boot entry for ${missing.join(', ')} ('imgbase recover --yes' adds one)`,
      targets: missing,
    });
  if (doubled.length > 0)
    findings.push({
      check: 'entry-per-layer',
      status: 'warn',
      message: `More than one boot entry for ${doubled.join(', ')}`,
      targets: doubled,
    });
  if (missing.length === 0 && doubled.length === 0)
    findings.push(ok('entry-per-layer', `Every layer has one ${state.bootloader.name} entry`));

  const committed = committedLayerNames(state.layout);
  const stray = entries.filter((e) => e.layer !== undefined && !committed.has(e.layer));
  findings.push(
    stray.length > 0
      ? {
          check: 'entry-volumes',
          status: 'fail',
          message: `Boot entries of volumes that are not there: ${stray.map((e) => `${e.id} (${e.layer})`).join(', ')}`,
          targets: stray.map((e) => e.id),
        }
      : ok('entry-volumes', 'Every entry boots a layer that is there'),
  );

  const defaultEntry = entries.find((e) => e.id === defaultId);
  if (defaultId === undefined)
    findings.push({
      check: 'default-entry',
      status: 'warn',
      message: `No default entry is set: ${state.bootloader.name} picks one`,
      targets: [],
    });
  else if (!defaultEntry)
    findings.push({
      check: 'default-entry',
      status: 'fail',
      message: `The default ${defaultId} names no entry`,
      targets: [defaultId],
    });
  else findings.push(ok('default-entry', `The default is ${defaultEntry.layer ?? defaultEntry.id}`, [defaultId]));

  findings.push(await checkBootFiles(parts, state, context));
  return findings;
}

/** The kernels and initrds imgbased's entries name are on the boot partition. */
async function checkBootFiles(parts: AdminParts, state: HostState, context: OperationContext): Promise<Found> {
  const own = await state.bootloader!.ownFiles?.(context);
  if (!own)
    return {
      check: 'boot-files',
      status: 'skip',
      message: 'The bootloader does not say where its files are',
      targets: [],
    };
  const absent: string[] = [];
  const listings = new Map<string, Promise<string[]>>();
  const exists = async (file: string) => {
    const at = file.lastIndexOf('/');
    const dir = `${own.root}${file.slice(0, at)}`;
    if (!listings.has(dir)) listings.set(dir, parts.host.listDirectory(dir, context));
    return (await listings.get(dir)!).includes(file.slice(at + 1));
  };
  for (const entry of state.boot!.entries.filter((e) => e.layer !== undefined)) {
    for (const file of [entry.kernel, entry.initrd]) {
      if (file !== undefined && !(await exists(file))) absent.push(`${own.root}${file} (${entry.id})`);
    }
  }
  return absent.length > 0
    ? { check: 'boot-files', status: 'fail', message: `Missing boot files: ${absent.join(', ')}`, targets: absent }
    : ok('boot-files', 'The kernels and initrds of the entries are there');
}
