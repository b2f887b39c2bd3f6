// The binary's entry. `--version` is answered before anything else is loaded, so that scripts
// polling it pay only for Node's own start; everything else loads the full CLI.
import { VERSION } from './version.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`imgbased-${VERSION}\n`);
} else {
  const { main } = await import('./main.js');
  process.exitCode = await main(argv);
}
