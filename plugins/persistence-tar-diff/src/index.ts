/**
 * @packageDocumentation
 * imgbased persistence plugin `tar-diff`: a three-way carry-over of the admin's changes, streamed from
 * the old layer into the new one (GNU tar, through the CommandRunner), recorded as a manifest with
 * digests and deletion markers; the tar delta is exported from it on demand. The default export is the
 * plugin's definition.
 */
import { tarDiffPlugin } from './definition.js';

export { TarDiffSettings, tarDiffPlugin } from './definition.js';
export { DEFAULT_DELTA_DIRECTORY, DELTA_MANIFEST } from './delta.js';
export type { EntryState, Manifest, ManifestEntry, Outcome } from './manifest.js';
export { MANIFEST_FORMAT } from './manifest.js';
export { type TarDiffOptions, TarDiffPersistence } from './tar-diff-persistence.js';
export default tarDiffPlugin;
