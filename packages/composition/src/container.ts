import {
  type BootFileOps,
  BootloaderSelection,
  CommandRunner,
  FilesystemDriver,
  HostFiles,
  HostInfo,
  HostMounts,
  HostPower,
  ImageEngine,
  ImageInstaller,
  ImageSource,
  ImgbasedConfig,
  OperationLock,
  PersistenceSelection,
  TreeReader,
  TrialChecker,
  VolumeManager,
} from '@imgbased/core';
import { Ext4Driver } from '@imgbased/fs-ext4';
import { OsImageInstaller, UrlOrFileImageSource } from '@imgbased/image';
import { LvmThinVolumeManager } from '@imgbased/lvm-thin';
import {
  ExecaCommandRunner,
  FindmntHostInfo,
  FindmntHostMounts,
  LockDirectory,
  loadConfig,
  NodeHostFiles,
  NodeTreeReader,
  nodeBootFileOps,
  PidFileLock,
  SystemdHostPower,
  SystemdTrialChecker,
} from '@imgbased/system';
import { type DependencyContainer, instanceCachingFactory, Lifecycle, container as rootContainer } from 'tsyringe';
import { AvailablePlugins, type OfferedPlugin } from './available-plugins.js';
import type { ModuleImporter } from './plugin-directory.js';
import { makeBootloaders, makePersistence } from './plugin-instances.js';
import { ConfiguredPersistenceSelection, OnFirstUseBootloaders, PerCallBootloaderSelection } from './selections.js';
import { SHIPPED_PLUGINS } from './shipped-plugins.js';

export interface CompositionOptions {
  /** The plugins this build offers; default: the shipped list. */
  readonly plugins?: readonly OfferedPlugin[] | undefined;
  /**
   * `eager` (default: the daemon, which reports a broken plugin when it starts) loads and makes every
   * plugin now; `on-first-use` (the CLI) when a verb first selects one of its kind, so that a listing
   * loads no plugin code at all. Section names of the configuration are checked now either way.
   */
  readonly pluginLoading?: 'eager' | 'on-first-use' | undefined;
  /** The configuration; default: read from the host's configuration files. */
  readonly config?: ImgbasedConfig | undefined;
  /**
   * `once` (the CLI: one run, one choice) or `per-call` (the daemon, which runs for months: a /boot
   * mounted or a bootloader installed after it started must count).
   */
  readonly bootloaderChoice?: 'once' | 'per-call' | undefined;
  /** File operations on /boot and the ESP; default Node's fs (tests put a fault-injecting one here). */
  readonly bootFileOps?: BootFileOps | undefined;
  /** How modules of the plugin directory are imported (tests of broken modules). */
  readonly importer?: ModuleImporter | undefined;
  /** Wraps the operation lock the engine takes (the daemon counts its uses to know when a change happened). */
  readonly wrapLock?: ((lock: OperationLock) => OperationLock) | undefined;
}

/**
 * imgbased's one composition root, used by the CLI and the daemon alike: the only place that knows
 * which implementation stands behind each contract. Real runs and dry runs share it (a dry run is a
 * property of the operation's context).
 */
export async function buildContainer(options: CompositionOptions = {}): Promise<DependencyContainer> {
  const config = options.config ?? (await loadConfig());
  const container = rootContainer.createChildContainer();
  const singleton = { lifecycle: Lifecycle.ContainerScoped };
  container.register(ImgbasedConfig, { useValue: config });
  container.register(LockDirectory, { useValue: config.core.lock_dir });
  container.register(CommandRunner, { useClass: ExecaCommandRunner }, singleton);
  container.register(VolumeManager, { useClass: LvmThinVolumeManager }, singleton);
  container.register(FilesystemDriver, { useClass: Ext4Driver }, singleton);
  container.register(HostInfo, { useClass: FindmntHostInfo }, singleton);
  const wrapLock = options.wrapLock;
  if (wrapLock === undefined) container.register(OperationLock, { useClass: PidFileLock }, singleton);
  else
    container.register(OperationLock, { useFactory: instanceCachingFactory((c) => wrapLock(c.resolve(PidFileLock))) });
  container.register(HostMounts, { useClass: FindmntHostMounts }, singleton);
  container.register(HostFiles, { useClass: NodeHostFiles }, singleton);
  container.register(TreeReader, { useClass: NodeTreeReader }, singleton);
  container.register(TrialChecker, { useClass: SystemdTrialChecker }, singleton);
  container.register(HostPower, { useClass: SystemdHostPower }, singleton);
  container.register(ImageSource, { useClass: UrlOrFileImageSource }, singleton);
  container.register(ImageInstaller, { useClass: OsImageInstaller }, singleton);

  const available = new AvailablePlugins(options.plugins ?? SHIPPED_PLUGINS, config, options.importer);
  available.checkSections();
  const pluginHost = {
    runner: container.resolve<CommandRunner>(CommandRunner),
    host: container.resolve<HostInfo>(HostInfo),
    bootFileOps: options.bootFileOps ?? nodeBootFileOps,
    config,
  };
  // Each kind's plugins are made once, when first needed (at once when loading is eager).
  let bootloaders: ReturnType<typeof makeBootloaders> | undefined;
  const offeredBootloaders = () =>
    (bootloaders ??= available.of('bootloader').then((d) => makeBootloaders(d, pluginHost)));
  let persistence: ReturnType<typeof makePersistence> | undefined;
  const offeredPersistence = () =>
    (persistence ??= available.of('persistence').then((d) => makePersistence(d, pluginHost)));
  if (options.pluginLoading !== 'on-first-use') {
    await offeredBootloaders();
    await offeredPersistence();
  }
  container.register<BootloaderSelection>(BootloaderSelection, {
    useValue:
      options.bootloaderChoice === 'per-call'
        ? new PerCallBootloaderSelection(offeredBootloaders, config.bootloader.plugins)
        : new OnFirstUseBootloaders(offeredBootloaders, config.bootloader.plugins),
  });
  container.register<PersistenceSelection>(PersistenceSelection, {
    useValue: new ConfiguredPersistenceSelection(offeredPersistence, config.persistence),
  });
  container.register(ImageEngine, { useClass: ImageEngine }, singleton);
  return container;
}

/** The engine, built by the composition root. */
export async function createEngine(options: CompositionOptions = {}): Promise<ImageEngine> {
  return (await buildContainer(options)).resolve(ImageEngine);
}
