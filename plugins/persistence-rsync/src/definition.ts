import { definePersistencePlugin, PLUGIN_CONTRACT_VERSIONS } from '@imgbased/core';
// zod/mini implements Standard Schema: core validates the section with it, not knowing zod.
import * as z from 'zod/mini';
import { RsyncPersistence } from './rsync-persistence.js';

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

/** `[persistence.rsync]`: what is carried and what is left alone. */
export const RsyncSettings = z.strictObject({
  paths: z._default(z.pipe(listText, z.array(treePath)), ['/etc', '/root']),
  excludes: z._default(z.pipe(listText, z.array(treePath)), []),
});
export type RsyncSettings = z.output<typeof RsyncSettings>;

/** The `rsync` persistence plugin (`[persistence] plugins = rsync`). */
export const rsyncPlugin = definePersistencePlugin<RsyncSettings>({
  name: 'rsync',
  contractVersion: PLUGIN_CONTRACT_VERSIONS.persistence,
  probeOrder: 20,
  description: 'three-way carry-over of the admin changes, found and copied with rsync',
  settings: RsyncSettings,
  create: ({ runner, settings }) => ({
    persistence: new RsyncPersistence(runner),
    policy: { paths: settings.paths, excludes: settings.excludes },
  }),
});
