import { type DesiredBootEntry, entryIdForLayer, resolveConfig } from '@imgbased/core';
import { MemoryBootFiles, ScriptedRunner } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { GrubBlsBootloader } from './grub-bls.js';
import { foreignGrubEntries, parseGrubMenu, renderGrubMenu } from './grub-menu.js';

const GRUB = '/boot/grub';
const MENU = `${GRUB}/imgbased.cfg`;
const GRUB_CFG = `set default=0\nmenuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-1234' {\n\tlinux /vmlinuz-6.1 root=UUID=1234 ro quiet\n\tinitrd /initrd.img-6.1\n}\nsource \${prefix}/imgbased.cfg\n`;

let files: MemoryBootFiles;
let runner: ScriptedRunner;
const id = entryIdForLayer;

/** grub-editenv over the in-memory files: a 1024-byte block of `k=v` lines padded with '#'. */
function fakeEditenv(): ScriptedRunner {
  const block = (vars: Record<string, string>) => {
    const body = `# GRUB Environment Block\n${Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\n`)
      .join('')}`;
    return body + '#'.repeat(1024 - body.length);
  };
  const parse = (text: string) => {
    if (!text.startsWith('# GRUB Environment Block\n') || text.length !== 1024) return undefined;
    return Object.fromEntries(
      text
        .split('\n')
        .slice(1)
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  };
  return new ScriptedRunner().on(['findmnt'], { stdout: 'ext4\n' }).on(['grub-editenv'], (spec) => {
    const [, file, verb, ...rest] = spec.argv as string[];
    if (verb === 'create') {
      files.files.set(file!, block({}));
      return {};
    }
    const vars = parse(files.files.get(file!) ?? '');
    if (!vars) return { exitCode: 1, stderr: 'grub-editenv: error: invalid environment block.\n' };
    if (verb === 'list')
      return {
        stdout: Object.entries(vars)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(''),
      };
    for (const a of rest) {
      if (verb === 'set') vars[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
      else delete vars[a];
    }
    files.files.set(file!, block(vars));
    return {};
  });
}

function plugin(mode: 'auto' | 'blscfg' | 'menu' = 'auto'): GrubBlsBootloader {
  const p = new GrubBlsBootloader(
    runner,
    resolveConfig([{ path: 't', sections: { bootloader: { grub_mode: mode } } }]),
  );
  p.ops = files;
  return p;
}

function layer(name: string, source: DesiredBootEntry['files']): DesiredBootEntry {
  return {
    layer: name,
    title: `${name} (6.1.0)`,
    version: '6.1.0',
    options: ['quiet', `img.bootid=${name}`],
    files: source,
  };
}
const fromHost = { kernel: '/src/vmlinuz-6.1.0', initrd: '/src/initrd.img-6.1.0' };

function fresh(): void {
  files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz-6.1.0', 'KERNEL');
  files.files.set('/src/initrd.img-6.1.0', 'INITRD');
  files.files.set(`${GRUB}/grub.cfg`, GRUB_CFG);
}

beforeEach(() => {
  fresh();
  runner = fakeEditenv();
});

describe('the grub menu file', () => {
  const entry = {
    id: 'imgbased-B-1-0-layer1',
    title: "B-1-0+1 (6.1.0) it's",
    version: '6.1.0',
    kernel: '/B-1-0+1/vmlinuz-6.1.0',
    initrd: '/B-1-0+1/initrd.img-6.1.0',
    options: ['quiet', 'a=$b', 'img.bootid=B-1-0+1'],
  };

  it('round-trips imgbased’s entries, quoting what grub would expand', () => {
    const text = renderGrubMenu([entry]);
    expect(text).toContain("\tlinux /B-1-0+1/vmlinuz-6.1.0 quiet 'a=$b' img.bootid=B-1-0+1\n");
    expect(parseGrubMenu(text)).toEqual([{ ...entry, layer: 'B-1-0+1' }]);
    expect(renderGrubMenu(parseGrubMenu(text))).toBe(text);
  });

  it('lists a grub.cfg’s own entries as foreign', () => {
    expect(foreignGrubEntries(GRUB_CFG)).toEqual([
      {
        id: 'gnulinux-simple-1234',
        title: 'Debian GNU/Linux',
        version: '',
        kernel: '/vmlinuz-6.1',
        initrd: '/initrd.img-6.1',
        options: ['root=UUID=1234', 'ro', 'quiet'],
        layer: undefined,
      },
    ]);
  });

  it.each([
    ['not ours', 'menuentry x --id y {\n linux /k\n}\n'],
    ['unclosed', `${renderGrubMenu([entry]).slice(0, -3)}\n`],
    ['binary', `${renderGrubMenu([entry])}\0`],
  ])('refuses a corrupted menu: %s', (_what, text) => {
    expect(() => parseGrubMenu(text)).toThrow();
  });
});

describe('GrubBlsBootloader', () => {
  it('detects grub and picks the mode from grub.cfg', async () => {
    expect(await plugin().detect()).toBe(true);
    expect(await plugin().mode()).toBe('menu');
    files.files.set(`${GRUB}/grub.cfg`, 'insmod blscfg\nblscfg\n');
    expect(await plugin().mode()).toBe('blscfg');
  });

  it('menu mode: writes the menu, copies kernels, sets saved_entry, keeps grub.cfg entries listed', async () => {
    const p = plugin();
    expect(await p.writeEntries([layer('B-1-0+1', fromHost)])).toEqual({ atomic: false });
    expect(files.files.get('/boot/B-1-0+1/vmlinuz-6.1.0')).toBe('KERNEL');
    const state = await p.state();
    expect(state.entries.map((e) => [e.id, e.layer])).toEqual([
      [id('B-1-0+1'), 'B-1-0+1'],
      ['gnulinux-simple-1234', undefined],
    ]);
    expect(state.defaultId).toBe(id('B-1-0+1'));
    expect(files.files.get(`${GRUB}/grub.cfg`)).toBe(GRUB_CFG);
  });

  it('sets the default and a one-shot in the environment block, and refuses unknown entries', async () => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', fromHost), layer('B-1-0+2', fromHost)]);
    await p.setDefault(id('B-1-0+1'));
    expect(await p.setNextBoot(id('B-1-0+2'))).toEqual({ atomic: true });
    expect(await p.state()).toMatchObject({ defaultId: id('B-1-0+1'), nextId: id('B-1-0+2') });
    expect(runner.commandLines).toContain(`grub-editenv ${GRUB}/.grubenv.imgbased-new set next_entry=${id('B-1-0+2')}`);
    const before = files.snapshot();
    await expect(p.setDefault('nope')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    await expect(p.setNextBoot('nope')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    expect(files.snapshot()).toBe(before);
  });

  it('blscfg mode: writes BLS entries and removes only its own', async () => {
    files.files.set(`${GRUB}/grub.cfg`, 'blscfg\n');
    files.files.set('/boot/loader/entries/fedora.conf', 'title Fedora\nlinux /vmlinuz\n');
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', fromHost), layer('B-1-0+2', fromHost)]);
    expect(files.files.get(`/boot/loader/entries/${id('B-1-0+2')}.conf`)).toContain('linux /B-1-0+2/vmlinuz-6.1.0');
    await p.writeEntries([layer('B-1-0+2', kept('B-1-0+2'))]);
    expect([...files.files.keys()].filter((f) => f.startsWith('/boot/loader/entries/')).sort()).toEqual([
      '/boot/loader/entries/fedora.conf',
      `/boot/loader/entries/${id('B-1-0+2')}.conf`,
    ]);
    expect(files.files.has('/boot/B-1-0+1/vmlinuz-6.1.0')).toBe(false);
  });

  it.each([
    ['a corrupted menu file', MENU, 'menuentry {{{ garbage'],
    ['a corrupted environment block', `${GRUB}/grubenv`, 'not an environment block'],
  ])('leaves %s and everything else byte for byte as it was', async (_what, path, text) => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', fromHost)]);
    files.files.set(path, text);
    const before = files.snapshot();
    await expect(p.writeEntries([layer('B-1-0+2', fromHost)])).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    await expect(p.setDefault(id('B-1-0+1'))).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    expect(files.snapshot()).toBe(before);
  });

  it('leaves a bootable configuration wherever a write is cut', async () => {
    let cuts = 0;
    for (let cut = 1; ; cut++) {
      fresh();
      const p = plugin();
      await p.writeEntries([layer('B-1-0+1', fromHost)]);
      files.steps = 0;
      files.crashAt = cut;
      const done = await p.writeEntries([layer('B-1-0+2', kept('B-1-0+1'))]).then(
        () => true,
        () => false,
      );
      files.crashAt = Number.POSITIVE_INFINITY;
      const entries = parseGrubMenu(files.files.get(MENU)!);
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) expect(files.files.has(`/boot${e.kernel}`), e.kernel).toBe(true);
      if (done) break;
      cuts++;
    }
    expect(cuts).toBeGreaterThan(5);
  });
});

/** The files of a layer's installed entry, as a source. */
function kept(layer: string): DesiredBootEntry['files'] {
  return { onBootPartition: { kernel: `/${layer}/vmlinuz-6.1.0`, initrd: `/${layer}/initrd.img-6.1.0` } };
}
