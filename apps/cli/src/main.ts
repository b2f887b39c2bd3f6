import 'reflect-metadata';
import type { ModuleImporter } from '@imgbased/composition';
import { runCli } from './cli.js';
import { createEngine } from './container.js';
import type { MarkPhase } from './timing.js';
import { VERSION } from './version.js';

/** The `imgbase` process: real I/O, Ctrl-C cancels the running operation (which then undoes itself). */
export async function main(
  argv: readonly string[],
  /** How plugin modules are imported (the entry's own import(): see entry.ts). */
  options: {
    readonly importModule?: ModuleImporter | undefined;
    /** Phase timestamps (IMGBASED_TIMING=1, see timing.ts). */
    readonly mark?: MarkPhase | undefined;
  } = {},
): Promise<number> {
  const controller = new AbortController();
  const cancel = () => controller.abort(new Error('interrupted'));
  // `on`, not `once`: execa's exit hook re-sends a signal that no listener is left to handle, which
  // would kill the process before the operation has undone its steps.
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  let debugByDefault = false;
  try {
    return await runCli(argv, {
      io: {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        isRoot: process.getuid?.() === 0,
        stderrTerminal: statusTerminal(),
      },
      version: VERSION,
      createEngine: async (engineOptions) => {
        const { engine, config } = await createEngine(engineOptions, options.importModule, options.mark);
        debugByDefault = config.core.debug;
        return engine;
      },
      debugByDefault: () => debugByDefault,
      signal: controller.signal,
      mark: options.mark,
    });
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}

/** stderr, when a status line can be drawn there: a terminal that understands cursor movement. */
function statusTerminal(): { columns?: number | undefined } | undefined {
  if (!process.stderr.isTTY || process.env.TERM === 'dumb') return undefined;
  return { columns: process.stderr.columns };
}
