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
  type OperationContext,
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

/** The CLI's bootloader plugins, in the CLI's order (apps/cli/src/container.ts): the same entries either way. */
const BOOTLOADER_PLUGINS: readonly ClassProvider<Bootloader>['useClass'][] = [
  ExtlinuxBootloader,
  GrubBlsBootloader,
  SystemdBootBootloader,
];

/**
 * The configuration's choice of bootloader, made again for every call. ConfiguredBootloaders decides
 * once, which suits a CLI run; the daemon runs for months, and a /boot mounted or a bootloader
 * installed after it started must count (detection is a few file checks).
 */
export class PerCallBootloaderSelection implements BootloaderSelection {
  constructor(
    private readonly offered: readonly Bootloader[],
    private readonly configured: readonly string[],
  ) {}

  select(context?: OperationContext): Promise<Bootloader | undefined> {
    return new ConfiguredBootloaders(this.offered, this.configured).select(context);
  }
}

/**
 * The daemon's composition root, built from the same packages and the same configuration as the CLI's
 * (apps/cli/src/container.ts): the same engine, the same adapters and bootloader plugins, and the same
 * `PidFileLock` in the same `[core] lock_dir`, so the daemon and `imgbase` serialise their changes
 * through one lock file. One container serves real and dry runs (a dry run comes with each job's
 * context); it is built once and kept.
 */
export async function buildContainer(): Promise<DependencyContainer> {
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
      (c) => new PerCallBootloaderSelection(c.resolveAll<Bootloader>(Bootloader), config.bootloader.plugins),
    ),
  });
  container.register(ImageEngine, { useClass: ImageEngine }, singleton);
  return container;
}

export interface Engines {
  /** The engine for a job or route; the same one for a dry run, which its context carries. */
  readonly engine: (dryRun: boolean) => ImageEngine;
  readonly runner: CommandRunner;
}

/** The engine, and the command runner (for sd_notify). */
export async function createEngines(): Promise<Engines> {
  const container = await buildContainer();
  const engine = container.resolve(ImageEngine);
  return { engine: () => engine, runner: container.resolve<CommandRunner>(CommandRunner) };
}
