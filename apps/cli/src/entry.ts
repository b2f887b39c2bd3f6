// The entry of the plain bundle, built as CommonJS (dist/entry.cjs): Node's ES module loader costs a third
// of Node's own start under emulation, and nothing here needs it. `--version` is answered before anything
// else is loaded (bin/imgbase answers it without Node when it can). Everything else loads the CLI's
// bundle (main.cjs) through V8's code cache (see code-cache.ts). bin/imgbase runs this when there is no
// start-up snapshot for this boot (snapshot.ts): it then asks, through IMGBASED_SNAPSHOT_BLOB, for one to
// be built in the background for the next runs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ignoreClosedPipes } from './pipes.js';
import { phaseTimer } from './timing.js';
import { VERSION } from './version.js';

ignoreClosedPipes();

async function run(argv: readonly string[], snapshotWanted: string | undefined): Promise<void> {
  const timer = phaseTimer();
  timer?.mark('entry');
  // Files beside this one in dist/ (left out of this bundle by build.mjs).
  const { loadBundle } = require('./code-cache.cjs') as typeof import('./code-cache.js');
  const bundle = loadBundle<typeof import('./main.js')>(path.join(__dirname, 'main.cjs'));
  timer?.mark('bundle');
  timer?.note('cache', bundle.cache);
  // Plugin modules are imported by a module Node loaded itself (see import-module.ts).
  const importModule = (file: string) =>
    (require('./import-module.cjs') as (file: string) => Promise<Record<string, unknown>>)(file);
  process.exitCode = await bundle.exports.main(argv, { importModule, mark: timer?.mark });
  // The build runs one invocation with this set to write the cache of what it compiled (build.mjs).
  if (process.env.IMGBASED_WRITE_CODE_CACHE === '1') bundle.writeCache();
  if (snapshotWanted !== undefined) buildSnapshotLater(snapshotWanted);
}

/**
 * Starts the build of the start-up snapshot `blob` in a process of its own that outlives this one
 * (snapshot-build.ts): this run is answered first, the next ones start from the snapshot.
 */
function buildSnapshotLater(blob: string): void {
  try {
    const builder = spawn(process.execPath, [path.join(__dirname, 'snapshot-build.cjs'), blob], {
      detached: true,
      stdio: 'ignore',
    });
    builder.on('error', () => {}); // only a faster start is lost
    builder.unref();
  } catch {
    // likewise
  }
}

// Asked for by bin/imgbase only; not passed on to the commands imgbase runs.
const snapshotWanted = process.env.IMGBASED_SNAPSHOT_BLOB || undefined;
delete process.env.IMGBASED_SNAPSHOT_BLOB;
const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') process.stdout.write(`imgbased-${VERSION}\n`);
// A bundle that fails to load is an unhandled rejection: Node's own report, exit code 1.
else void run(argv, snapshotWanted);
