import { definePersistencePlugin, PLUGIN_CONTRACT_VERSIONS } from '@imgbased/core';
// zod/mini implements Standard Schema: core validates the section with it, not knowing zod.
import * as z from 'zod/mini';
import { DEFAULT_DELTA_DIRECTORY } from './delta.js';
import { TarDiffPersistence } from './tar-diff-persistence.js';

/** A list from INI: `/etc /root` or `/etc, /root` (or a list already). */
const listText = z.pipe(
  z.union([z.array(z.string()), z.string()]),
  z.transform((value) => (Array.isArray(value) ? value : value.split(/[\s,]+/).filter(Boolean))),
);
/** An absolute path inside the trees, without `..` (excludes may hold `*` and `**`). */
const treePath = z.string().check(
  z.startsWith('/', 'must be an absolute path'),
  z.refine((path) => !path.split('/').includes('..'), "must not contain '..'"),
);

/** `[persistence.tar-diff]`: what is carried, what is left alone, where the record is kept. */
export const TarDiffSettings = z.strictObject({
  paths: z._default(z.pipe(listText, z.array(treePath)), ['/etc', '/root']),
  excludes: z._default(z.pipe(listText, z.array(treePath)), []),
  /** Directory inside the new layer for the manifest (when the caller names no path) and staging. */
  delta_dir: z._default(treePath, DEFAULT_DELTA_DIRECTORY),
});
export type TarDiffSettings = z.output<typeof TarDiffSettings>;

/** The `tar-diff` persistence plugin: the default one (`[persistence] plugins = tar-diff`). */
export const tarDiffPlugin = definePersistencePlugin<TarDiffSettings>({
  name: 'tar-diff',
  contractVersion: PLUGIN_CONTRACT_VERSIONS.persistence,
  probeOrder: 10,
  description: 'three-way carry-over of the admin changes with GNU tar, recorded as a manifest',
  settings: TarDiffSettings,
  create: ({ runner, settings }) => ({
    persistence: new TarDiffPersistence(runner, { deltaDirectory: settings.delta_dir }),
    policy: { paths: settings.paths, excludes: settings.excludes },
  }),
});
