// Public API of the real-kernel test harness (see test-e2e/README.md).
export { ensureVmAssets, GUEST_MODULES, type VmAssets } from './assets.ts';
export * from './boot.ts';
export {
  type BaseImageOptions,
  buildBaseImage,
  buildThinpHostDisk,
  HOST_OS_RELEASE,
  readFileFromExt4Image,
  splitNvr,
  type ThinpHostFixture,
} from './fixtures.ts';
export {
  buildOriginalHostDisk,
  INSTALL_POOL_PROFILE,
  ORIGINAL_FIRST_BASE,
  ORIGINAL_KERNEL,
  ORIGINAL_POOL_PROFILE,
  ORIGINAL_SECOND_BASE,
  ORIGINAL_VG,
  ORIGINAL_VOLUMES,
  originalEntryFile,
} from './original-host.ts';
export { cacheDir, e2eDir, makeScratchDir, repoRoot, workDir } from './paths.ts';
export {
  DEFAULT_TIMEOUT_MS,
  runInVm,
  VM_NAME_PREFIX,
  type VmDisk,
  VmError,
  type VmRunOptions,
  type VmRunResult,
} from './vm.ts';
