import { createEngine as compose, type ModuleImporter } from '@imgbased/composition';
import type { ImageEngine } from '@imgbased/core';
import type { EngineOptions } from './cli.js';

/**
 * The CLI's engine, from imgbased's one composition root (@imgbased/composition): the CLI registers no
 * implementation itself. One run, one choice of bootloader; a dry run comes with each call's context.
 */
export function createEngine(_options: EngineOptions, importer?: ModuleImporter): Promise<ImageEngine> {
  return compose({ bootloaderChoice: 'once', importer });
}
