// Node's start plus loading the built CLI (apps/cli/dist: main.cjs through its code cache), running no
// verb: the layout benchmark's measure of what loading costs. CommonJS, as the CLI's entry is.
const path = require('node:path');

const dist = path.join(__dirname, '../apps/cli/dist');
const { loadBundle } = require(path.join(dist, 'code-cache.cjs'));
const { cache } = loadBundle(path.join(dist, 'main.cjs'));
if (cache !== 'accepted') throw new Error(`the CLI's code cache was not used (${cache})`);
