/**
 * @packageDocumentation
 * imgbased persistence plugin `tar-diff`: a three-way carry-over of the admin's changes, packed as a
 * tar delta with deletion markers (GNU tar, through the CommandRunner).
 */
export { TarDiffPersistence } from './tar-diff-persistence.js';
