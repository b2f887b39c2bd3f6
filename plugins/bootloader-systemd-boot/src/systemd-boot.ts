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
  BootUnsupportedError,
  blsFileName,
  blsToBootEntry,
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
  readBlsDirectory,
  renderDesiredBls,
  replaceFileDurably,
  syncBlsDirectory,
  type WriteEntriesOptions,
  type WriteResult,
} from '@imgbased/core';
import { nodeBootFileOps } from '@imgbased/system';
import { inject, injectable } from 'tsyringe';

const NON_ATOMIC_FS = new Set(['vfat', 'msdos', 'exfat', 'fat']);
const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';
const EFIVARS = '/sys/firmware/efi/efivars';
/**
 * Set at each boot by a loader that implements the Boot Loader Interface (systemd-boot). Where it is
 * missing (no UEFI, efivarfs not mounted, another loader) `bootctl set-oneshot` refuses to run.
 */
const LOADER_INFO = `${EFIVARS}/LoaderInfo-${LOADER_GUID}`;
const ESP_CANDIDATES = ['/efi', '/boot/efi', '/boot'];

/** `default` in loader.conf is a glob over entry ids, which end in `.conf` in systemd-boot. */
function loaderId(id: string): string {
  return `${id}.conf`;
}

/**
 * systemd-boot: BLS Type #1 entries in `<ESP>/loader/entries/` (or XBOOTLDR), the default in
 * `loader.conf`, one-shot through the loader's EFI variable (`bootctl set-oneshot`), boot counting
 * file names (`+N`, `+L-D`) read, kept across rewrites and used for new entries when
 * `[bootloader] boot_counting_tries` is set. On FAT each file is replaced by write-new + rename, which
 * FAT does not make atomic: capabilities() says so.
 */
@injectable()
export class SystemdBootBootloader implements Bootloader {
  readonly name = 'systemd-boot';
  /** The file steps (Node's fs); the crash tests put a wrapper here that fails at a chosen step. */
  ops: BootFileOps = nodeBootFileOps;
  private esp: string | undefined;

  constructor(
    @inject(CommandRunner) private readonly runner: CommandRunner,
    @inject(ImgbasedConfig) private readonly config: ImgbasedConfig,
  ) {}

  private async espDir(): Promise<string> {
    this.esp ??= await this.findEsp();
    return this.esp;
  }

  private async findEsp(): Promise<string> {
    const configured = this.config.bootloader.esp_dir;
    if (configured !== 'auto') return configured.replace(/\/+$/, '') || '/';
    for (const candidate of ESP_CANDIDATES) {
      if (await this.ops.exists(`${candidate}/loader`)) return candidate;
    }
    return ESP_CANDIDATES[1]!;
  }

  private async paths() {
    const esp = await this.espDir();
    return { esp, entries: `${esp}/loader/entries`, loaderConf: `${esp}/loader/loader.conf` };
  }

  async detect(): Promise<boolean> {
    const { esp, loaderConf } = await this.paths();
    return (
      (await this.ops.exists(loaderConf)) ||
      (await this.ops.exists(`${esp}/EFI/systemd/systemd-bootx64.efi`)) ||
      (await this.ops.exists(`${esp}/EFI/systemd/systemd-bootaa64.efi`))
    );
  }

  async capabilities(context?: OperationContext): Promise<BootloaderCapabilities> {
    return {
      atomicSwap: await this.atomicHere(context),
      nativeOneShot: await this.ops.exists(LOADER_INFO),
      nativeBootCounting: true,
    };
  }

  async state(): Promise<BootState> {
    const { files, loader } = await this.read();
    const nextId = await this.oneShot();
    return { entries: files.map(blsToBootEntry), defaultId: defaultOf(loader), nextId };
  }

  async listEntries(): Promise<readonly BootEntry[]> {
    return (await this.state()).entries;
  }

  async writeEntries(
    desired: readonly DesiredBootEntry[],
    options: WriteEntriesOptions = {},
    context?: OperationContext,
  ): Promise<WriteResult> {
    const { esp, entries: dir, loaderConf } = await this.paths();
    const { files, loader } = await this.read();
    const installed = files.map(blsToBootEntry);
    assertNotLastEntry(installed, desired);
    const fsAtomic = await this.atomicHere(context);
    const tries = this.config.bootloader.boot_counting_tries;
    let made: string[] = [];
    let changed = 0;
    try {
      made = await installEntryFiles(this.ops, esp, desired, installed);
      const wanted = desired.map((entry) => {
        const id = entryIdForLayer(entry.layer);
        const existing = files.find((f) => f.id === id);
        const fileName = existing?.fileName ?? blsFileName(id, tries > 0 ? { left: tries, done: 0 } : undefined);
        return { fileName, text: renderDesiredBls(entry, entryFilePaths(entry)) };
      });
      changed = await syncBlsDirectory(this.ops, dir, files, wanted);
      const previousDefault = defaultOf(loader);
      const nextDefault = defaultAfterRewrite(previousDefault, installed, desired);
      if (nextDefault !== previousDefault && nextDefault !== undefined) {
        await replaceFileDurably(this.ops, loaderConf, withDefault(loader, nextDefault));
        changed++;
      }
    } catch (error) {
      for (const layer of made) await this.ops.remove(`${esp}${layerBootDir(layer)}`).catch(() => undefined);
      throw asBootWriteError(error, dir);
    }
    if (!options.keepFiles) {
      await pruneEntryFiles(this.ops, esp, installed, desired).catch((error: unknown) => {
        throw asBootWriteError(error, esp);
      });
    }
    return { atomic: fsAtomic && changed <= 1 };
  }

