import { buildContainer, type ModuleImporter } from '@imgbased/composition';
import { ImageEngine, ImgbasedConfig } from '@imgbased/core';
import type { EngineOptions } from './cli.js';

/**
 * The CLI's engine, from imgbased's one composition root (@imgbased/composition): the CLI registers no
 * implementation itself. One run, one choice of bootloader; a dry run comes with each call's context.
 * The configuration comes along for the settings the CLI itself reads (`[core] debug`).
 */
export async function createEngine(
  _options: EngineOptions,
  importer?: ModuleImporter,
): Promise<{ engine: ImageEngine; config: ImgbasedConfig }> {
  const container = await buildContainer({ bootloaderChoice: 'once', importer });
  return { engine: container.resolve(ImageEngine), config: container.resolve<ImgbasedConfig>(ImgbasedConfig) };
}
