import { ExtlinuxBootloader } from '@imgbased/bootloader-extlinux';
import { GrubBlsBootloader } from '@imgbased/bootloader-grub-bls';
import { SystemdBootBootloader } from '@imgbased/bootloader-systemd-boot';
import {
  Bootloader,
  BootloaderSelection,
  CommandRunner,
  ConfiguredBootloaders,
  FilesystemDriver,
  HostInfo,
  ImageEngine,
  ImgbasedConfig,
  OperationLock,
  VolumeManager,
} from '@imgbased/core';
import { Ext4Driver } from '@imgbased/fs-ext4';
import { LvmThinVolumeManager } from '@imgbased/lvm-thin';
import { ExecaCommandRunner, FindmntHostInfo, LockDirectory, loadConfig, PidFileLock } from '@imgbased/system';
import {
  type ClassProvider,
  type DependencyContainer,
  instanceCachingFactory,
  Lifecycle,
  container as rootContainer,
} from 'tsyringe';
import type { EngineOptions } from './cli.js';

/**
 * The bootloader plugins this CLI offers, in the order `[bootloader] plugins = auto` probes them
 * (OSTree's order: syslinux first, then grub; systemd-boot only where its loader.conf is). A packager
 * ships fewer by dropping them here and from package.json; the configuration picks among these.
 */
const BOOTLOADER_PLUGINS: readonly ClassProvider<Bootloader>['useClass'][] = [
  ExtlinuxBootloader,
  GrubBlsBootloader,
  SystemdBootBootloader,
];

/**
 * The CLI's composition root: the only place that knows which implementation stands behind each
 * contract. The daemon has its own, built from the same packages. One container serves real and dry
 * runs: a dry run is a property of each operation's context, not of the container.
 */
export async function buildContainer(_options: EngineOptions): Promise<DependencyContainer> {
  const config = await loadConfig();
  const container = rootContainer.createChildContainer();
  const singleton = { lifecycle: Lifecycle.ContainerScoped };
  container.register(ImgbasedConfig, { useValue: config });
  container.register(LockDirectory, { useValue: config.core.lock_dir });
  container.register(CommandRunner, { useClass: ExecaCommandRunner }, singleton);
  container.register(VolumeManager, { useClass: LvmThinVolumeManager }, singleton);
  container.register(FilesystemDriver, { useClass: Ext4Driver }, singleton);
  container.register(HostInfo, { useClass: FindmntHostInfo }, singleton);
  container.register(OperationLock, { useClass: PidFileLock }, singleton);
  for (const plugin of BOOTLOADER_PLUGINS) container.register<Bootloader>(Bootloader, { useClass: plugin }, singleton);
  container.register(BootloaderSelection, {
    useFactory: instanceCachingFactory(
      (c) => new ConfiguredBootloaders(c.resolveAll<Bootloader>(Bootloader), config.bootloader.plugins),
    ),
  });
  container.register(ImageEngine, { useClass: ImageEngine }, singleton);
  return container;
}

export async function createEngine(options: EngineOptions): Promise<ImageEngine> {
  return (await buildContainer(options)).resolve(ImageEngine);
}
