import type { MemoryBootFiles } from '@imgbased/core/testing';

/**
 * What systemd-boot 252 does at power-on with Type #1 entries, written from its behaviour (as booted in
 * test-e2e/tests/trial-systemd-boot.e2e.test.ts), apart from the plugin's own reading of it: ids are
 * whole file names, case folded; spent entries (`+0…`) last, then entries with a sort key (by key), then
 * the others, highest id first; `default` is a glob, the first match boots (none: the first entry); a
 * counted entry is renamed `+LEFT-1-DONE+1` before its kernel starts. Returns the booted `img.bootid=`.
 */
export function powerOn(files: MemoryBootFiles, esp: string): string | undefined {
  const directory = `${esp}/loader/entries`;
  const entries = [...files.files.keys()]
    .filter((p) => p.startsWith(`${directory}/`) && p.endsWith('.conf'))
    .map((p) => {
      const name = p.slice(directory.length + 1);
      const text = files.files.get(p) ?? '';
      const counter = /\+(\d+)(?:-(\d+))?\.conf$/.exec(name);
      return {
        path: p,
        name,
        id: name.toLowerCase(),
        left: counter ? Number(counter[1]) : undefined,
        done: counter ? Number(counter[2] ?? 0) : 0,
        sortKey: /^sort-key\s+(\S+)/m.exec(text)?.[1],
        bootId: /img\.bootid=(\S+)/.exec(text)?.[1],
      };
    });
  entries.sort((a, b) => {
    if ((a.left === 0) !== (b.left === 0)) return a.left === 0 ? 1 : -1;
    if ((a.sortKey === undefined) !== (b.sortKey === undefined)) return a.sortKey === undefined ? 1 : -1;
    if (a.sortKey !== b.sortKey) return (a.sortKey ?? '') < (b.sortKey ?? '') ? -1 : 1;
    return b.id.localeCompare(a.id, 'en', { numeric: true });
  });
  const loader = files.files.get(`${esp}/loader/loader.conf`) ?? '';
  const pattern = /^default\s+(\S+)/m.exec(loader)?.[1]?.toLowerCase();
  const glob =
    pattern === undefined
      ? undefined
      : new RegExp(`^${pattern.replace(/[.+]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const chosen = entries.find((e) => glob?.test(e.id)) ?? entries[0];
  if (chosen === undefined) return undefined;
  if (chosen.left !== undefined && chosen.left > 0) {
    const stem = chosen.name.replace(/\+\d+(?:-\d+)?\.conf$/, '');
    const text = files.files.get(chosen.path) as string;
    files.files.delete(chosen.path);
    files.files.set(`${directory}/${stem}+${chosen.left - 1}-${chosen.done + 1}.conf`, text);
  }
  return chosen.bootId;
}
