// dist/snapshot.cjs, the script of `node --snapshot-blob FILE --build-snapshot dist/snapshot.cjs`
// (snapshot-build.ts): it runs the CLI's bundle (main.cjs) once and leaves V8's heap, the bundle's
// modules evaluated and their functions compiled, in a start-up snapshot. `node --snapshot-blob FILE --
// dist/entry.cjs ARGS…` (bin/imgbase) then starts from that heap and runs the function below: no bundle
// to read, compile or evaluate. A snapshot fits only the Node binary, V8 flags and CPU that made it (Node
// refuses any other with exit code 14), so it is made on the machine that uses it, once per boot.
// What the bundle does as it loads must not depend on the run: it reads no environment, argument or
// file then (imgbased's modules only define things; execa, commander and tsyringe read their inputs
// when called), and opens no handle.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ignoreClosedPipes } from './pipes.js';
import { phaseTimer } from './timing.js';

type Bundle = typeof import('./main.js');

const bundleFile = path.join(__dirname, 'main.cjs');
const source = readFileSync(bundleFile, 'utf8');
// Compiled eagerly, every function at once: the snapshot keeps the bytecode, which a run would otherwise
// compile lazily as it first calls each function (no code cache applies to a snapshot's functions).
// Back to lazy before the snapshot is taken: V8's flags are part of what the snapshot must match.
v8.setFlagsFromString('--no-lazy');
let wrapper: (...args: unknown[]) => void;
try {
  // Node's CommonJS wrapper on a line of its own, which lineOffset takes back (exact stack traces).
  wrapper = new vm.Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, {
    filename: bundleFile,
    lineOffset: -1,
  }).runInThisContext() as typeof wrapper;
} finally {
  v8.setFlagsFromString('--lazy');
}
const bundle = { exports: {} as Bundle };
// The bundle requires only Node's builtins, all that a snapshot's script may require.
wrapper.call(bundle.exports, bundle.exports, require, bundle, bundleFile, path.dirname(bundleFile));

v8.startupSnapshot.setDeserializeMainFunction(() => {
  ignoreClosedPipes();
  const timer = phaseTimer();
  timer?.mark('entry');
  timer?.mark('bundle');
  timer?.note('cache', 'snapshot');
  // process.argv is [node, dist/entry.cjs, …the arguments]: the entry names the directory of the build.
  const [, entryFile = __filename, ...argv] = process.argv;
  const importModule = (file: string) =>
    (createRequire(entryFile)('./import-module.cjs') as (file: string) => Promise<Record<string, unknown>>)(file);
  // A failure is an unhandled rejection, as in entry.ts.
  void bundle.exports.main(argv, { importModule, mark: timer?.mark }).then((code) => {
    process.exitCode = code;
  });
});
