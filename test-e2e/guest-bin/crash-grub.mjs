// Runs inside the test VM (crash-check.mjs): grub's boot configuration read as grub reads it, without
// imgbased's code: the environment block (saved_entry, next_entry), and the entries of imgbase's menu
// file (Debian's grub without blscfg) or the BLS files (grub with blscfg, as the original lays out).
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The grub directory /boot has (grub2 on Fedora/RHEL hosts), or undefined: no grub. */
export function grubDir(boot = '/boot') {
  for (const dir of [`${boot}/grub2`, `${boot}/grub`]) if (existsSync(`${dir}/grub.cfg`)) return dir;
  return undefined;
}

/** `key=value` lines of a grubenv file ('#' lines are its header and padding). */
export function grubEnv(file) {
  if (!existsSync(file)) return {};
  const env = {};
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    if (line.startsWith('#') || !line.includes('=')) continue;
    env[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return env;
}

const unquote = (word) => word.replace(/^'(.*)'$/, '$1');
const bootIdOf = (options) => /(?:^|\s)img\.bootid=(\S+)/.exec(options)?.[1];

/** menuentry blocks of imgbase's menu file: `--id`, title, linux, initrd, img.bootid. */
function menuEntries(file) {
  const blocks = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    const entry = /^menuentry\s+('[^']*'|\S+).*\s--id\s+('[^']*'|\S+)/.exec(line);
    if (entry) {
      blocks.push({ label: unquote(entry[2]), title: unquote(entry[1]), kernel: undefined, initrd: undefined });
      continue;
    }
    const block = blocks.at(-1);
    const [keyword, first, ...rest] = line.split(/\s+/);
    if (!block) continue;
    if (keyword === 'linux') {
      block.kernel = unquote(first ?? '');
      block.bootId = bootIdOf(rest.join(' '));
    } else if (keyword === 'initrd') block.initrd = unquote(first ?? '');
  }
  return blocks;
}

/** BLS type #1 files: the id is the file name without `.conf`. */
function blsEntries(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.conf'))
    .sort()
    .map((name) => {
      const keys = {};
      for (const line of readFileSync(`${dir}/${name}`, 'utf8').split('\n')) {
        const match = /^(\S+)\s+(.*)$/.exec(line.trim());
        if (match) keys[match[1]] = match[2];
      }
      return {
        label: name.slice(0, -'.conf'.length),
        title: keys.title,
        kernel: keys.linux,
        initrd: keys.initrd,
        bootId: bootIdOf(keys.options ?? ''),
      };
    });
}

/**
 * grub's configuration: the entries (menu file when there is one, else the BLS files), the default
 * (saved_entry) and the one-shot (next_entry). An entry answers to its id and to its title.
 */
export function grubConf(boot = '/boot') {
  const dir = grubDir(boot);
  if (dir === undefined) return undefined;
  const env = grubEnv(`${dir}/grubenv`);
  const menu = `${dir}/imgbased.cfg`;
  const blocks = existsSync(menu) ? menuEntries(menu) : blsEntries(`${boot}/loader/entries`);
  return { defaultLabel: env.saved_entry || undefined, nextLabel: env.next_entry || undefined, blocks };
}
