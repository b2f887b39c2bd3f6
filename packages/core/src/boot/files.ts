import type { BootEntry, DesiredBootEntry, OwnBootFiles } from '../contracts/bootloader.js';
import type { BootFileOps, BootFiles, BootLocation } from '../contracts/bootloader-plugin.js';
import { BootLastEntryError, BootWriteError, ImgbasedError } from '../errors/index.js';
import { parseLayerName } from '../naming/nvr.js';
import { baseName, desiredEntryId, entryFilePaths, entrySources, layerBootDir } from './entries.js';

/** The suffix of every file or directory imgbased writes before renaming it into place. */
const STAGING_SUFFIX = '.imgbased-new';

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Write new, fsync, rename over, fsync the directory. */

export async function replaceFileDurably(ops: BootFileOps, path: string, data: string): Promise<void> {
  const directory = dirOf(path);
  const temporary = `${directory}/.${baseName(path)}${STAGING_SUFFIX}`;
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
  const live = namedDirectories(root, installed);
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
    if (live.has(directory) && (await ops.exists(directory))) {
      // An installed entry boots from this directory: never remove it; put the files in one by one,
      // each atomically (files no entry names any more go when the layer's directory goes).
      for (const [from, to] of missing) {
        const temporary = `${directory}/.${baseName(to)}${STAGING_SUFFIX}`;
        await ops.remove(temporary);
        await ops.copyNew(from, temporary);
        await ops.rename(temporary, `${root}${to}`);
      }
      await ops.syncDirectory(directory);
      continue;
    }
    const staging = `${root}/.${entry.layer}${STAGING_SUFFIX}`;
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
    if (isStaging(name)) {
      await ops.remove(`${root}/${name}`);
      removed = true;
    }
  }
  if (removed) await ops.syncDirectory(root);
}

/** The `/<layer>/` directories (absolute, under `root`) whose files some of `entries` boot. */
export function namedDirectories(root: string, entries: readonly BootEntry[]): Set<string> {
  const named = new Set<string>();
  for (const entry of entries) {
    for (const file of [entry.kernel, entry.initrd]) {
      const second = file?.indexOf('/', 1) ?? -1;
      if (file !== undefined && second > 0) named.add(`${root}${file.slice(0, second)}`);
    }
  }
  return named;
}

function isStaging(name: string): boolean {
  return name.startsWith('.') && name.endsWith(STAGING_SUFFIX);
}

async function listOrNothing(ops: BootFileOps, directory: string): Promise<string[]> {
  return ops.list(directory).catch(() => []);
}

/**
 * imgbased's files on the boot partition: the directories at its root named like layers, and staging
 * leftovers there and beside the configuration (a write killed before its rename).
 */
export async function listOwnFiles(ops: BootFileOps, location: BootLocation): Promise<OwnBootFiles> {
  const root = location.root.replace(/\/+$/, '');
  const names = await listOrNothing(ops, root || '/');
  const layerDirs = names.filter((n) => {
    try {
      parseLayerName(n);
      return true;
    } catch {
      return false;
    }
  });
  const leftovers = names.filter(isStaging).map((n) => `${root}/${n}`);
  const configDirs = new Set([dirOf(location.config), location.config]);
  configDirs.delete(root || '/');
  for (const directory of configDirs) {
    for (const name of (await listOrNothing(ops, directory)).filter(isStaging)) leftovers.push(`${directory}/${name}`);
  }
  return { root, layerDirs, leftovers };
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
  const ids = desired.map((e) => desiredEntryId(e, installed));
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

/** The file operations a plugin is handed: the primitives plus the two crash-safe steps. */
export function bootFiles(ops: BootFileOps): BootFiles {
  return {
    ...bindAll(ops),
    replace: (path, data) => replaceFileDurably(ops, path, data),
    removeDurably: (path) => removeFileDurably(ops, path),
  };
}

function bindAll(ops: BootFileOps): BootFileOps {
  const resolve = ops.resolve;
  return {
    read: (p) => ops.read(p),
    list: (d) => ops.list(d),
    exists: (p) => ops.exists(p),
    writeNew: (p, d) => ops.writeNew(p, d),
    copyNew: (f, t) => ops.copyNew(f, t),
    mkdir: (d) => ops.mkdir(d),
    rename: (f, t) => ops.rename(f, t),
    syncDirectory: (d) => ops.syncDirectory(d),
    remove: (p) => ops.remove(p),
    ...(resolve === undefined ? {} : { resolve: (p: string) => resolve.call(ops, p) }),
  };
}
