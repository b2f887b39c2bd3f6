import {
  type BlsFile,
  BootConfigInvalidError,
  type BootConfiguration,
  type BootLocation,
  type BootloaderPlugin,
  type BootloaderServices,
  blsFileName,
  blsToBootEntry,
  readBlsDirectory,
  renderBlsEntry,
  syncBlsDirectory,
} from '@imgbased/core';
import {
  defaultOf,
  defaultValueFor,
  loaderConfProblem,
  loaderId,
  staleDefault,
  withDefaultValue,
} from './loader-conf.js';
import { fieldOf } from './loader-order.js';
import type { SystemdBootSettings } from './settings.js';
import { lastingDefault, systemdBootTrial, withSortKey } from './systemd-boot-trial.js';

const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';
const EFIVARS = '/sys/firmware/efi/efivars';
/**
 * Set at each boot by a loader that implements the Boot Loader Interface (systemd-boot). Where it is
 * missing (no UEFI, efivarfs not mounted, another loader) `bootctl set-oneshot` refuses to run.
 */
const LOADER_INFO = `${EFIVARS}/LoaderInfo-${LOADER_GUID}`;
const ONE_SHOT = `${EFIVARS}/LoaderEntryOneShot-${LOADER_GUID}`;
const ESP_CANDIDATES = ['/efi', '/boot/efi', '/boot'];

/** What `read` found, handed back to `write`. */
export interface SystemdBootParsed {
  readonly blsFiles: readonly BlsFile[];
  readonly loader: string;
}

type SystemdBoot = BootConfiguration<SystemdBootParsed>;

/**
 * systemd-boot: BLS Type #1 entries in `<ESP>/loader/entries/` (or XBOOTLDR), the default in
 * `loader.conf`, one-shot through the loader's EFI variable (`bootctl set-oneshot`), boot counting
 * file names (`+N`, `+L-D`) read, kept across rewrites and given to new entries when
 * `boot_counting_tries` is set. Trial boots: systemd-boot-trial.ts.
 */