  async setDefault(entryId: string, context?: OperationContext): Promise<WriteResult> {
    const { loaderConf } = await this.paths();
    const { files, loader } = await this.read();
    if (!files.some((f) => f.id === entryId)) throw new BootEntryNotFoundError(entryId, this.name);
    const atomic = await this.atomicHere(context);
    await this.ops.mkdir(loaderConf.slice(0, loaderConf.lastIndexOf('/')));
    await replaceFileDurably(this.ops, loaderConf, withDefault(loader, entryId)).catch((error: unknown) => {
      throw asBootWriteError(error, loaderConf);
    });
    return { atomic };
  }

  async setNextBoot(entryId: string, context?: OperationContext): Promise<WriteResult> {
    const { esp } = await this.paths();
    const { files } = await this.read();
    if (!files.some((f) => f.id === entryId)) throw new BootEntryNotFoundError(entryId, this.name);
    if (!(await this.ops.exists(LOADER_INFO))) {
      throw new BootUnsupportedError(
        this.name,
        'boot an entry once here: no LoaderInfo EFI variable (not booted by systemd-boot with UEFI, or efivarfs not mounted)',
      );
    }
    await this.runner.run(
      { argv: ['bootctl', `--esp-path=${esp}`, 'set-oneshot', loaderId(entryId)], mutates: true },
      context,
    );
    return { atomic: true };
  }

  private async read(): Promise<{ files: BlsFile[]; loader: string }> {
    const { entries, loaderConf } = await this.paths();
    let files: BlsFile[];
    try {
      files = await readBlsDirectory(this.ops, entries);
    } catch (error) {
      if (error instanceof BlsSyntaxError) throw new BootConfigInvalidError(entries, error.message);
      throw asBootWriteError(error, entries);
    }
    const loader = (await this.ops.read(loaderConf)) ?? '';
    if (loader.includes('\0') || loader.includes('\uFFFD')) {
      throw new BootConfigInvalidError(loaderConf, 'binary data in loader.conf');
    }
    for (const [index, line] of loader.split('\n').entries()) {
      const trimmed = line.trim();
      if (trimmed !== '' && !trimmed.startsWith('#') && !/^[a-z][a-z0-9_-]*(\s|$)/i.test(trimmed)) {
        throw new BootConfigInvalidError(loaderConf, `line ${index + 1}: not 'key value'`);
      }
    }
    return { files, loader };
  }

  /** The one-shot entry (`LoaderEntryOneShot`), when the firmware variables can be read. */
  private async oneShot(): Promise<string | undefined> {
    const raw = await this.ops.read(`${EFIVARS}/LoaderEntryOneShot-${LOADER_GUID}`).catch(() => undefined);
    if (raw === undefined) return undefined;
    const bytes = Buffer.from(raw, 'latin1').subarray(4); // 4 bytes of attributes, then UTF-16LE
    const value = bytes.toString('utf16le').replace(/\0+$/, '');
    return value.endsWith('.conf') ? value.slice(0, -'.conf'.length) : value || undefined;
  }

  private async atomicHere(context?: OperationContext): Promise<boolean> {
    const { esp } = await this.paths();
    const found = await this.runner
      .run({ argv: ['findmnt', '-n', '-o', 'FSTYPE', '--target', esp], mutates: false, okExitCodes: [0, 1] }, context)
      .catch(() => undefined);
    return !NON_ATOMIC_FS.has(found?.stdout.trim() ?? '');
  }
}

function defaultOf(loader: string): string | undefined {
  const line = loader
    .split('\n')
    .map((l) => l.trim())
    .findLast((l) => /^default\s/.test(l));
  const value = line?.replace(/^default\s+/, '').trim();
  return value?.endsWith('.conf') ? value.slice(0, -'.conf'.length) : value;
}

/** loader.conf with its `default` line set, every other line kept. */
export function withDefault(loader: string, id: string): string {
  const lines = loader.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
  const kept = lines.filter((l) => !/^\s*default\s/.test(l));
  return `${[...kept, `default ${loaderId(id)}`].join('\n')}\n`;
}
