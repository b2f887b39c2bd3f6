import { globMatches, isGlob } from './loader-order.js';

/** `default` in loader.conf is a glob over entry ids, which end in `.conf` in systemd-boot. */
export function loaderId(id: string): string {
  return `${id}.conf`;
}

/**
 * After an id in `default`: `.conf`, or a boot counter (`+LEFT[-DONE].conf`). systemd-boot 252 matches
 * `default` against whole file names, counter included, and renames a counted file at every boot (and
 * systemd-bless-boot to `<id>.conf` once blessed): only a pattern keeps naming it. `[0-9c]` keeps
 * `<id>.old.conf` out (not `<id>.1.conf`: defaultValueFor checks the files); another imgbased id never
 * goes on after `layer<N>`, so it never matches one (`layer1` is no prefix of `layer10` here).
 */
export const ANY_COUNTER = '[.+][0-9c]*';

/** An entry as `default` names it: its id and its file name now. */
export interface NamedFile {
  readonly id: string;
  readonly fileName: string;
}

/**
 * The `default` value that boots entry `id` among `files`: `<id>.conf` for a plain file; for a counted
 * one `<id>[.+][0-9c]*`, counted or blessed, unless that would match another file too (then the file's
 * name as it is: right until its next boot).
 */
export function defaultValueFor(id: string, files: readonly NamedFile[]): string {
  const target = files.find((f) => f.id === id);
  if (target === undefined || target.fileName.toLowerCase() === loaderId(id).toLowerCase() || isGlob(id)) {
    return loaderId(id);
  }
  const pattern = `${id}${ANY_COUNTER}`;
  const others = files.filter((f) => f.fileName !== target.fileName && globMatches(pattern, f.fileName));
  return others.length === 0 ? pattern : target.fileName;
}

/** Why loader.conf is not one systemd-boot reads; undefined when it is fine. */
export function loaderConfProblem(text: string): string | undefined {
  if (text.includes('\0') || text.includes('\uFFFD')) return 'binary data in loader.conf';
  for (const [index, line] of text.split('\n').entries()) {
    const trimmed = line.trim();
    if (trimmed !== '' && !trimmed.startsWith('#') && !/^[a-z][a-z0-9_-]*(\s|$)/i.test(trimmed)) {
      return `line ${index + 1}: not 'key value'`;
    }
  }
  return undefined;
}

/** loader.conf's (last) `default` value as written. */
export function rawDefaultOf(loader: string): string | undefined {
  const line = loader
    .split('\n')
    .map((l) => l.trim())
    .findLast((l) => /^default\s/.test(l));
  return line?.replace(/^default\s+/, '').trim();
}

/** The entry id of loader.conf's (last) `default` line: its value without `.conf` and a counter; a pattern as is. */
export function defaultOf(loader: string): string | undefined {
  const value = rawDefaultOf(loader);
  if (value === undefined) return undefined;
  const stem = value.endsWith(ANY_COUNTER) ? value.slice(0, -ANY_COUNTER.length) : undefined;
  if (stem !== undefined && stem !== '' && !isGlob(stem)) return stem;
  if (!value.endsWith('.conf')) return value;
  const id = value.slice(0, -'.conf'.length);
  return isGlob(id) ? id : id.replace(/\+\d+(-\d+)?$/, '');
}

/**
 * Whether loader.conf's `default`, a plain value, no longer names the file it should (`wanted`): a file
 * counted since, or written before default named counted files. A pattern (a trial's, or one naming a
 * counted file that is blessed now) is never stale.
 */
export function staleDefault(loader: string, wanted: string): boolean {
  const raw = rawDefaultOf(loader);
  return raw !== undefined && !isGlob(raw) && raw !== wanted;
}

/** loader.conf with its `default` line set to an entry (`<id>.conf`), every other line kept. */
export function withDefault(loader: string, id: string): string {
  return withDefaultValue(loader, loaderId(id));
}

/** loader.conf with its `default` line set to `value` as given, every other line kept. */
export function withDefaultValue(loader: string, value: string): string {
  const lines = loader.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
  const kept = lines.filter((l) => !/^\s*default\s/.test(l));
  return `${[...kept, `default ${value}`].join('\n')}\n`;
}
