import { lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type PluginDefinition, PluginInvalidError, type PluginKind } from '@imgbased/core';
import { checkPluginDefinition } from './plugin-module.js';

/** The file names a plugin may have in the plugin directory, tried in this order. */
const CANDIDATES = (name: string) => [`${name}.mjs`, `${name}.js`, `${name}/index.mjs`, `${name}/index.js`];

/** Imports a module by absolute path (an injection point for tests of broken modules). */
export type ModuleImporter = (file: string) => Promise<Record<string, unknown>>;
const importModule: ModuleImporter = (file) => import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;

/**
 * Loads the plugin `name` from the plugin directory: `NAME.mjs`, `NAME.js` or `NAME/index.{mjs,js}`, an
 * ES module whose default export is the definition. imgbased runs as root, so the module (and its
 * directory) must belong to root or to the user running imgbased and be writable by no one else: a
 * plugin anyone could edit would run their code as root.
 */
export async function loadPluginFromDirectory(
  directory: string,
  name: string,
  kind: PluginKind,
  importer: ModuleImporter = importModule,
): Promise<PluginDefinition> {
  let file: string | undefined;
  for (const candidate of CANDIDATES(name)) {
    const path = join(directory, candidate);
    if (await isFile(path)) {
      file = path;
      break;
    }
  }
  if (file === undefined) {
    throw new PluginInvalidError(
      name,
      `it is not shipped with imgbased and ${directory} has no ${name}.mjs, ${name}.js or ${name}/index.js`,
    );
  }
  await assertSafe(name, file, directory);
  let module: Record<string, unknown>;
  try {
    module = await importer(file);
  } catch (error) {
    throw new PluginInvalidError(
      name,
      `${file} failed to load: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  return checkPluginDefinition(module.default, { kind, name }, file);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The module, every directory between it and the plugin directory, and the plugin directory itself. */
async function assertSafe(name: string, file: string, pluginDirectory: string): Promise<void> {
  const me = process.getuid?.() ?? 0;
  const paths = [file];
  for (let dir = file.slice(0, file.lastIndexOf('/')) || '/'; ; dir = dir.slice(0, dir.lastIndexOf('/')) || '/') {
    paths.push(dir);
    if (dir === pluginDirectory.replace(/\/+$/, '') || dir === '/' || !dir.startsWith(pluginDirectory)) break;
  }
  for (const path of paths) {
    const info = await lstat(path);
    if (info.isSymbolicLink() && path === file) {
      throw new PluginInvalidError(name, `${file} is a symbolic link: install the module itself`);
    }
    if (info.uid !== 0 && info.uid !== me) {
      throw new PluginInvalidError(name, `${path} belongs to uid ${info.uid}: it must belong to root`);
    }
    if ((info.mode & 0o022) !== 0) {
      throw new PluginInvalidError(
        name,
        `${path} is writable by group or others (mode ${(info.mode & 0o777).toString(8)})`,
      );
    }
  }
}
