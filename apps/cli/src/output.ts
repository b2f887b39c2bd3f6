import { type BootStateView, type ImgbasedError, type LayoutView, SCHEMA_VERSION } from '@imgbased/core';

/** The envelope of every `--json` answer: versioned, one object per invocation. */
export function jsonSuccess(verb: string, data: unknown): string {
  return `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, verb, data }, null, 2)}\n`;
}

export function jsonFailure(verb: string, error: ImgbasedError): string {
  return `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, verb, error: error.toJSON() }, null, 2)}\n`;
}

/** The original's tree: each base, then its layers indented with ` +- `. */
export function layoutTree(layout: LayoutView): string {
  const lines: string[] = [];
  for (const base of layout.bases) {
    lines.push(base.pinned ? `${base.name} (pinned)` : base.name);
    for (const layer of base.layers) lines.push(` +- ${layer.name}${bootStateNote(layer.bootState)}`);
  }
  for (const layer of layout.orphanLayers)
    lines.push(`${layer.name} (its base is gone)${bootStateNote(layer.bootState)}`);
  for (const name of layout.incomplete) lines.push(`${name} (incomplete: removed by the next change)`);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** `boot --list` and `layout`: a layer's trial-boot state after its name. */
export function bootStateNote(state: BootStateView | null): string {
  if (state === null) return '';
  if (state.state === 'trial') return `  (trial, ${state.attemptsLeft ?? '?'} boot(s) left)`;
  if (state.state === 'failed') return `  (failed: ${state.reason})`;
  return '  (good)';
}

/** A command line a person can paste into a shell. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)).join(' ');
}
