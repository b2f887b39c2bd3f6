// Small helpers for man pages in roff (man(7) macros), as groff and mandoc read them.

/** Text for roff: backslashes escaped, a leading dot or quote made harmless, dashes of options minus signs. */
export function roff(text: string): string {
  const escaped = text
    .replaceAll('\\', '\\e')
    // Dashes that start an option or sit inside one (--dry-run, -h) are minus signs, as typed in a shell.
    .replace(/(^|[\s([/|=])(-{1,2})([A-Za-z][\w-]*)/g, (_m, before: string, dashes: string, rest: string) => {
      return `${before}${dashes.replaceAll('-', '\\-')}${rest.replaceAll('-', '\\-')}`;
    });
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

/** A paragraph of several lines, each escaped. */
export function paragraph(...lines: string[]): string[] {
  return ['.PP', ...lines.map(roff)];
}

/** The page's header: `.TH NAME SECTION "" "SOURCE" "MANUAL"` (no date, so that rebuilds are byte-identical). */
export function header(name: string, section: number, version: string, manual: string): string[] {
  return [
    `.\\" Generated from imgbased's sources (apps/cli/src/docs): do not edit; run packaging/generate-docs.`,
    `.TH ${name.toUpperCase()} ${section} "" "imgbased ${version}" "${manual}"`,
  ];
}

/** A tagged paragraph: the tag in bold (with its argument in italics), then its text. */
export function tagged(tag: string, argument: string | undefined, text: string): string[] {
  const head = argument ? `.BI "${roff(tag)} " "${roff(argument)}"` : `.B ${roff(tag)}`;
  return ['.TP', head, roff(text)];
}
