import {
  type BlsFile,
  BootConfigInvalidError,
  type BootConfiguration,
  type BootFiles,
  type BootloaderTrial,
  blsFileName,
} from '@imgbased/core';
import { defaultOf, defaultValueFor, type NamedFile, withDefault, withDefaultValue } from './loader-conf.js';
import { fieldOf, firstMatch, globMatches, isGlob } from './loader-order.js';

/** loader.conf's `default` while a trial runs: systemd-boot boots the first imgbased entry in its order. */
export const TRIAL_PATTERN = 'imgbased-*';
/** The sort keys that order the two entries of a trial first: the trial, then the last good layer. */
export const TRIAL_SORT_KEY = 'imgbased-0-trial';
export const GOOD_SORT_KEY = 'imgbased-1-good';
const OWN_SORT_KEYS = [TRIAL_SORT_KEY, GOOD_SORT_KEY];

/** What the trial needs of the plugin's parse. */
export interface TrialParse {
  readonly blsFiles: readonly BlsFile[];
  readonly loader: string;
}

export interface TrialPaths {
  readonly entries: string;
  readonly loaderConf: string;
}

/** The trial's file: the entry carrying the trial sort key. */
export function trialFile(blsFiles: readonly BlsFile[]): BlsFile | undefined {
  return blsFiles.find((f) => fieldOf(f, 'sort-key') === TRIAL_SORT_KEY);
}

/**
 * A trial file that systemd-boot still boots first under the pattern: counting, or blessed (plain
 * name) by systemd-bless-boot or by a mark-good cut before its `default` was written. Either way only
 * imgbased's check (or `boot --mark-good`) ends the trial: blessing alone never makes it the default.
 */
function live(file: BlsFile): boolean {
  return fieldOf(file, 'sort-key') === TRIAL_SORT_KEY ? file.tries?.left !== 0 : (file.tries?.left ?? 0) > 0;
}

/**
 * The entry loader.conf's `default` boots once no trial is running: a plain id as written; for a
 * pattern, its first match in systemd-boot's order leaving out a live trial and entries counting boots.
 */
export function lastingDefault(loader: string, blsFiles: readonly BlsFile[]): string | undefined {
  const value = defaultOf(loader);
  if (value === undefined || !isGlob(value)) return value;
  return firstMatch(
    value,
    blsFiles.filter((f) => !live(f)),
  )?.id;
}

/** The entry text with its `sort-key` line set (or dropped, for undefined); every other line kept. */
export function withSortKey(text: string, key: string | undefined): string {
  const lines = text.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
  const kept = lines.filter((l) => !/^\s*sort-key(\s|$)/.test(l));
  return `${[...kept, ...(key === undefined ? [] : [`sort-key ${key}`])].join('\n')}\n`;
}

/**
 * systemd-boot's trial protocol (`sd-boot-counter`, README "Trial boots"): the trial entry counts
 * its boots in its file name (`+LEFT-DONE`, renamed by systemd-boot before the kernel starts), sort
 * keys rank it first and the good layer second, and `default imgbased-*` boots the first of them:
 * the trial while it has boots left, the good layer after. Every step is one rename or one
 * rewrite; the order makes each cut boot the trial or the good layer.
 */
