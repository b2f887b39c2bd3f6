import { VERB_NAMES, VERBS } from '@imgbased/core';
import { EXIT_CODES } from '../exit-codes.js';
import type { DocOption, DocProgram } from './model.js';
import { header, paragraph, roff, tagged } from './roff.js';
import { CONFIG_FILES, type DocSection } from './settings.js';

function optionEntry(option: DocOption): string[] {
  const names = option.short ? `${option.short}, ${option.long}` : option.long;
  const extra = [
    option.choices ? `one of: ${option.choices.join(', ')}` : undefined,
    option.defaultValue !== undefined ? `default: ${option.defaultValue}` : undefined,
    option.repeatable ? 'may be given more than once' : undefined,
  ].filter(Boolean);
  return tagged(
    names,
    option.placeholder,
    extra.length ? `${option.description} (${extra.join('; ')})` : option.description,
  );
}

/** imgbase(8), from the commander program and the verb table. */
export function imgbaseManPage(program: DocProgram, version: string): string {
  const out = [
    ...header('imgbase', 8, version, 'System Administration'),
    '.SH NAME',
    `imgbase \\- ${roff(program.description.replace(/^./, (c) => c.toLowerCase()))}`,
    '.SH SYNOPSIS',
    '.B imgbase',
    '[\\fB\\-\\-json\\fR] [\\fB\\-\\-debug\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENT\\fR]',
    '.br',
    '.B imgbase \\-\\-version',
    '.SH DESCRIPTION',
    ...paragraph(
      'A host managed by imgbased runs from a layer: a writable LVM thin snapshot of a read-only base (an OS image',
      'named by its NVR, e.g. Node-4.5-0.20220307.0). Every layer gets a boot entry; rolling back is booting an',
      'earlier layer. imgbase is the command line; imgbased(8) serves the same verbs over a local API.',
    ),
    ...paragraph(
      'Every command takes --json (one versioned JSON envelope on stdout, for success and failure alike, usage',
      'mistakes included) and --debug (every step and command on stderr). Commands that change the system take',
      '--dry-run (print the commands that would run, change nothing) and need root, except in a dry run; reading',
      'LVM needs root too. Changes are serialised by one lock and undo their own steps when they fail or are',
      'interrupted. On a terminal, the running step is shown on one line of stderr, cleared at the end.',
    ),
    '.SH COMMANDS',
  ];
  for (const command of program.commands) {
    const args = command.arguments.map((a) => (a.required ? `\\fI${roff(a.name)}\\fR` : `[\\fI${roff(a.name)}\\fR]`));
    out.push(`.SS "${roff(command.name)}${args.length ? ` ${args.join(' ')}` : ''}"`, roff(`${command.description}.`));
    if (command.changingVerbs.length > 0)
      out.push(
        '.br',
        roff(`Changes the system (${command.changingVerbs.join(', ')}): run as root; a dry run needs no root.`),
      );
    for (const argument of command.arguments) out.push(...tagged(argument.name, undefined, argument.description));
    for (const option of command.options) out.push(...optionEntry(option));
  }
  out.push('.SH GLOBAL OPTIONS');
  for (const option of program.globalOptions) out.push(...optionEntry(option));
  out.push('.SH EXIT STATUS');
  for (const exit of EXIT_CODES) out.push(...tagged(String(exit.code), undefined, exit.meaning));
  out.push(
    '.SH ENVIRONMENT',
    ...tagged('NO_COLOR', undefined, 'imgbase prints no colour, with or without it.'),
    ...tagged('TERM', undefined, 'dumb: no status line on the terminal.'),
    '.SH FILES',
    ...CONFIG_FILES.flatMap((file) => tagged(file, undefined, 'configuration, see imgbased.conf(5)')),
    ...tagged('/run/imgbased/lock', undefined, 'the lock held by the running change (pid and verb inside)'),
    '.SH EXAMPLES',
    '.nf',
    ...[
      'imgbase layout \\-\\-init Base\\-1\\-0 \\-\\-from onn/root',
      'imgbase layout',
      'imgbase layer \\-\\-add',
      'imgbase boot \\-\\-list',
      'imgbase \\-\\-json layout \\-\\-layers',
    ],
    '.fi',
    '.SH SEE ALSO',
    '.BR imgbased (8),',
    '.BR imgbased.conf (5),',
    '.BR lvmthin (7)',
  );
  return `${out.join('\n')}\n`;
}

