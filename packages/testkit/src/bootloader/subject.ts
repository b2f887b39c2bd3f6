import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BootFileOps,
  type BootLocation,
  type BootloaderPlugin,
  type BootloaderPluginDefinition,
  bootFiles,
  ManagedBootloader,
} from '@imgbased/core';
import { ExecaCommandRunner, FindmntHostInfo, nodeBootFileOps } from '@imgbased/system';
import { type FaultInjectingOps, faultInjectingOps } from '../fault-injection.js';
import { validatedSettings } from '../settings.js';
import { snapshotTree } from '../tree-snapshot.js';

/** What the suite hands the factory, once per check (and once per cut in the crash check). */
export interface BootloaderTestEnvironment {
  /** A fresh, empty directory standing for the boot partition (or the ESP): the plugin's `bootDir`. */
  readonly root: string;
  /**
   * The file operations the plugin is created with (the suite passes them to `definition.create`
   * itself, as `bootFiles(ops)`): Node's fs behind a wrapper that cuts writes in the crash check.
   */
  readonly ops: BootFileOps;
}

/** What the factory returns: the plugin under test and how to lay out its files. */
export interface BootloaderContractSubject<Settings = unknown> {
  /** The plugin's definition, as its package exports it (`export default defineBootloaderPlugin(…)`). */
  readonly definition: BootloaderPluginDefinition<Settings>;
  /**
   * The raw `[bootloader.NAME]` section (strings or string lists, as the INI file gives them), validated
   * with the definition's schema. Point the plugin's own paths (an ESP directory…) below `root`.
   */
  readonly settings?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Lays out an installed bootloader with no entries under `root` (e.g. `extlinux/extlinux.conf`,
   * `grub/grub.cfg`, `loader/loader.conf`), as a distribution's installer leaves it. Skip it when the
   * plugin works from an empty boot partition.
   */
  prepare?(root: string): Promise<void>;
  /**
   * Makes the configuration under `root` (as `prepare` and the suite's writes left it) one the plugin
   * must refuse as invalid: e.g. a block that boots nothing, a line that is not a directive.
   */
  corrupt(root: string): Promise<void>;
  /**
   * An entry imgbased did not write. `add` puts it into the prepared configuration (with any file it
   * names); the plugin must list it (without `layer`) and keep it unchanged through every write. Without
   * it, that check is skipped.
   */
  readonly foreignEntry?: { readonly id: string; add(root: string): Promise<void> } | undefined;
  /**
   * `'skip'` when the plugin claims a one-shot boot that cannot be proven on this machine (it needs the
   * firmware, e.g. EFI variables). Default `'check'`: a claimed one-shot must show in `state().nextId`.
   */
  readonly oneShot?: 'check' | 'skip' | undefined;
}

/** Called with a fresh, empty boot partition for every check (and for every cut in the crash check). */
export type BootloaderContractFactory<Settings = unknown> = (
  environment: BootloaderTestEnvironment,
) => BootloaderContractSubject<Settings> | Promise<BootloaderContractSubject<Settings>>;

/** One plugin made by the suite as the host makes it, over a boot partition in a temporary directory. */
export interface BootloaderUnderTest {
  readonly root: string;
  readonly subject: BootloaderContractSubject<unknown>;
  /** The plugin itself (for `locate`). */
  readonly plugin: BootloaderPlugin;
  /** What the engine sees: the plugin wrapped by core. */
  readonly bootloader: ManagedBootloader;
  /** The file operations the plugin was given: they cut writes when told to. */
  readonly ops: FaultInjectingOps;
  location(): Promise<BootLocation>;
  /** A new plugin over the same boot partition (nothing kept in memory), as after a reboot; not prepared again. */
  reopen(): ManagedBootloader;
  /** Every file under the boot partition, to prove that nothing was written. */
  snapshot(): Promise<Record<string, string>>;
}

const runner = new ExecaCommandRunner();
const findmnt = new FindmntHostInfo(runner);

/**
 * The type of the file system holding `path`, by findmnt; `ext4` when it cannot be told. The suites
 * run in temporary directories, so this is whatever holds them (not FAT: the swap is atomic).
 */
async function filesystemType(path: string): Promise<string | undefined> {
  return (await findmnt.filesystemType(path).catch(() => undefined)) ?? 'ext4';
}

/**
 * Makes the plugin as the host does: a new boot partition `<work>/<name>`, the factory's subject, its
 * settings validated, `definition.create({ runner, files: bootFiles(ops), bootDir, settings })`, then
 * `prepare`, and core's ManagedBootloader around it.
 */
export async function bootloaderUnderTest<Settings>(
  factory: BootloaderContractFactory<Settings>,
  work: string,
  name = 'boot',
): Promise<BootloaderUnderTest> {
  const root = join(work, name);
  await mkdir(root, { recursive: true });
  const ops = faultInjectingOps(nodeBootFileOps);
  const subject = await factory({ root, ops });
  const { definition } = subject;
  if (definition.kind !== 'bootloader') throw new Error(`${definition.name} is a ${definition.kind} plugin`);
  const settings = await validatedSettings(definition.name, definition.settings, subject.settings);
  const make = () => definition.create({ runner, files: bootFiles(ops), bootDir: root, settings });
  const plugin = make();
  await subject.prepare?.(root);
  const bootloader = new ManagedBootloader(plugin, ops, { filesystemType });
  return {
    root,
    subject: subject as BootloaderContractSubject<unknown>,
    plugin,
    bootloader,
    ops,
    location: () => plugin.locate(),
    reopen: () => new ManagedBootloader(make(), ops, { filesystemType }),
    snapshot: () => snapshotTree(root),
  };
}
