import {
  asBootWriteError,
  assertNotLastEntry,
  type BlsFile,
  BlsSyntaxError,
  BootConfigInvalidError,
  type BootEntry,
  BootEntryNotFoundError,
  type BootFileOps,
  type Bootloader,
  type BootloaderCapabilities,
  type BootState,
  blsFileName,
  blsToBootEntry,
  CommandFailedError,
  CommandRunner,
  type DesiredBootEntry,
  defaultAfterRewrite,
  emit,
  entryFilePaths,
  entryIdForLayer,
  ImgbasedConfig,
  installEntryFiles,
  layerBootDir,
  type OperationContext,
  pruneEntryFiles,
  readBlsDirectory,
  renderDesiredBls,
  replaceFileDurably,
  syncBlsDirectory,
  type WriteEntriesOptions,
  type WriteResult,
} from '@imgbased/core';
import { nodeBootFileOps } from '@imgbased/system';
import { inject, injectable } from 'tsyringe';
import { foreignGrubEntries, GrubMenuSyntaxError, parseGrubMenu, renderGrubMenu } from './grub-menu.js';

const NON_ATOMIC_FS = new Set(['vfat', 'msdos', 'exfat', 'fat']);

type Mode = 'blscfg' | 'menu';

/**
 * grub 2 on a boot partition mounted at `[bootloader] boot_dir`. With `blscfg` (Fedora, RHEL): BLS
 * Type #1 entries in `<boot>/loader/entries/`. Without it (Debian's 2.06): a generated menu file,
 * `<boot>/grub/imgbased.cfg`, that grub.cfg sources. Kernels in `<boot>/<layer>/`. Default and
 * one-shot through the environment block (`saved_entry`, `next_entry`), written with `grub-editenv`
 * on a copy that is then renamed over the block.
 */
@injectable()
export class GrubBlsBootloader implements Bootloader {
  readonly name = 'grub-bls';
  /** The file steps (Node's fs); the crash tests put a wrapper here that fails at a chosen step. */
  ops: BootFileOps = nodeBootFileOps;
  private readonly bootDir: string;

  constructor(
    @inject(CommandRunner) private readonly runner: CommandRunner,
    @inject(ImgbasedConfig) private readonly config: ImgbasedConfig,
  ) {
    this.bootDir = config.bootloader.boot_dir.replace(/\/+$/, '') || '/';
  }

  private async paths() {
    const grubDir = (await this.ops.exists(`${this.bootDir}/grub2/grub.cfg`))
      ? `${this.bootDir}/grub2`
      : `${this.bootDir}/grub`;
    return {
      grubDir,
      grubCfg: `${grubDir}/grub.cfg`,
      env: `${grubDir}/grubenv`,
      menu: `${grubDir}/imgbased.cfg`,
      entries: `${this.bootDir}/loader/entries`,
    };
  }

  async mode(): Promise<Mode> {
    const configured = this.config.bootloader.grub_mode;
    if (configured !== 'auto') return configured;
    const { grubCfg } = await this.paths();
    const text = (await this.ops.read(grubCfg)) ?? '';
    return /^\s*(insmod\s+)?blscfg\b/m.test(text) ? 'blscfg' : 'menu';
  }

  async detect(): Promise<boolean> {
    return this.ops.exists((await this.paths()).grubCfg);
  }

  async capabilities(context?: OperationContext): Promise<BootloaderCapabilities> {
    return { atomicSwap: await this.atomicHere(context), nativeOneShot: true, nativeBootCounting: false };
  }

  async state(context?: OperationContext): Promise<BootState> {
    const { entries } = await this.read();
    const env = await this.readEnv(context);
    return { entries, defaultId: env.saved_entry || undefined, nextId: env.next_entry || undefined };
  }

  async listEntries(): Promise<readonly BootEntry[]> {
    return (await this.read()).entries;
  }

