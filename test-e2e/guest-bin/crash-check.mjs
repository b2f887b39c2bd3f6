// Runs inside the test VM: reads the host state with the real tools (lvs, the extlinux.conf text or
// grub's files, the files on /boot, findmnt, the lock directory) and lists every way it breaks
// imgbased's invariants. Independent of imgbased's own code: nothing here imports it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { grubConf } from './crash-grub.mjs';

export function run(argv, env = {}) {
  const [program, ...args] = argv;
  const r = spawnSync(program, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ?? '') };
}

export function sh(script, env = {}) {
  const r = run(['sh', '-c', script], env);
  if (r.status !== 0) throw new Error(`sh failed (${r.status}): ${script}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** LVs and the VG's tags, as lvm itself reports them. */
export function volumes() {
  const r = run(['lvm', 'lvs', '--reportformat', 'json', '-o', 'lv_name,lv_tags,vg_tags', 'onn']);
  if (r.status !== 0) return { lvs: [], vgTags: [] };
  const rows = JSON.parse(r.stdout).report[0].lv;
  const split = (t) => (t ? t.split(',') : []);
  return {
    lvs: rows.map((row) => ({ name: row.lv_name, tags: split(row.lv_tags) })),
    vgTags: split(rows[0]?.vg_tags ?? ''),
  };
}

/** extlinux.conf's DEFAULT and LABEL blocks: label, kernel, initrd, img.bootid. */
export function extlinuxConf(path = '/boot/extlinux/extlinux.conf') {
  if (!existsSync(path)) return { defaultLabel: undefined, blocks: [] };
  let defaultLabel;
  const blocks = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    const [keyword, ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    switch (keyword?.toUpperCase()) {
      case 'DEFAULT':
        defaultLabel = value;
        break;
      case 'LABEL':
        blocks.push({ label: value, kernel: undefined, initrd: undefined, bootId: undefined });
        break;
      case 'KERNEL':
      case 'LINUX':
        if (blocks.at(-1)) blocks.at(-1).kernel = value;
        break;
      case 'INITRD':
        if (blocks.at(-1)) blocks.at(-1).initrd = value;
        break;
      case 'APPEND':
        if (blocks.at(-1)) blocks.at(-1).bootId = /(?:^|\s)img\.bootid=(\S+)/.exec(value)?.[1];
        break;
    }
  }
  return { defaultLabel, blocks };
}

/**
 * The bootloader's configuration on /boot: grub's when it has one, else extlinux's. `nextLabel`: grub's
 * one-shot (next_entry). A label names an entry by its label (id) or, on grub, its title.
 */
export function bootConf() {
  return grubConf() ?? extlinuxConf();
}

const named = (conf, label) =>
  conf.blocks.find((b) => b.label === label || (b.title !== undefined && b.title === label));

/** Names under `dir`, recursively, relative to it. */
function walk(dir, prefix = '') {
  const names = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const name = `${prefix}${entry.name}`;
    names.push(name);
    if (entry.isDirectory() && !entry.isSymbolicLink()) names.push(...walk(`${dir}/${entry.name}`, `${name}/`));
  }
  return names;
}

/** The layers a boot now may boot: LVs tagged imgbased:layer, settled, in a settled group. */
export function committedLayers(state = volumes()) {
  if (state.vgTags.includes('imgbased:pending')) return new Set();
  return new Set(
    state.lvs
      .filter((v) => v.tags.includes('imgbased:layer') && !v.tags.includes('imgbased:pending'))
      .map((v) => v.name),
  );
}

/** The entry a reboot now picks: the one-shot, else the default, else (grub) the first; undefined: none. */
function nextBootEntry(conf) {
  const label = conf.nextLabel ?? conf.defaultLabel;
  // grub with neither variable boots its first entry.
  return 'nextLabel' in conf && label === undefined ? conf.blocks[0] : named(conf, label);
}

/** What a reboot now would boot: the entry's layer (img.bootid), else its label (a foreign entry). */
export function nextBoot() {
  const entry = nextBootEntry(bootConf());
  return entry === undefined ? undefined : (entry.bootId ?? entry.label);
}

/**
 * Whether a reboot now would boot: broken when the entry it picks (the one-shot, else the default,
 * else grub's first) is absent, or boots a layer not committed, or its kernel is missing.
 */
export function bootableNow() {
  const conf = bootConf();
  const committed = committedLayers();
  if (conf.blocks.length === 0) return 'no entries';
  const entry = nextBootEntry(conf);
  if (!entry) {
    const label = conf.nextLabel ?? conf.defaultLabel;
    return `${conf.nextLabel !== undefined ? 'next_entry' : 'DEFAULT'} ${label} names no entry`;
  }
  if (entry.bootId !== undefined && !committed.has(entry.bootId))
    return `the next boot boots ${entry.bootId}, not committed`;
  if (!existsSync(`/boot${entry.kernel}`)) return `the next boot's kernel ${entry.kernel} is missing`;
  return undefined;
}

/** Every broken invariant, one line each; [] when the host state is consistent. */
export function violations({ lockDir = '/run/imgbased' } = {}) {
  const found = [];
  const state = volumes();
  const committed = committedLayers(state);
  for (const v of state.lvs.filter((l) => l.tags.includes('imgbased:pending'))) found.push(`pending volume ${v.name}`);
  if (state.vgTags.includes('imgbased:pending')) found.push('volume group still pending (layout --init unfinished)');
  const conf = bootConf();
  const seen = new Map();
  for (const block of conf.blocks) {
    seen.set(block.label, (seen.get(block.label) ?? 0) + 1);
    if (block.bootId === undefined) continue;
    if (!committed.has(block.bootId)) found.push(`entry ${block.label} boots ${block.bootId}, not a committed layer`);
    for (const file of [block.kernel, block.initrd]) {
      if (file !== undefined && !existsSync(`/boot${file}`)) found.push(`entry ${block.label} names missing ${file}`);
    }
  }
  for (const [label, count] of seen) if (count > 1) found.push(`${count} entries labelled ${label}`);
  const ids = conf.blocks.map((b) => b.bootId).filter(Boolean);
  for (const id of new Set(ids)) if (ids.filter((i) => i === id).length > 1) found.push(`several entries boot ${id}`);
  const isGrub = 'nextLabel' in conf;
  if (conf.blocks.length > 0 && (!isGrub || conf.defaultLabel !== undefined) && !named(conf, conf.defaultLabel)) {
    found.push(`${isGrub ? 'saved_entry' : 'DEFAULT'} ${conf.defaultLabel} names no entry`);
  }
  if (isGrub && conf.nextLabel !== undefined && !named(conf, conf.nextLabel)) {
    found.push(`next_entry ${conf.nextLabel} names no entry`);
  }
  for (const name of walk('/boot')) {
    if (name.endsWith('.imgbased-new')) found.push(`staging leftover /boot/${name}`);
    if (/^[^/]+\+\d+$/.test(name) && !committed.has(name)) found.push(`orphan /boot/${name}`);
  }
  const mounts = run(['findmnt', '-rn', '-o', 'TARGET']).stdout.split('\n');
  for (const target of mounts.filter((t) => t.includes('/imgbased-mnt-'))) found.push(`left mounted: ${target}`);
  for (const name of ['lock', 'lock.break']) if (existsSync(`${lockDir}/${name}`)) found.push(`lock held: ${name}`);
  return found;
}
