/** `default` in loader.conf is a glob over entry ids, which end in `.conf` in systemd-boot. */
export function loaderId(id: string): string {
  return `${id}.conf`;
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

/** The entry id of loader.conf's (last) `default` line. */
export function defaultOf(loader: string): string | undefined {
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
