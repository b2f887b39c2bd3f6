// loader.conf's `default` for a counted entry (`boot_counting_tries`): systemd-boot 252 matches it against
// whole file names, counter included, and renames the file at every boot (systemd-bless-boot once more,
// to `<id>.conf`). Booted by powerOn (testing/power-on.ts), the model of 252 the trial tests use.
import { bootFiles, type DesiredBootEntry, entryIdForLayer, ManagedBootloader, parseBlsFileName } from '@imgbased/core';
import { MemoryBootFiles, ScriptedRunner } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import systemdBootPlugin from './index.js';
import { ANY_COUNTER, defaultOf, defaultValueFor } from './loader-conf.js';
import { globMatches } from './loader-order.js';
import { systemdBootSettings } from './settings.js';
import { powerOn } from './testing/power-on.js';

const ESP = '/efi';
const ENTRIES = `${ESP}/loader/entries`;
const LOADER = `${ESP}/loader/loader.conf`;
const id = entryIdForLayer;
/** A foreign entry systemd-boot ranks first (its sort key): what boots when `default` matches nothing. */
const RESCUE = 'title Rescue\nlinux /rescue/vmlinuz\nsort-key aaa\n';

let files: MemoryBootFiles;

function plugin(tries: number): ManagedBootloader {
  const settings = systemdBootSettings.parse({ esp_dir: ESP, boot_counting_tries: String(tries) });
  const runner = new ScriptedRunner({ strict: true });
  const made = systemdBootPlugin.create({ runner, files: bootFiles(files), bootDir: '/boot', settings });
  return new ManagedBootloader(made, files, { filesystemType: async () => 'vfat' });
}

function layer(name: string): DesiredBootEntry {
  return {
    layer: name,
    title: name,
    version: '6.1.0',
    options: [`img.bootid=${name}`],
    files: { kernel: '/src/vmlinuz' },
  };
}

const names = () =>
  [...files.files.keys()].filter((p) => p.startsWith(`${ENTRIES}/`)).map((p) => p.slice(ENTRIES.length + 1));

/** systemd-bless-boot after a good boot: the counted file of `entryId` renamed `<id>.conf`. */
function bless(entryId: string): void {
  const name = names().find((n) => parseBlsFileName(n)?.id === entryId && n !== `${entryId}.conf`);
  if (name === undefined) throw new Error(`${entryId} has no counter`);
  files.files.set(`${ENTRIES}/${entryId}.conf`, files.files.get(`${ENTRIES}/${name}`)!);
  files.files.delete(`${ENTRIES}/${name}`);
}

beforeEach(() => {
  files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz', 'KERNEL');
  files.files.set(LOADER, 'timeout 3\n');
  files.files.set(`${ENTRIES}/rescue.conf`, RESCUE);
  files.files.set('/efi/rescue/vmlinuz', 'R');
});

