import {
  type BlsFile,
  type BootConfiguration,
  type BootEntry,
  type BootLocation,
  type BootloaderPlugin,
  type BootloaderServices,
  blsFileName,
  blsToBootEntry,
  emit,
  type OperationContext,
  readBlsDirectory,
  renderBlsKeeping,
  syncBlsDirectory,
} from '@imgbased/core';
import { GrubEnvironment } from './grub-env.js';
import { foreignGrubEntries, parseGrubMenu, renderGrubMenu } from './grub-menu.js';
import { grubTrial } from './grub-trial.js';
import type { GrubBlsSettings } from './settings.js';

type Mode = 'blscfg' | 'menu';

interface GrubPaths {
  readonly grubDir: string;
  readonly grubCfg: string;
  readonly env: string;
  readonly menu: string;
  readonly entries: string;
}

/** What `read` found, handed back to `write`. */
export interface GrubParsed {
  readonly mode: Mode;
  readonly paths: GrubPaths;
  /** blscfg mode: the BLS files as they are (imgbased's are replaced, foreign ones kept). */
  readonly blsFiles: readonly BlsFile[];
}

type Grub = BootConfiguration<GrubParsed>;

/**
 * grub 2 on the boot partition mounted at `[bootloader] boot_dir`. With `blscfg` (Fedora, RHEL): BLS
 * Type #1 entries in `<boot>/loader/entries/`. Without it (Debian's 2.06): a generated menu file,
 * `<grub dir>/imgbased.cfg`, that grub.cfg sources. Default and one-shot through the environment block.
 */
export function createGrubBls({
  runner,
  files,
  bootDir,
  settings,
}: BootloaderServices<GrubBlsSettings>): BootloaderPlugin<GrubParsed> {
  const root = bootDir.replace(/\/+$/, '') || '/';
  const base = root === '/' ? '' : root;
  const env = new GrubEnvironment(runner, files, settings.editenv);

  async function paths(): Promise<GrubPaths> {
    const grubDir = (await files.exists(`${base}/grub2/grub.cfg`)) ? `${base}/grub2` : `${base}/grub`;
    return {
      grubDir,
      grubCfg: `${grubDir}/grub.cfg`,
      env: `${grubDir}/grubenv`,
      menu: `${grubDir}/imgbased.cfg`,
      entries: `${base}/loader/entries`,
    };
  }

  async function modeOf(at: GrubPaths): Promise<Mode> {
    if (settings.mode !== 'auto') return settings.mode;
    const text = (await files.read(at.grubCfg)) ?? '';
    return /^\s*(insmod\s+)?blscfg\b/m.test(text) ? 'blscfg' : 'menu';
  }

  async function setDefault(at: GrubPaths, entryId: string, context?: OperationContext): Promise<void> {
    await env.set(at.env, [`saved_entry=${entryId}`], context);
  }

  return {
    name: 'grub-bls',
    async detect() {
      return files.exists((await paths()).grubCfg);
    },
    async locate(): Promise<BootLocation> {
      const at = await paths();
      return { root, config: (await modeOf(at)) === 'menu' ? at.menu : at.entries };
    },
    async read(_location, context): Promise<Grub> {
      const at = await paths();
      const mode = await modeOf(at);
      let entries: BootEntry[];
      let blsFiles: BlsFile[] = [];
      if (mode === 'blscfg') {
        blsFiles = await readBlsDirectory(files, at.entries);
        entries = blsFiles.map(blsToBootEntry);
      } else {
        const menu = await files.read(at.menu);
        const foreign = foreignGrubEntries((await files.read(at.grubCfg)) ?? '');
        entries = [...(menu === undefined ? [] : parseGrubMenu(menu)), ...foreign];
      }
      const variables = await env.list(at.env, context);
      return {
        entries,
        defaultId: entryNamed(entries, variables.saved_entry),
        nextId: entryNamed(entries, variables.next_entry),
        parsed: { mode, paths: at, blsFiles },
      };
    },
    async write(_location, change, before: Grub, context) {
      const { mode, paths: at, blsFiles } = before.parsed;
      let changed = 0;
      if (mode === 'menu') {
        const text = renderGrubMenu(change.entries);
        if ((await files.read(at.menu)) !== text) {
          await files.replace(at.menu, text);
          changed++;
        }
        if (!((await files.read(at.grubCfg)) ?? '').includes('imgbased.cfg')) {
          // The menu is written either way (grub.cfg may be regenerated later), but until grub.cfg
          // sources it, grub boots none of these entries: say so where the admin sees it.
          emit(context, {
            type: 'warning',
            message: `${at.grubCfg} does not source imgbased.cfg: install /etc/grub.d/42_imgbased (shipped with @imgbased/bootloader-grub-bls) and run update-grub`,
          });
        }
      } else {
        // A file that is there already (the original's, written by grubby) keeps its other lines.
        const wanted = change.entries.map((entry) => ({
          fileName: blsFileName(entry.id),
          text: renderBlsKeeping(
            entry,
            blsFiles.find((f) => f.fileName === blsFileName(entry.id)),
          ),
        }));
        changed += await syncBlsDirectory(files, at.entries, blsFiles, wanted);
      }
      if (change.defaultId !== undefined && change.defaultId !== before.defaultId) {
        await setDefault(at, change.defaultId, context);
        changed++;
      }
      return { filesReplaced: changed };
    },
    async writeDefault(_location, entryId, before: Grub, context) {
      if (entryId === before.defaultId) return { filesReplaced: 0 };
      await setDefault(before.parsed.paths, entryId, context);
      return { filesReplaced: 1 };
    },
    oneShot: {
      async available() {
        return true;
      },
      async set(_location, entryId, before: Grub, context) {
        await env.set(before.parsed.paths.env, [`next_entry=${entryId}`], context);
      },
    },
    trial: grubTrial(env),
  };
}

/**
 * The entry grub boots for a `saved_entry`/`next_entry` value: grub takes an entry's id or its title.
 * The original wrote titles there (`<nvr> (<kver>)`); two layers of one image with one kernel share a
 * title, and grub's blscfg lists the newer first, so the last such entry in file order is the one.
 * A value that names no entry is kept as it is.
 */
function entryNamed(entries: readonly BootEntry[], value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (entries.some((e) => e.id === value)) return value;
  return entries.findLast((e) => e.title === value)?.id ?? value;
}
