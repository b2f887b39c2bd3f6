import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConfigFile, ConfigInvalidError, type ImgbasedConfig, resolveConfig } from '@imgbased/core';
import { parse } from 'ini';

/**
 * Where configuration is read from, in order (later files override earlier ones): each file, then
 * the `*.conf` files of its `.d` directory in byte order of their names.
 */
export const CONFIG_SEARCH_PATH = [
  { file: '/usr/lib/imgbased/imgbased.conf', directory: '/usr/lib/imgbased/imgbased.conf.d' },
  { file: '/etc/imgbased.conf', directory: '/etc/imgbased.conf.d' },
] as const;

export interface LoadConfigOptions {
  /** Prefix put before every path (for tests and for images mounted elsewhere); default: none, i.e. `/`. */
  readonly root?: string;
}

/** Reads every configuration file that exists, parsed but not yet validated. Missing files are skipped. */
export async function loadConfigFiles(options: LoadConfigOptions = {}): Promise<ConfigFile[]> {
  const root = options.root ?? '';
  const paths: string[] = [];
  for (const { file, directory } of CONFIG_SEARCH_PATH) {
    paths.push(join(root, file));
    const dir = join(root, directory);
    const names = await listDirectory(dir);
    for (const name of names.filter((n) => n.endsWith('.conf') && !n.startsWith('.')).sort(compareBytes)) {
      paths.push(join(dir, name));
    }
  }
  const files: ConfigFile[] = [];
  for (const path of paths) {
    const text = await readConfigText(path);
    if (text !== undefined) files.push({ path, sections: parse(text) });
  }
  return files;
}

/** Reads, validates and merges the configuration: the defaults where no file says otherwise. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ImgbasedConfig> {
  return resolveConfig(await loadConfigFiles(options));
}

async function readConfigText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ConfigInvalidError(path, '(file)', describe(error));
  }
}

async function listDirectory(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new ConfigInvalidError(dir, '(directory)', describe(error));
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read: permission denied';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot be read: ${error instanceof Error ? error.message : String(error)}`;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
