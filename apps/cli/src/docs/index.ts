import { VERSION } from '../version.js';
import { bashCompletion, fishCompletion, zshCompletion } from './completions.js';
import { commentedConfig } from './conf.js';
import { configManPage, imgbasedManPage, imgbaseManPage } from './man.js';
import { describeProgram } from './model.js';
import { describeSettings } from './settings.js';

/**
 * Every generated documentation file, by its name under packaging/generated/ (the checked-in copy a
 * test keeps current) and in the packages: man pages, completions, the commented configuration.
 */
export async function generateDocs(version: string = VERSION): Promise<Record<string, string>> {
  const program = describeProgram(version);
  const sections = await describeSettings();
  return {
    'imgbase.8': imgbaseManPage(program, version),
    'imgbased.8': imgbasedManPage(version),
    'imgbased.conf.5': configManPage(sections, version),
    'imgbased.conf': commentedConfig(sections),
    'imgbase.bash': bashCompletion(program),
    '_imgbase.zsh': zshCompletion(program),
    'imgbase.fish': fishCompletion(program),
  };
}

export type { DocCommand, DocOption, DocProgram, ValueKind } from './model.js';
export { describeProgram } from './model.js';
export { type DocSection, type DocSetting, describeSettings } from './settings.js';
