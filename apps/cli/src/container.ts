import { buildContainer, type ModuleImporter } from '@imgbased/composition';
import { ImageEngine, ImgbasedConfig } from '@imgbased/core';
import type { EngineOptions } from './cli.js';
import type { MarkPhase } from './timing.js';

/**
 * The CLI's engine, from imgbased's one composition root (@imgbased/composition): the CLI registers no
 * implementation itself. One run, one choice of bootloader; a dry run comes with each call's context.
 * Plugins are loaded when a verb first needs one: a listing runs no plugin code.
 * The configuration comes along for the settings the CLI itself reads (`[core] debug`).
 */
export async function createEngine(
  _options: EngineOptions,
  importer?: ModuleImporter,
  mark?: MarkPhase,
): Promise<{ engine: ImageEngine; config: ImgbasedConfig }> {
  const container = await buildContainer({ bootloaderChoice: 'once', pluginLoading: 'on-first-use', importer });
  const engine = container.resolve(ImageEngine);
  mark?.('container');
  return { engine, config: container.resolve<ImgbasedConfig>(ImgbasedConfig) };
}