describe('a counted entry as the default', () => {
  it('a rewrite making a new counted entry the default names it by a pattern: it boots counted, after each boot and blessed', async () => {
    const p = plugin(3);
    // No default before: the rewrite makes the last one it writes the default, both counted.
    await p.writeEntries([layer('B-1-0+10'), layer('B-1-0+1')]);
    expect(names()).toEqual(expect.arrayContaining([`${id('B-1-0+1')}+3.conf`, `${id('B-1-0+10')}+3.conf`]));
    expect(files.files.get(LOADER)).toBe(`timeout 3\ndefault ${id('B-1-0+1')}${ANY_COUNTER}\n`);
    expect((await p.state()).defaultId).toBe(id('B-1-0+1'));
    // Neither the rescue entry (first by its sort key) nor layer10 (first by id): layer1, renamed +2-1, +1-2.
    expect([powerOn(files, ESP), powerOn(files, ESP)]).toEqual(['B-1-0+1', 'B-1-0+1']);
    expect(names()).toContain(`${id('B-1-0+1')}+1-2.conf`);
    bless(id('B-1-0+1'));
    expect(powerOn(files, ESP)).toBe('B-1-0+1');
    expect((await p.state()).defaultId).toBe(id('B-1-0+1'));
    // A later rewrite leaves the pattern as it is (it still matches the blessed file).
    const conf = files.files.get(LOADER);
    await p.writeEntries([layer('B-1-0+10'), layer('B-1-0+1')]);
    expect(files.files.get(LOADER)).toBe(conf);
  });

  it('setDefault of a counted entry keeps it counting, named by the pattern; a spent counter still goes', async () => {
    const p = plugin(3);
    await p.writeEntries([layer('B-1-0+1'), layer('B-1-0+2')]);
    await p.setDefault(id('B-1-0+1'));
    expect(names()).toContain(`${id('B-1-0+1')}+3.conf`);
    expect(files.files.get(LOADER)).toBe(`timeout 3\ndefault ${id('B-1-0+1')}${ANY_COUNTER}\n`);
    expect(powerOn(files, ESP)).toBe('B-1-0+1');
    expect(powerOn(files, ESP)).toBe('B-1-0+1');
    expect(powerOn(files, ESP)).toBe('B-1-0+1');
    expect(names()).toContain(`${id('B-1-0+1')}+0-3.conf`);
    await p.setDefault(id('B-1-0+2'));
    await p.setDefault(id('B-1-0+1'));
    expect(names()).toContain(`${id('B-1-0+1')}.conf`);
    expect(files.files.get(LOADER)).toBe(`timeout 3\ndefault ${id('B-1-0+1')}.conf\n`);
    expect(powerOn(files, ESP)).toBe('B-1-0+1');
  });

  it('repairs a plain default left naming a counted file (written before defaults named counters)', async () => {
    const p = plugin(3);
    await p.writeEntries([layer('B-1-0+1')]);
    files.files.set(LOADER, `timeout 3\ndefault ${id('B-1-0+1')}.conf\n`);
    expect(powerOn(files, ESP)).toBeUndefined(); // the rescue entry
    await p.writeEntries([layer('B-1-0+1')]);
    expect(files.files.get(LOADER)).toBe(`timeout 3\ndefault ${id('B-1-0+1')}${ANY_COUNTER}\n`);
    expect(powerOn(files, ESP)).toBe('B-1-0+1');
  });
});

describe("systemd-boot's default matching (252's efi_fnmatch)", () => {
  const pattern = `imgbased-b-1-0-layer1${ANY_COUNTER}`;

  it.each([
    ['imgbased-B-1-0-layer1.conf', true],
    ['imgbased-B-1-0-layer1+3.conf', true],
    ['imgbased-B-1-0-layer1+2-1.conf', true],
    ['imgbased-B-1-0-layer1+0-12.conf', true],
    ['imgbased-B-1-0-layer10.conf', false],
    ['imgbased-B-1-0-layer10+3.conf', false],
    ['imgbased-B-1-0-layer1.old.conf', false],
    ['imgbased-B-1-0-layer1.bak.conf', false],
    ['imgbased-B-1-0-layer1-x.conf', false],
    ['imgbased-B-1-0.conf', false],
  ])('the pattern for layer1 against %s: %s', (fileName, matches) => {
    expect(globMatches(pattern, fileName)).toBe(matches);
  });

  it('reads sets, ranges, escapes and stars as 252 does', () => {
    expect(globMatches('a[a-c-f]', 'a-')).toBe(true);
    expect(globMatches('a[a-c-f]', 'ad')).toBe(false);
    expect(globMatches('[]x]', ']')).toBe(true);
    expect(globMatches('a\\*', 'a*')).toBe(true);
    expect(globMatches('a\\*', 'ab')).toBe(false);
    expect(globMatches('a*b?', 'AxxBc')).toBe(true);
    expect(globMatches('a[bc', 'ab')).toBe(false);
    expect(globMatches('imgbased-*.conf', 'imgbased-x+2-1.conf')).toBe(true);
  });

  it('names the counted file as it is when the pattern would match another file too, and reads either back', () => {
    const counted = { id: 'x', fileName: 'x+3.conf' };
    expect(defaultValueFor('x', [counted, { id: 'x0', fileName: 'x0.conf' }])).toBe(`x${ANY_COUNTER}`);
    expect(defaultValueFor('x', [counted, { id: 'x.copy', fileName: 'x.copy.conf' }])).toBe('x+3.conf');
    expect(defaultValueFor('x', [{ id: 'x', fileName: 'x.conf' }])).toBe('x.conf');
    expect(defaultOf(`default x${ANY_COUNTER}\n`)).toBe('x');
    expect(defaultOf('default x+3.conf\n')).toBe('x');
    expect(defaultOf('default imgbased-*.conf\n')).toBe('imgbased-*');
  });
});
