// The binary's entry, built as CommonJS (dist/entry.cjs): Node's ES module loader costs a third of
// Node's own start under emulation, and nothing here needs it. `--version` is answered before anything
// else is loaded, so that scripts polling it pay only for Node's own start; everything else loads the
// CLI's bundle (main.cjs) through V8's code cache (see code-cache.ts).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { phaseTimer } from './timing.js';
import { VERSION } from './version.js';

// `imgbase layout | head -1`: the reader may go away before everything is written. The write then fails
// with EPIPE, which is no error of imgbase's: stay quiet (no stack trace) and finish as usual.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

async function run(argv: readonly string[]): Promise<void> {
  const timer = phaseTimer();
  timer?.mark('entry');
  // Files beside this one in dist/ (left out of this bundle by build.mjs).
  const { loadBundle } = require('./code-cache.cjs') as typeof import('./code-cache.js');
  const bundle = loadBundle<typeof import('./main.js')>(path.join(__dirname, 'main.cjs'));
  timer?.mark('bundle');
  timer?.note('cache', bundle.cache);
  // Plugin modules are imported from here, a module Node loaded itself: in code compiled from a V8
  // code cache, Node 20 loses vm.Script's dynamic import callback ("A dynamic import callback was not
  // specified"), so an import() inside the bundle would fail exactly when the cache is accepted.
  const importModule = (file: string) => import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
  process.exitCode = await bundle.exports.main(argv, { importModule, mark: timer?.mark });
  // The build runs one invocation with this set to write the cache of what it compiled (build.mjs).
  if (process.env.IMGBASED_WRITE_CODE_CACHE === '1') bundle.writeCache();
}

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') process.stdout.write(`imgbased-${VERSION}\n`);
// A bundle that fails to load is an unhandled rejection: Node's own report, exit code 1.
else void run(argv);
