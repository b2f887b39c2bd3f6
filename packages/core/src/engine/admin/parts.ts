import type { ImgbasedConfig } from '../../config/config.js';
import type { BootloaderSelection } from '../../contracts/bootloader.js';
import type { FilesystemDriver } from '../../contracts/filesystem.js';
import type { HostInfo, OperationLock } from '../../contracts/host.js';
import type { HostFiles, HostMounts, TreeReader } from '../../contracts/host-admin.js';
import type { VolumeManager } from '../../contracts/volume-manager.js';
import { InternalError } from '../../errors/index.js';
import type { BootEntries } from '../boot-entries.js';
import type { ChangePath } from '../change-path.js';
import type { HostRecovery } from '../recovery.js';
import type { VolumeSteps } from '../volume-steps.js';

/** What the host administration verbs are made of: the engine's ports and parts, shared with the other verbs. */
export interface AdminParts {
  readonly volumes: VolumeManager;
  readonly filesystem: FilesystemDriver;
  readonly host: HostInfo;
  readonly lock: OperationLock;
  readonly bootloaders: BootloaderSelection | undefined;
  readonly check: ImgbasedConfig['check'];
  readonly mounts: HostMounts | undefined;
  readonly files: HostFiles | undefined;
  readonly trees: TreeReader | undefined;
  readonly recovery: HostRecovery;
  readonly path: ChangePath;
  readonly entries: BootEntries;
  readonly steps: VolumeSteps;
}

/** A port the verb cannot do without (the composition root registers all of them). */
export function required<T>(port: T | undefined, name: string): T {
  if (port === undefined) throw new InternalError(`${name} is not available in this build of imgbased`);
  return port;
}

/** The `[check]` settings' defaults, for engines built without a configuration (tests). */
export const DEFAULT_CHECK_SETTINGS: ImgbasedConfig['check'] = {
  pool_data_warn: 80,
  pool_data_fail: 95,
  pool_metadata_warn: 70,
  pool_metadata_fail: 90,
  separate_paths: [],
  autoextend: true,
};