/** imgbased(8): the daemon's options and the API's routes, from the verb table. */
export function imgbasedManPage(version: string): string {
  const out = [
    ...header('imgbased', 8, version, 'System Administration'),
    '.SH NAME',
    'imgbased \\- the imgbased daemon: the verbs of imgbase as an HTTP+JSON API on a Unix socket',
    '.SH SYNOPSIS',
    '.B imgbased',
    '[\\fB\\-\\-socket\\fR \\fIPATH\\fR] [\\fB\\-\\-debug\\fR]',
    '.SH DESCRIPTION',
    ...paragraph(
      'imgbased serves the engine of imgbase(8) on a Unix socket, never on TCP: by default',
      '/run/imgbased/imgbased.sock, or the socket systemd passes (imgbased.socket: socket activation, mode 0660,',
      'group imgbased). Members of the group imgbased may use it. It takes the same lock as imgbase, so',
      'changes made through either are serialised. Logs go to the journal (journalctl -u imgbased).',
    ),
    ...paragraph(
      'Every reading verb is a GET route; every changing verb is a job: POST /v1/jobs with',
      '{"verb": VERB, "args": {...}, "dryRun": false}; GET /v1/jobs/ID/events streams its events (Server-Sent',
      'Events), DELETE /v1/jobs/ID cancels it. Answers are the JSON envelopes of imgbase --json. The OpenAPI',
      'document is GET /v1/openapi.json.',
    ),
    '.SH OPTIONS',
    ...tagged('--socket', 'PATH', 'listen on PATH instead (when systemd passes no socket)'),
    ...tagged('--debug', undefined, 'log every step and command'),
    ...tagged('-h, --help', undefined, 'show the usage'),
    ...tagged('--version', undefined, 'print the version (the same as imgbase --version)'),
    '.SH ROUTES',
  ];
  for (const verb of VERB_NAMES) {
    const { http, kind, summary } = VERBS[verb];
    const route = kind === 'read' && http ? `${http.method} ${http.path}` : `POST /v1/jobs {"verb":"${verb}"}`;
    out.push(...tagged(route, undefined, summary));
  }
  out.push(
    '.SH EXIT STATUS',
    ...tagged('0', undefined, 'stopped on SIGTERM or SIGINT after cancelling (and undoing) the running jobs'),
    ...tagged('1', undefined, 'could not start or serve (the journal says why)'),
    ...tagged('2', undefined, 'usage mistake'),
    '.SH ENVIRONMENT',
    ...tagged('IMGBASED_SOCKET', undefined, 'the socket path, as --socket'),
    '.SH FILES',
    ...tagged('/run/imgbased/imgbased.sock', undefined, 'the API socket'),
    ...tagged('/usr/lib/systemd/system/imgbased.socket, imgbased.service', undefined, 'the units'),
    ...tagged('/etc/imgbased.conf', undefined, 'configuration, [daemon] section: see imgbased.conf(5)'),
    '.SH SEE ALSO',
    '.BR imgbase (8),',
    '.BR imgbased.conf (5),',
    '.BR systemd.socket (5)',
  );
  return `${out.join('\n')}\n`;
}

/** imgbased.conf(5): every section and setting with its default, from the schemas. */
export function configManPage(sections: readonly DocSection[], version: string): string {
  const out = [
    ...header('imgbased.conf', 5, version, 'File Formats'),
    '.SH NAME',
    'imgbased.conf \\- configuration of imgbase and imgbased',
    '.SH SYNOPSIS',
    ...CONFIG_FILES.flatMap((file) => ['.B', roff(file), '.br']),
    '.SH DESCRIPTION',
    ...paragraph(
      'INI files, read in the order above: later files override earlier ones, key by key; the files of a .d',
      'directory are read in byte order of their names. Packages and images ship /usr/lib/imgbased/, the',
      'admin writes /etc/. An unknown section or key, or a bad value, is an error that names the file and',
      'the key. Sections named KIND.PLUGIN belong to a plugin and are checked by it. Lists are written',
      'space- or comma-separated. The installed /etc/imgbased.conf has every setting commented out with its',
      'default.',
    ),
  ];
  for (const section of sections) {
    out.push(`.SH "[${section.name}]"`, roff(`${section.description}.`));
    for (const setting of section.settings)
      out.push(...tagged(`${setting.key} =`, setting.defaultText || '(empty)', setting.description));
  }
  out.push('.SH SEE ALSO', '.BR imgbase (8),', '.BR imgbased (8)');
  return `${out.join('\n')}\n`;
}
