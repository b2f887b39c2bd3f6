import {
  asBootWriteError,
  assertNotLastEntry,
  BootConfigInvalidError,
  type BootEntry,
  BootEntryNotFoundError,
  type BootFileOps,
  type Bootloader,
  type BootloaderCapabilities,
  type BootState,
  BootUnsupportedError,
  CommandRunner,
  type DesiredBootEntry,
  defaultAfterRewrite,
  entryFilePaths,
  entryIdForLayer,
  ImgbasedConfig,
  installEntryFiles,
  layerBootDir,
  type OperationContext,
  pruneEntryFiles,
  replaceFileDurably,
  type WriteEntriesOptions,
  type WriteResult,
} from '@imgbased/core';
import { nodeBootFileOps } from '@imgbased/system';
import { inject, injectable } from 'tsyringe';
import {
  type ExtlinuxConf,
  type ExtlinuxConfToRender,
  ExtlinuxSyntaxError,
  parseExtlinuxConf,
  renderBlockLines,
  renderExtlinuxConf,
} from './extlinux-conf.js';

const NON_ATOMIC_FS = new Set(['vfat', 'msdos', 'exfat', 'fat']);

/**
 * extlinux (syslinux) on an ext4 boot partition mounted at `[bootloader] boot_dir`: one `LABEL` per
 * layer and `DEFAULT` in `<boot_dir>/extlinux/extlinux.conf`, kernels in `<boot_dir>/<layer>/`.
 * syslinux has no one-shot boot and no boot counting.
 */
@injectable()
export class ExtlinuxBootloader implements Bootloader {
  readonly name = 'extlinux';
  private readonly bootDir: string;
  /** The file steps (Node's fs); the crash tests put a wrapper here that fails at a chosen step. */
  ops: BootFileOps = nodeBootFileOps;

  constructor(
    @inject(CommandRunner) private readonly runner: CommandRunner,
    @inject(ImgbasedConfig) config: ImgbasedConfig,
  ) {
    this.bootDir = config.bootloader.boot_dir.replace(/\/+$/, '') || '/';
  }

  get configPath(): string {
    return `${this.bootDir}/extlinux/extlinux.conf`;
  }

  async detect(): Promise<boolean> {
    return (await this.ops.exists(this.configPath)) || (await this.ops.exists(`${this.bootDir}/extlinux/ldlinux.sys`));
  }

  async capabilities(context?: OperationContext): Promise<BootloaderCapabilities> {
    return { atomicSwap: await this.atomicHere(context), nativeOneShot: false, nativeBootCounting: false };
  }

  async state(): Promise<BootState> {
    const conf = await this.read();
    return { entries: conf.blocks.map((b) => b.entry), defaultId: conf.defaultLabel, nextId: undefined };
  }

  async listEntries(): Promise<readonly BootEntry[]> {
    return (await this.state()).entries;
  }

  async writeEntries(
    desired: readonly DesiredBootEntry[],
    options: WriteEntriesOptions = {},
    context?: OperationContext,
  ): Promise<WriteResult> {
    const before = await this.read();
    const installed = before.blocks.map((b) => b.entry);
    assertNotLastEntry(installed, desired);
    const atomic = await this.atomicHere(context);
    let made: string[] = [];
    try {
      made = await installEntryFiles(this.ops, this.bootDir, desired, installed);
      const ours = desired.map((entry) => {
        const label = entryIdForLayer(entry.layer);
        return { label, lines: renderBlockLines({ ...entry, ...entryFilePaths(entry) }) };
      });
      const foreign = before.blocks.filter((b) => b.entry.layer === undefined);
      const conf: ExtlinuxConfToRender = {
        header: before.header,
        defaultLabel: defaultAfterRewrite(before.defaultLabel, installed, desired),
        blocks: [...ours, ...foreign],
      };
      await this.ops.mkdir(`${this.bootDir}/extlinux`);
      await replaceFileDurably(this.ops, this.configPath, renderExtlinuxConf(conf));
    } catch (error) {
      for (const layer of made) await this.ops.remove(`${this.bootDir}${layerBootDir(layer)}`).catch(() => undefined);
      throw asBootWriteError(error, this.configPath);
    }
    if (!options.keepFiles) {
      await pruneEntryFiles(this.ops, this.bootDir, installed, desired).catch((error: unknown) => {
        throw asBootWriteError(error, this.bootDir);
      });
    }
    return { atomic };
  }

  async setDefault(entryId: string, context?: OperationContext): Promise<WriteResult> {
    const conf = await this.read();
    if (!conf.blocks.some((b) => b.label === entryId)) throw new BootEntryNotFoundError(entryId, this.name);
    const atomic = await this.atomicHere(context);
    await replaceFileDurably(this.ops, this.configPath, renderExtlinuxConf({ ...conf, defaultLabel: entryId })).catch(
      (error: unknown) => {
        throw asBootWriteError(error, this.configPath);
      },
    );
    return { atomic };
  }

  async setNextBoot(_entryId: string): Promise<WriteResult> {
    throw new BootUnsupportedError(this.name, 'boot an entry once (syslinux has no one-shot boot)');
  }

  private async read(): Promise<ExtlinuxConf> {
    const text = await this.ops.read(this.configPath).catch((error: unknown) => {
      throw asBootWriteError(error, this.configPath);
    });
    if (text === undefined) return { header: [], defaultLabel: undefined, blocks: [] };
    try {
      return parseExtlinuxConf(text);
    } catch (error) {
      if (error instanceof ExtlinuxSyntaxError) throw new BootConfigInvalidError(this.configPath, error.message);
      throw error;
    }
  }

  private async atomicHere(context?: OperationContext): Promise<boolean> {
    const found = await this.runner
      .run(
        { argv: ['findmnt', '-n', '-o', 'FSTYPE', '--target', this.bootDir], mutates: false, okExitCodes: [0, 1] },
        context,
      )
      .catch(() => undefined);
    return !NON_ATOMIC_FS.has(found?.stdout.trim() ?? '');
  }
}