export function createSystemdBoot({
  runner,
  files,
  settings,
}: BootloaderServices<SystemdBootSettings>): BootloaderPlugin<SystemdBootParsed> {
  let esp: Promise<string> | undefined;

  async function findEsp(): Promise<string> {
    if (settings.esp_dir !== 'auto') return settings.esp_dir.replace(/\/+$/, '') || '/';
    for (const candidate of ESP_CANDIDATES) {
      if (await files.exists(`${candidate}/loader`)) return candidate;
    }
    return ESP_CANDIDATES[1]!;
  }

  async function paths() {
    esp ??= findEsp();
    const root = await esp;
    const base = root === '/' ? '' : root;
    return { root, entries: `${base}/loader/entries`, loaderConf: `${base}/loader/loader.conf` };
  }

  /** The one-shot entry (`LoaderEntryOneShot`), when the firmware variables can be read. */
  async function oneShotId(): Promise<string | undefined> {
    const raw = await files.read(ONE_SHOT).catch(() => undefined);
    if (raw === undefined) return undefined;
    const bytes = Buffer.from(raw, 'latin1').subarray(4); // 4 bytes of attributes, then UTF-16LE
    const value = bytes.toString('utf16le').replace(/\0+$/, '');
    return value.endsWith('.conf') ? value.slice(0, -'.conf'.length) : value || undefined;
  }

  /** loader.conf's `default` set to `value` (defaultValueFor: a pattern for a counted file). */
  async function replaceLoaderConf(loader: string, value: string): Promise<void> {
    const { loaderConf } = await paths();
    await files.mkdir(loaderConf.slice(0, loaderConf.lastIndexOf('/')));
    await files.replace(loaderConf, withDefaultValue(loader, value));
  }

  return {
    name: 'systemd-boot',
    bootCounting: true,
    async detect() {
      const { root, loaderConf } = await paths();
      return (
        (await files.exists(loaderConf)) ||
        (await files.exists(`${root}/EFI/systemd/systemd-bootx64.efi`)) ||
        (await files.exists(`${root}/EFI/systemd/systemd-bootaa64.efi`))
      );
    },
    async locate(): Promise<BootLocation> {
      const { root, entries } = await paths();
      return { root, config: entries };
    },
    async read(): Promise<SystemdBoot> {
      const { entries, loaderConf } = await paths();
      const blsFiles = await readBlsDirectory(files, entries);
      const loader = (await files.read(loaderConf)) ?? '';
      const problem = loaderConfProblem(loader);
      if (problem !== undefined) throw new BootConfigInvalidError(loaderConf, problem);
      return {
        entries: blsFiles.map(blsToBootEntry),
        // A pattern (a running trial) reads as the entry it boots once no trial is counting.
        defaultId: lastingDefault(loader, blsFiles),
        nextId: await oneShotId(),
        parsed: { blsFiles, loader },
      };
    },
    async write(_location, change, before: SystemdBoot) {
      const { entries } = await paths();
      const { blsFiles, loader } = before.parsed;
      const tries = settings.boot_counting_tries;
      const wanted = change.entries.map((entry) => {
        const existing = blsFiles.find((f) => f.id === entry.id);
        const fileName = existing?.fileName ?? blsFileName(entry.id, tries > 0 ? { left: tries, done: 0 } : undefined);
        // A trial's sort keys stay across rewrites (an update adding a layer while a trial runs).
        const sortKey = existing === undefined ? undefined : fieldOf(existing, 'sort-key');
        return { id: entry.id, fileName, text: withSortKey(renderBlsEntry(entry), sortKey) };
      });
      let changed = await syncBlsDirectory(files, entries, blsFiles, wanted);
      if (change.defaultId !== undefined) {
        // Named as its file is now: a new counted entry by a pattern, or `default <id>.conf` would match nothing.
        const others = blsFiles.filter((f) => !wanted.some((w) => w.id === f.id));
        const value = defaultValueFor(change.defaultId, [...wanted, ...others]);
        // A plain default left naming a counted file is repaired; a pattern (a running trial's) is kept.
        if (change.defaultId !== before.defaultId || staleDefault(loader, value)) {
          await replaceLoaderConf(loader, value);
          changed++;
        }
      }
      return { filesReplaced: changed };
    },
    async writeDefault(_location, entryId, before: SystemdBoot) {
      const { entries } = await paths();
      const { blsFiles, loader } = before.parsed;
      let changed = 0;
      // A spent entry of imgbased's (a failed trial chosen after all) loses its counter: `bootctl list` would
      // call it bad. One with tries left keeps counting (boot_counting_tries), named by a pattern below.
      const file = blsFiles.find((f) => f.id === entryId);
      let named = blsFiles;
      if (file?.tries?.left === 0 && blsToBootEntry(file).layer !== undefined) {
        const plain = blsFileName(file.id);
        await files.rename(`${entries}/${file.fileName}`, `${entries}/${plain}`);
        await files.syncDirectory(entries);
        named = blsFiles.map((f) => (f === file ? { ...f, fileName: plain } : f));
        changed++;
      }
      const value = defaultValueFor(entryId, named);
      // Compared with loader.conf as written: a trial's pattern reads as the good entry, yet is no plain default.
      if (entryId !== defaultOf(loader) || staleDefault(loader, value)) {
        await replaceLoaderConf(loader, value);
        changed++;
      }
      return { filesReplaced: changed };
    },
    trial: systemdBootTrial(files, paths),
    oneShot: {
      async available() {
        return files.exists(LOADER_INFO);
      },
      async set(location, entryId, _before, context) {
        await runner.run(
          { argv: ['bootctl', `--esp-path=${location.root}`, 'set-oneshot', loaderId(entryId)], mutates: true },
          context,
        );
      },
    },
  };
}
