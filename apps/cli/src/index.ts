/**
 * @packageDocumentation
 * The `imgbase` command line. `runCli` is exported for tests and for embedding; the binary is bin/imgbase.
 */
export { type CliDependencies, type CliIo, type EngineOptions, ExitCode, runCli } from './cli.js';
export { main } from './main.js';
