/**
 * @packageDocumentation
 * imgbased persistence plugin `tar-diff`: a three-way carry-over of the admin's changes, streamed from
 * the old layer into the new one (GNU tar, through the CommandRunner), recorded as a manifest with
 * digests and deletion markers; the tar delta is exported from it on demand.
 */
export type { EntryState, Manifest, ManifestEntry, Outcome } from './manifest.js';
export { MANIFEST_FORMAT } from './manifest.js';
export { DEFAULT_DELTA_DIRECTORY, DELTA_MANIFEST, TarDiffPersistence } from './tar-diff-persistence.js';
