/**
 * @packageDocumentation
 * imgbased's host adapters: the command runner (execa), the host's mounts (findmnt), the operation
 * lock (a pid file), the configuration files, and the admin verbs' files and trees.
 */

export { type AccountMerge, planAccountMerges, writeAccountMerges } from './account-merge.js';
export { nodeBootFileOps } from './boot-file-ops.js';
export { decodePath, encodePath, isTextPath, nulList } from './byte-paths.js';
export { CONFIG_SEARCH_PATH, type LoadConfigOptions, loadConfig, loadConfigFiles } from './config-files.js';
export { ExecaCommandRunner } from './execa-command-runner.js';
export {
  commandStepName,
  FAILPOINT_GATE,
  type FailpointSettings,
  failpoint,
  failpointGateOpen,
  parseFailpointSettings,
} from './failpoint.js';
export { FindmntHostInfo, parseFindmnt } from './findmnt-host-info.js';
export { FindmntHostMounts, parseMountTable } from './findmnt-host-mounts.js';
export { NodeHostFiles } from './node-host-files.js';
export { NodeTreeReader, parseGetfattr } from './node-tree-reader.js';
export { LockDirectory, type LockHolder, PidFileLock } from './pid-file-lock.js';
export { assertRealParents, ensureDirectory, readRegular, writeInPlace } from './safe-fs.js';
export { SystemdHostPower, SystemdTrialChecker, TRIAL_CHECK_DIRECTORY } from './systemd-trial-checker.js';
