// A plugin built outside this repository, loaded the way a host loads it: real module files in a
// plugin directory, a real configuration file naming it, Node's import. The example plugin of
// examples/bootloader-minimal-extlinux is copied in as a packager would install it.
import { chmod, chown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bootloader, BootloaderSelection, type ImgbasedConfig } from '@imgbased/core';
import { loadConfig } from '@imgbased/system';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { availablePlugins, buildContainer, loadPluginFromDirectory } from '../src/index.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/bootloader-minimal-extlinux/index.mjs', import.meta.url));

let dir: string;
let pluginDir: string;
let bootDir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'imgbased-plugin-dir-'));
  pluginDir = path.join(dir, 'plugins');
  bootDir = path.join(dir, 'boot');
  await mkdir(pluginDir, { mode: 0o755 });
  await chmod(pluginDir, 0o755);
  await mkdir(path.join(dir, 'etc'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Writes a module into the plugin directory, mode 0644 unless told. */
async function install(file: string, text: string, mode = 0o644): Promise<string> {
  const target = path.join(pluginDir, file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, text);
  await chmod(target, mode);
  return target;
}

/**
 * Writes <dir>/etc/imgbased.conf (plugin directory, boot dir, no persistence plugin: these tests ship
 * no plugin, so that only the plugin directory can give one) and loads it.
 */
async function configure(sections: string): Promise<ImgbasedConfig> {
  const persistence = sections.includes('[persistence]') ? '' : '[persistence]\nplugins = none\n';
  const text = `[core]\nplugin_dir = ${pluginDir}\n${persistence}[bootloader]\nboot_dir = ${bootDir}\n${sections}\n`;
  await writeFile(path.join(dir, 'etc/imgbased.conf'), text);
  return loadConfig({ root: dir });
}

/** A definition module's text: the example's minimum, with `changes` spliced in. */
function definitionModule(changes = ''): string {
  return `export default { kind: 'bootloader', name: 'broken', contractVersion: 1, probeOrder: 1, create() { return {}; }, ${changes} };\n`;
}

async function refusalOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  return promise.then(
    () => {
      throw new Error('accepted');
    },
    (error: { code: string; message: string }) => error,
  );
}

describe('the example third-party plugin, loaded from the plugin directory', () => {
  it.each([
    ['a single module', 'minimal-extlinux.mjs'],
    ['a directory with index.mjs', 'minimal-extlinux/index.mjs'],
  ])('loads as %s when the configuration names it, and not otherwise', async (_what, file) => {
    await install(file, await readFile(EXAMPLE, 'utf8'));
    const named = await configure('plugins = minimal-extlinux');
    const loaded = await availablePlugins([], named);
    expect(loaded.map((d) => [d.kind, d.name, d.contractVersion])).toEqual([['bootloader', 'minimal-extlinux', 1]]);
    expect(await availablePlugins([], await configure('plugins = auto'))).toEqual([]);
  });

  it('builds a working Bootloader through the composition root: detected, written, default set, settings used', async () => {
    await install('minimal-extlinux.mjs', await readFile(EXAMPLE, 'utf8'));
    const config = await configure(
      'plugins = minimal-extlinux\n[bootloader.minimal-extlinux]\nmenu_title = Plugin directory test',
    );
    await mkdir(path.join(bootDir, 'extlinux'), { recursive: true });
    await writeFile(path.join(bootDir, 'extlinux/ldlinux.sys'), 'syslinux');
    const foreign = 'LABEL rescue\n  MENU LABEL Rescue\n  KERNEL /vmlinuz-rescue\n  APPEND root=/dev/sda2 ro';
    await writeFile(
      path.join(bootDir, 'extlinux/extlinux.conf'),
      `PROMPT 0\nTIMEOUT 50\nDEFAULT rescue\n\n${foreign}\n`,
    );
    const kernel = path.join(dir, 'vmlinuz-6.1.0');
    await writeFile(kernel, 'KERNEL');

    const container = await buildContainer({ plugins: [], config });
    const bootloader = await container.resolve<BootloaderSelection>(BootloaderSelection).select();
    expect(bootloader?.name).toBe('minimal-extlinux');
    const b = bootloader as Bootloader;
    const entry = (layer: string) => ({
      layer,
      title: `${layer} (6.1.0)`,
      version: '6.1.0',
      options: ['ro', `img.bootid=${layer}`],
      files: { kernel },
    });
    await b.writeEntries([entry('Base-1-0+1')]);
    await b.writeEntries([entry('Base-1-0+1'), entry('Base-1-0+2')]);
    expect(await readFile(path.join(bootDir, 'Base-1-0+2/vmlinuz-6.1.0'), 'utf8')).toBe('KERNEL');
    const state = await b.state();
    expect(state.entries.map((e) => [e.id, e.layer])).toEqual([
      ['imgbased-Base-1-0-layer1', 'Base-1-0+1'],
      ['imgbased-Base-1-0-layer2', 'Base-1-0+2'],
      ['rescue', undefined],
    ]);
    expect(state.defaultId).toBe('rescue');
    await b.setDefault('imgbased-Base-1-0-layer2');
    const conf = await readFile(path.join(bootDir, 'extlinux/extlinux.conf'), 'utf8');
    expect(conf).toContain('MENU TITLE Plugin directory test\nDEFAULT imgbased-Base-1-0-layer2\n');
    expect(conf).toContain('\tLINUX /Base-1-0+2/vmlinuz-6.1.0\n\tAPPEND ro img.bootid=Base-1-0+2\n');
    expect(conf).toContain('PROMPT 0\nTIMEOUT 50\n');
    expect(conf.endsWith(`\n\n${foreign}\n`)).toBe(true);
  });

  it("refuses a setting the plugin's own schema does not know, naming file and key", async () => {
    await install('minimal-extlinux.mjs', await readFile(EXAMPLE, 'utf8'));
    const config = await configure('plugins = minimal-extlinux\n[bootloader.minimal-extlinux]\ncolour = red');
    const error = await refusalOf(buildContainer({ plugins: [], config }));
    expect(error).toMatchObject({ code: 'E_CONFIG_INVALID' });
    expect(error.message).toBe(
      `${path.join(dir, 'etc/imgbased.conf')}: bootloader.minimal-extlinux.colour: unknown setting`,
    );
  });
});

describe('a plugin the directory cannot give is refused, each with its reason', () => {
  /** Loads `broken` as the configuration would; returns the refusal. */
  async function refusal(kind: 'bootloader' | 'persistence' = 'bootloader') {
    const config = await configure(kind === 'bootloader' ? 'plugins = broken' : '[persistence]\nplugins = broken');
    return refusalOf(availablePlugins([], config));
  }

  it('missing module: E_PLUGIN_INVALID naming the directory and the file names tried', async () => {
    const error = await refusal();
    expect(error.code).toBe('E_PLUGIN_INVALID');
    expect(error.message).toBe(
      `Plugin 'broken' cannot be used: it is not shipped with imgbased and ${pluginDir} has no broken.mjs, broken.js or broken/index.js`,
    );
  });

  it.each([
    [
      'a module that throws on import',
      "throw new Error('no bootloader here');\n",
      'failed to load: no bootloader here',
    ],
    ['a module with a syntax error', 'export default {\n', 'failed to load'],
    [
      'a default export that is no definition',
      'export default 42;\n',
      'has no plugin definition as its default export',
    ],
    ['no default export', 'export const plugin = {};\n', 'has no plugin definition as its default export'],
    ['a wrong kind', definitionModule("kind: 'persistence'"), 'is a persistence plugin, configured as a bootloader'],
    ['a wrong name', definitionModule("name: 'other'"), "defines the plugin 'other'"],
    ['no create', definitionModule('create: undefined'), 'create is not a function'],
  ])('%s: E_PLUGIN_INVALID', async (_what, text, reason) => {
    const file = await install('broken.mjs', text);
    const error = await refusal();
    expect(error.code).toBe('E_PLUGIN_INVALID');
    expect(error.message).toMatch(/^Plugin 'broken' cannot be used: /);
    expect(error.message).toContain(reason);
    expect(error.message).toContain(file);
  });

  it('contract version 999: E_PLUGIN_INCOMPATIBLE, before anything of it runs', async () => {
    await install('broken.mjs', definitionModule("contractVersion: 999, create() { throw new Error('ran'); }"));
    const error = await refusal();
    expect(error.code).toBe('E_PLUGIN_INCOMPATIBLE');
    expect(error.message).toBe(
      "Plugin 'broken' implements bootloader contract version 999, this imgbased needs 1: install a matching version of the plugin",
    );
  });

  it.each([
    ['group-writable', 0o664, '664'],
    ['writable by others', 0o646, '646'],
  ])('a %s module: E_PLUGIN_INVALID, never imported', async (_what, mode, shown) => {
    const file = await install('broken.mjs', "throw new Error('imported');\n", mode);
    const error = await refusal();
    expect(error.code).toBe('E_PLUGIN_INVALID');
    expect(error.message).toContain(`${file} is writable by group or others (mode ${shown})`);
  });

  it('a group-writable plugin directory: E_PLUGIN_INVALID', async () => {
    await install('broken.mjs', definitionModule());
    await chmod(pluginDir, 0o775);
    const error = await refusal();
    expect(error.code).toBe('E_PLUGIN_INVALID');
    expect(error.message).toContain(`${pluginDir} is writable by group or others (mode 775)`);
  });

  it('a group-writable plugin directory above NAME/index.mjs: E_PLUGIN_INVALID', async () => {
    await mkdir(path.join(pluginDir, 'broken'), { mode: 0o755 });
    await chmod(path.join(pluginDir, 'broken'), 0o755);
    await install('broken/index.mjs', definitionModule());
    await chmod(pluginDir, 0o777);
    const error = await refusal();
    expect(error.code).toBe('E_PLUGIN_INVALID');
    expect(error.message).toContain(`${pluginDir} is writable by group or others (mode 777)`);
  });

  it('a symlinked module: E_PLUGIN_INVALID, never imported', async () => {
    const real = path.join(dir, 'elsewhere.mjs');
    await writeFile(real, "throw new Error('imported');\n");
    await chmod(real, 0o644);
    await symlink(real, path.join(pluginDir, 'broken.mjs'));
    const error = await refusal();
    expect(error.code).toBe('E_PLUGIN_INVALID');
    expect(error.message).toContain(`${path.join(pluginDir, 'broken.mjs')} is a symbolic link`);
  });

  it.runIf(process.getuid?.() === 0)('a module owned by another user: E_PLUGIN_INVALID', async () => {
    const file = await install('broken.mjs', "throw new Error('imported');\n");
    await chown(file, 1000, 1000);
    const error = await refusal();
    expect(error.code).toBe('E_PLUGIN_INVALID');
    expect(error.message).toContain(`${file} belongs to uid 1000: it must belong to root`);
  });

  it('a persistence plugin named in [persistence] plugins is looked up as one', async () => {
    await install('broken.mjs', definitionModule());
    const error = await refusal('persistence');
    expect(error.message).toContain('is a bootloader plugin, configured as a persistence plugin');
  });

  it('loadPluginFromDirectory takes the first of NAME.mjs, NAME.js, NAME/index.mjs', async () => {
    await install('broken/index.mjs', definitionModule("description: 'index'"));
    await install('broken.js', definitionModule("description: 'js'"));
    expect(await loadPluginFromDirectory(pluginDir, 'broken', 'bootloader')).toMatchObject({ description: 'js' });
    await install('broken.mjs', definitionModule("description: 'mjs'"));
    expect(await loadPluginFromDirectory(pluginDir, 'broken', 'bootloader')).toMatchObject({ description: 'mjs' });
  });
});

describe('a section for a plugin that is neither shipped nor named', () => {
  it('is refused as E_CONFIG_INVALID naming the file and the section, even with the module present', async () => {
    await install('minimal-extlinux.mjs', await readFile(EXAMPLE, 'utf8'));
    const config = await configure('plugins = auto\n[bootloader.minimal-extlinux]\nmenu_title = Forgotten');
    const error = await refusalOf(availablePlugins([], config));
    expect(error.code).toBe('E_CONFIG_INVALID');
    expect(error.message).toBe(
      `${path.join(dir, 'etc/imgbased.conf')}: bootloader.minimal-extlinux: no bootloader plugin 'minimal-extlinux' is shipped or named in [bootloader] plugins`,
    );
  });
});