  async writeEntries(
    desired: readonly DesiredBootEntry[],
    options: WriteEntriesOptions = {},
    context?: OperationContext,
  ): Promise<WriteResult> {
    const paths = await this.paths();
    const mode = await this.mode();
    const { entries: installed, blsFiles } = await this.read();
    const env = await this.readEnv(context);
    assertNotLastEntry(installed, desired);
    const fsAtomic = await this.atomicHere(context);
    let made: string[] = [];
    let changed = 0;
    try {
      made = await installEntryFiles(this.ops, this.bootDir, desired, installed);
      if (mode === 'menu') {
        const rendered = desired.map((e) => ({ ...e, id: entryIdForLayer(e.layer), ...entryFilePaths(e) }));
        await replaceFileDurably(this.ops, paths.menu, renderGrubMenu(rendered));
        changed = 1;
        if (!((await this.ops.read(paths.grubCfg)) ?? '').includes('imgbased.cfg')) {
          // The menu is written either way (grub.cfg may be regenerated later), but until grub.cfg
          // sources it, grub boots none of these entries: say so where the admin sees it.
          emit(context, {
            type: 'warning',
            message: `${paths.grubCfg} does not source imgbased.cfg: install /etc/grub.d/42_imgbased (shipped with @imgbased/bootloader-grub-bls) and run update-grub`,
          });
        }
      } else {
        const wanted = desired.map((entry) => ({
          fileName: blsFileName(entryIdForLayer(entry.layer)),
          text: renderDesiredBls(entry, entryFilePaths(entry)),
        }));
        changed = await syncBlsDirectory(this.ops, paths.entries, blsFiles, wanted);
      }
      const previous = env.saved_entry || undefined;
      const next = defaultAfterRewrite(previous, installed, desired);
      if (next !== undefined && next !== previous) {
        await this.editEnv(['set', `saved_entry=${next}`], context);
        changed++;
      }
    } catch (error) {
      for (const layer of made) await this.ops.remove(`${this.bootDir}${layerBootDir(layer)}`).catch(() => undefined);
      throw asBootWriteError(error, mode === 'menu' ? paths.menu : paths.entries);
    }
    if (!options.keepFiles) {
      await pruneEntryFiles(this.ops, this.bootDir, installed, desired).catch((error: unknown) => {
        throw asBootWriteError(error, this.bootDir);
      });
    }
    return { atomic: fsAtomic && changed <= 1 };
  }

  async setDefault(entryId: string, context?: OperationContext): Promise<WriteResult> {
    await this.requireEntry(entryId, context);
    await this.editEnv(['set', `saved_entry=${entryId}`], context);
    return { atomic: await this.atomicHere(context) };
  }

  async setNextBoot(entryId: string, context?: OperationContext): Promise<WriteResult> {
    await this.requireEntry(entryId, context);
    await this.editEnv(['set', `next_entry=${entryId}`], context);
    return { atomic: await this.atomicHere(context) };
  }

  private async requireEntry(entryId: string, context?: OperationContext): Promise<void> {
    const { entries } = await this.read();
    await this.readEnv(context); // a corrupted block is refused before anything is written
    if (!entries.some((e) => e.id === entryId)) throw new BootEntryNotFoundError(entryId, this.name);
  }

  private async read(): Promise<{ entries: BootEntry[]; blsFiles: BlsFile[] }> {
    const paths = await this.paths();
    if ((await this.mode()) === 'blscfg') {
      try {
        const blsFiles = await readBlsDirectory(this.ops, paths.entries);
        return { entries: blsFiles.map(blsToBootEntry), blsFiles };
      } catch (error) {
        if (error instanceof BlsSyntaxError) throw new BootConfigInvalidError(paths.entries, error.message);
        throw asBootWriteError(error, paths.entries);
      }
    }
    const text = await this.ops.read(paths.menu);
    let ours: BootEntry[] = [];
    if (text !== undefined) {
      try {
        ours = parseGrubMenu(text);
      } catch (error) {
        if (error instanceof GrubMenuSyntaxError) throw new BootConfigInvalidError(paths.menu, error.message);
        throw error;
      }
    }
    const foreign = foreignGrubEntries((await this.ops.read(paths.grubCfg)) ?? '');
    return { entries: [...ours, ...foreign], blsFiles: [] };
  }

  /** The environment block's variables; {} when there is none. */
  private async readEnv(context?: OperationContext): Promise<Record<string, string>> {
    const { env } = await this.paths();
    if (!(await this.ops.exists(env))) return {};
    try {
      const listed = await this.runner.run({ argv: ['grub-editenv', env, 'list'], mutates: false }, context);
      const out: Record<string, string> = {};
      for (const line of listed.stdout.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
      }
      return out;
    } catch (error) {
      if (error instanceof CommandFailedError) {
        throw new BootConfigInvalidError(env, error.message.replace(/^.*failed[^:]*: ?/, '') || 'unreadable');
      }
      throw error;
    }
  }

  /** `grub-editenv` on a copy of the block, then the copy renamed over it (grub-editenv writes in place). */
  private async editEnv(edit: readonly string[], context?: OperationContext): Promise<void> {
    const { grubDir, env } = await this.paths();
    const temporary = `${grubDir}/.grubenv.imgbased-new`;
    try {
      const current = await this.ops.read(env);
      await this.ops.remove(temporary);
      if (current === undefined) {
        await this.runner.run({ argv: ['grub-editenv', temporary, 'create'], mutates: true }, context);
      } else {
        await this.ops.writeNew(temporary, current);
      }
      await this.runner.run({ argv: ['grub-editenv', temporary, ...edit], mutates: true }, context);
      await this.ops.rename(temporary, env);
      await this.ops.syncDirectory(grubDir);
    } catch (error) {
      await this.ops.remove(temporary).catch(() => undefined);
      throw asBootWriteError(error, env);
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