export function systemdBootTrial(files: BootFiles, paths: () => Promise<TrialPaths>): BootloaderTrial<TrialParse> {
  async function renameEntry(directory: string, file: BlsFile, to: string): Promise<void> {
    if (file.fileName === to) return;
    await files.rename(`${directory}/${file.fileName}`, `${directory}/${to}`);
    await files.syncDirectory(directory);
  }

  async function setSortKey(directory: string, file: BlsFile, key: string | undefined): Promise<void> {
    const text = file.text ?? '';
    const wanted = withSortKey(text, key);
    if (wanted !== text) await files.replace(`${directory}/${file.fileName}`, wanted);
  }

  /** `default` naming entry `id` as it is among `named` (a pattern for a counted file: defaultValueFor). */
  async function setLoaderDefault(loaderConf: string, loader: string, id: string, named: readonly NamedFile[]) {
    if (defaultOf(loader) === id) return;
    await files.replace(loaderConf, withDefaultValue(loader, defaultValueFor(id, named)));
  }

  return {
    protocol: 'sd-boot-counter',
    async armed(_location, before: BootConfiguration<TrialParse>) {
      const { blsFiles, loader } = before.parsed;
      const trial = trialFile(blsFiles);
      if (trial === undefined || defaultOf(loader) !== TRIAL_PATTERN) return undefined;
      // Blessed (no counter): systemd-boot boots it at least once more.
      return { entryId: trial.id, left: trial.tries?.left ?? 1 };
    },
    async arm(_location, entryId, left, before: BootConfiguration<TrialParse>) {
      const { entries, loaderConf } = await paths();
      const { blsFiles, loader } = before.parsed;
      const good = before.defaultId;
      const goodFile = blsFiles.find((f) => f.id === good);
      const trial = blsFiles.find((f) => f.id === entryId);
      if (good === undefined || goodFile === undefined || trial === undefined) {
        throw new BootConfigInvalidError(loaderConf, 'a trial needs a default entry to fall back on');
      }
      for (const file of [goodFile, trial]) {
        if (!globMatches(TRIAL_PATTERN, file.fileName)) {
          throw new BootConfigInvalidError(loaderConf, `${file.fileName} is not an imgbased entry (${TRIAL_PATTERN})`);
        }
      }
      // While the default names the good entry exactly, nothing below changes what boots.
      await setLoaderDefault(loaderConf, loader, good, blsFiles);
      for (const file of blsFiles) {
        const key = fieldOf(file, 'sort-key');
        if (file !== goodFile && file !== trial && key !== undefined && OWN_SORT_KEYS.includes(key)) {
          await setSortKey(entries, file, undefined);
        }
      }
      // The good entry must never count (an exhausted good entry would sort after the trial).
      await setSortKey(entries, goodFile, GOOD_SORT_KEY);
      await renameEntry(entries, goodFile, blsFileName(goodFile.id));
      await setSortKey(entries, trial, TRIAL_SORT_KEY);
      await renameEntry(entries, trial, blsFileName(trial.id, { left: Math.max(1, Math.min(9, left)), done: 0 }));
      // The commit point: from here systemd-boot boots the trial while it has boots left.
      await files.replace(loaderConf, withDefault(loader, TRIAL_PATTERN));
    },
    async disarm(_location, before: BootConfiguration<TrialParse>, makeDefault) {
      const { entries, loaderConf } = await paths();
      const { blsFiles, loader } = before.parsed;
      const trial = trialFile(blsFiles);
      let renamedTrial: BlsFile | undefined = trial;
      if (trial !== undefined) {
        // Marked good: the plain name (as systemd-bless-boot does), still first under the pattern.
        // Otherwise spent (`+0-DONE`, what bootctl lists as bad): sorted last, the pattern boots the good one.
        const to =
          makeDefault === trial.id
            ? blsFileName(trial.id)
            : blsFileName(trial.id, { left: 0, done: trial.tries?.done ?? 0 });
        await renameEntry(entries, trial, to);
        renamedTrial = { ...trial, fileName: to };
      }
      const target = makeDefault ?? before.defaultId;
      const named = blsFiles.map((f) => (f === trial && renamedTrial !== undefined ? renamedTrial : f));
      if (target !== undefined) await setLoaderDefault(loaderConf, loader, target, named);
      // Under a plain default the sort keys only order the menu: back to none.
      if (target !== undefined) {
        for (const file of blsFiles) {
          const key = fieldOf(file, 'sort-key');
          if (key === undefined || !OWN_SORT_KEYS.includes(key)) continue;
          await setSortKey(entries, file === trial && renamedTrial !== undefined ? renamedTrial : file, undefined);
        }
      }
      return { defaultWritten: makeDefault !== undefined };
    },
  };
}
