import type { BootEntry, DesiredBootEntry } from '../contracts/bootloader.js';
import { BootLastEntryError, BootWriteError, ImgbasedError } from '../errors.js';
import { baseName, entryFilePaths, entryIdForLayer, entrySources, layerBootDir } from './entries.js';

/**
 * The crash-safe file steps every plugin takes, over primitive operations the plugin provides (Node's
 * fs in the plugins, a fault-injecting wrapper in the crash tests). Core stays free of I/O.
 *
 * Order, so that a crash at any step leaves a bootable configuration: (1) a new layer's kernel and
 * initrd are copied into a hidden staging directory, fsynced, and renamed to `/<layer>/` (nothing
 * names them yet); (2) each configuration file is written new, fsynced, renamed over the old one, and
 * its directory fsynced; (3) only then are the files of entries that left the set removed.
 */
export interface BootFileOps {
  /** The file's text, undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** Names in a directory, [] when it does not exist. */
  list(directory: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** Creates `path` (which must not exist) with `data` and fsyncs it. */
  writeNew(path: string, data: string): Promise<void>;
  /** Copies a file to `to` (which must not exist) and fsyncs it. */
  copyNew(from: string, to: string): Promise<void>;
  mkdir(directory: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  syncDirectory(directory: string): Promise<void>;
  /** Removes a file or a directory tree; nothing when it does not exist. */
  remove(path: string): Promise<void>;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Write new, fsync, rename over, fsync the directory. */
export async function replaceFileDurably(ops: BootFileOps, path: string, data: string): Promise<void> {
  const directory = dirOf(path);
  const temporary = `${directory}/.${baseName(path)}.imgbased-new`;
  await ops.remove(temporary);
  await ops.writeNew(temporary, data);
  await ops.rename(temporary, path);
  await ops.syncDirectory(directory);
}

/** Removes a file and fsyncs its directory. */
export async function removeFileDurably(ops: BootFileOps, path: string): Promise<void> {
  await ops.remove(path);
  await ops.syncDirectory(dirOf(path));
}

/**
 * Step (1): puts every desired entry's kernel and initrd at `/<layer>/` under `root`. Entries whose
 * files are already in place are left alone. Returns the layers whose directories were made.
 */
export async function installEntryFiles(
  ops: BootFileOps,
  root: string,
  desired: readonly DesiredBootEntry[],
  installed: readonly BootEntry[],
): Promise<string[]> {
  const made: string[] = [];
  const referenced = new Set(installed.flatMap((e) => [e.kernel, e.initrd]).filter((p) => p !== undefined));
  for (const entry of desired) {
    const paths = entryFilePaths(entry);
    const given = entrySources(entry);
    const sources = given.onBoot
      ? { kernel: `${root}${given.kernel}`, initrd: given.initrd === undefined ? undefined : `${root}${given.initrd}` }
      : given;
    const targets: [string, string][] = [[sources.kernel, paths.kernel]];
    if (sources.initrd !== undefined && paths.initrd !== undefined) targets.push([sources.initrd, paths.initrd]);
    const missing: [string, string][] = [];
    for (const [from, to] of targets) {
      if (from === `${root}${to}` && (await ops.exists(from))) continue;
      missing.push([from, to]);
    }
    if (missing.length === 0) continue;
    const directory = `${root}${layerBootDir(entry.layer)}`;
    if ((await ops.exists(directory)) && targets.some(([, to]) => referenced.has(to))) {
      // The directory serves an installed entry: replace its files one by one, each atomically.
      for (const [from, to] of missing) {
        const temporary = `${directory}/.${baseName(to)}.imgbased-new`;
        await ops.remove(temporary);
        await ops.copyNew(from, temporary);
        await ops.rename(temporary, `${root}${to}`);
      }
      await ops.syncDirectory(directory);
      continue;
    }
    const staging = `${root}/.${entry.layer}.imgbased-new`;
    await ops.remove(staging);
    await ops.mkdir(staging);
    for (const [from, to] of targets) await ops.copyNew(from, `${staging}/${baseName(to)}`);
    await ops.syncDirectory(staging);
    await ops.remove(directory); // a leftover no configuration names
    await ops.rename(staging, directory);
    await ops.syncDirectory(root);
    made.push(entry.layer);
  }
  return made;
}

/**
 * Step (3): removes the `/<layer>/` directories of imgbased's entries that left the set, and staging
 * leftovers. Never a directory no imgbased entry named.
 */
export async function pruneEntryFiles(
  ops: BootFileOps,
  root: string,
  before: readonly BootEntry[],
  desired: readonly DesiredBootEntry[],
): Promise<void> {
  const keep = new Set(desired.map((e) => e.layer));
  let removed = false;
  for (const entry of before) {
    if (entry.layer === undefined || keep.has(entry.layer)) continue;
    if (!entry.kernel.startsWith(`${layerBootDir(entry.layer)}/`)) continue;
    await ops.remove(`${root}${layerBootDir(entry.layer)}`);
    removed = true;
  }
  for (const name of await ops.list(root)) {
    if (name.startsWith('.') && name.endsWith('.imgbased-new')) {
      await ops.remove(`${root}/${name}`);
      removed = true;
    }
  }
  if (removed) await ops.syncDirectory(root);
}

/** The last bootable entry is never removed: an empty set with no foreign entry left is refused. */
export function assertNotLastEntry(installed: readonly BootEntry[], desired: readonly DesiredBootEntry[]): void {
  if (desired.length > 0 || installed.some((e) => e.layer === undefined)) return;
  const last = installed.findLast((e) => e.layer !== undefined);
  if (last?.layer !== undefined) throw new BootLastEntryError(last.layer);
}

/**
 * The default after a rewrite: kept when its entry stays (or is not imgbased's); otherwise the newest
 * desired entry (the last one), or none.
 */
export function defaultAfterRewrite(
  previous: string | undefined,
  installed: readonly BootEntry[],
  desired: readonly DesiredBootEntry[],
): string | undefined {
  const ids = desired.map((e) => entryIdForLayer(e.layer));
  if (previous !== undefined && ids.includes(previous)) return previous;
  const previousEntry = installed.find((e) => e.id === previous);
  if (previous !== undefined && (previousEntry === undefined ? false : previousEntry.layer === undefined))
    return previous;
  return ids.at(-1) ?? previous;
}

/** A failure of a file step as a typed error naming the path (errors that are typed already pass). */
export function asBootWriteError(error: unknown, path: string): ImgbasedError {
  if (error instanceof ImgbasedError) return error;
  const code = (error as { code?: unknown }).code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new BootWriteError(path, reason, { cause: error });
}
