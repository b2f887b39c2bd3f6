export { AdminEngine } from './admin-engine.js';
export { CHECK_EXIT_CODES, healthOf } from './check.js';
export type { DiffRequest } from './layer-diff.js';
export { LAYER_MOUNT_DIR } from './layer-mounts.js';
export { MOTD_FILE, motdLine } from './motd.js';
export { DEFAULT_CHECK_SETTINGS } from './parts.js';
export { compareTrees } from './tree-compare.js';
export { checkVolumePath, mountUnitName, mountUnitText, volumeName } from './volume-paths.js';
