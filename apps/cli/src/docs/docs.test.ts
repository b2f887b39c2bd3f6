import { loadShippedPlugins } from '@imgbased/composition';
import { defaultConfig, resolveConfig, resolvePluginSettings } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { generateDocs } from './index.js';
import { describeProgram } from './model.js';
import { describeSettings } from './settings.js';
import { SECTION_TEXT, SETTING_TEXT } from './settings-text.js';

const docs = await generateDocs();
const program = describeProgram();

describe('the generated documentation', () => {
  // A new verb, flag or setting changes these files: regenerate them with
  // `pnpm exec vitest run --project unit apps/cli/src/docs -u` (or packaging/generate-docs) and commit.
  it.each(Object.keys(docs))('packaging/generated/%s is current', async (name) => {
    await expect(docs[name]).toMatchFileSnapshot(`../../../../packaging/generated/${name}`);
  });

  it('names every command, flag and exit code in imgbase(8)', () => {
    const page = docs['imgbase.8']!.replaceAll('\\-', '-');
    expect(program.commands.map((c) => c.name)).toEqual(expect.arrayContaining(['layout', 'base', 'layer', 'boot']));
    for (const command of program.commands) {
      expect(page).toContain(`.SS "${command.name}`);
      for (const option of command.options) expect(page, `${command.name} ${option.long}`).toContain(option.long);
    }
    for (const exit of EXIT_CODES) expect(page).toContain(`.B ${exit.code}\n${exit.meaning.replaceAll('\\-', '-')}`);
  });

  it('completes every command and flag in bash, zsh and fish', () => {
    for (const command of program.commands) {
      for (const option of command.options) {
        expect(docs['imgbase.bash']).toMatch(new RegExp(`${command.name}\\) words='[^']*${option.long}[ ']`));
        expect(docs['_imgbase.zsh']).toContain(`'${option.repeatable ? '*' : ''}${option.long}`);
        expect(docs['imgbase.fish']).toContain(`from ${command.name}' -l ${option.long.slice(2)}`);
      }
    }
  });

  it('completes layer and base names from the real layout', () => {
    const volumePath = program.commands
      .find((c) => c.name === 'layer')!
      .options.find((o) => o.long === '--volume-path');
    expect(volumePath?.values).toEqual({ kind: 'volumes' });
    expect(docs['imgbase.bash']).toContain("layer:--volume-path) _imgbase_values 'volumes'; return ;;");
    const ofLayer = program.commands.find((c) => c.name === 'base')!.options.find((o) => o.long === '--of-layer');
    expect(ofLayer?.values).toEqual({ kind: 'layers' });
    expect(docs['_imgbase.zsh']).toContain("'--of-layer=[the base of a layer]:LAYER:_imgbase_layers'");
    expect(docs['imgbase.fish']).toContain("-l remove -x -a '(__imgbase_names bases)'");
  });
});

/** The INI subset the generated file uses: sections, `key = value`, comments. */
function parseIni(text: string): Record<string, Record<string, unknown>> {
  const sections: Record<string, Record<string, unknown>> = {};
  let current: Record<string, unknown> = {};
  for (const line of text.split('\n')) {
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const [kind, plugin] = header[1]!.split('.') as [string, string | undefined];
      sections[kind] ??= {};
      if (plugin === undefined) current = sections[kind]!;
      else {
        current = {};
        sections[kind]![plugin] = current;
      }
    }
    const setting = /^(\w+) = (.*)$/.exec(line);
    if (setting) current[setting[1]!] = setting[2]!;
  }
  return sections;
}

describe('the commented /etc/imgbased.conf', () => {
  const conf = docs['imgbased.conf']!;
  const uncommented = conf.replace(/^#(\w+ = )/gm, '$1');

  it('has every setting of core and of the shipped plugins, each with a line of text and no stale text', async () => {
    const sections = await describeSettings();
    const keys = sections.flatMap((s) => s.settings.map((setting) => `${s.name}.${setting.key}`));
    expect(keys.sort()).toEqual(Object.keys(SETTING_TEXT).sort());
    expect(sections.map((s) => s.name).sort()).toEqual(Object.keys(SECTION_TEXT).sort());
    for (const key of keys) {
      const [section, name] = [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
      expect(conf).toMatch(new RegExp(`\\[${section.replace('.', '\\.')}\\][^[]*\\n#${name} = `));
    }
  });

  it('changes nothing as installed, and nothing either with every line uncommented', async () => {
    for (const text of [conf, uncommented]) {
      const config = resolveConfig([{ path: '/etc/imgbased.conf', sections: parseIni(text) }]);
      const { pluginSections, ...core } = config;
      const { pluginSections: _none, ...defaults } = defaultConfig();
      expect(core).toEqual(defaults);
      for (const plugin of (await loadShippedPlugins()).filter((p) => p.settings)) {
        const settings = await resolvePluginSettings(plugin, pluginSections);
        expect(settings, plugin.name).toEqual(
          ((await plugin.settings!['~standard'].validate({})) as { value: unknown }).value,
        );
      }
    }
    expect(uncommented).toMatch(/^\[core\]\n(#.*\n)*debug = false$/m);
  });
});
