// Node's start plus loading the built CLI (apps/cli/dist: main.cjs through its code cache), running no
// verb: the layout benchmark's measure of what loading costs.
import { readdirSync } from 'node:fs';

const dist = new URL('../apps/cli/dist/', import.meta.url);
const chunk = readdirSync(dist).find((name) => name.startsWith('code-cache-') && name.endsWith('.js'));
if (chunk === undefined) throw new Error(`no code-cache chunk in ${dist.pathname}: build the CLI first`);
const { loadBundle } = await import(new URL(chunk, dist).href);
const { cache } = loadBundle(new URL('main.cjs', dist));
if (cache !== 'accepted') throw new Error(`the CLI's code cache was not used (${cache})`);
