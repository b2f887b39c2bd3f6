import { CONFIG_FILES, type DocSection } from './settings.js';

/** Comment lines of at most ~100 columns. */
function comment(text: string, width = 98): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(`# ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(`# ${line}`);
  return lines;
}

/**
 * /etc/imgbased.conf as the package installs it: every section, every setting with its default,
 * commented out, each with one line on what it does. Uncommenting a line without changing it changes
 * nothing (a test proves it).
 */
export function commentedConfig(sections: readonly DocSection[]): string {
  const out = [
    '# imgbased configuration: imgbase(8), imgbased(8); every setting in imgbased.conf(5).',
    '# Every setting is here with its default, commented out: uncomment a line to change it.',
    ...comment(`Read in this order, later files overriding earlier ones: ${CONFIG_FILES.join(', ')}.`),
    '# Generated from imgbased’s schemas (apps/cli/src/docs); the package installs it as a conffile.',
  ];
  for (const section of sections) {
    out.push('', `[${section.name}]`, ...comment(`${section.description}.`));
    for (const setting of section.settings)
      out.push(...comment(setting.description), `#${setting.key} = ${setting.defaultText}`);
  }
  return `${out.join('\n')}\n`;
}
