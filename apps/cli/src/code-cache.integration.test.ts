import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheFileOf, loadBundle } from './code-cache.js';

interface Probe {
  answer: () => string;
  filename: string;
  dirname: string;
  sep: string;
  fail: () => never;
}

// A CommonJS file as esbuild writes one: exports through module.exports, builtins through require.
const source = (answer: string) =>
  [
    "'use strict';",
    "const path = require('node:path');",
    'module.exports = {',
    `  answer: () => '${answer}',`,
    '  filename: __filename,',
    '  dirname: __dirname,',
    '  sep: path.sep,',
    "  fail: () => { throw new Error('line 9'); },",
    '};',
  ].join('\n');

let dir: string;
let bundle: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'imgbased-code-cache-'));
  bundle = path.join(dir, 'main.cjs');
  await writeFile(bundle, source('one'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadBundle', () => {
  it('loads a CommonJS file as Node would, without a cache at first', () => {
    const loaded = loadBundle<Probe>(bundle);
    expect(loaded.cache).toBe('none');
    expect(loaded.exports.answer()).toBe('one');
    expect(loaded.exports).toMatchObject({ filename: bundle, dirname: dir, sep: '/' });
  });

  it('reports the lines of the file itself in stack traces', () => {
    const { exports } = loadBundle<Probe>(bundle);
    expect(() => exports.fail()).toThrow('line 9');
    try {
      exports.fail();
    } catch (error) {
      expect((error as Error).stack).toContain(`${bundle}:8:`);
    }
  });

  it('uses the cache it wrote', async () => {
    loadBundle<Probe>(bundle).writeCache();
    expect((await readFile(cacheFileOf(bundle))).length).toBeGreaterThan(100);
    const again = loadBundle<Probe>(bundle);
    expect(again.cache).toBe('accepted');
    expect(again.exports.answer()).toBe('one');
  });

  it('refuses the cache of another source of the same length (which V8 alone would take)', async () => {
    loadBundle<Probe>(bundle).writeCache();
    await writeFile(bundle, source('two'));
    const changed = loadBundle<Probe>(bundle);
    expect(changed.cache).toBe('rejected');
    expect(changed.exports.answer()).toBe('two');
  });

  it('compiles as usual when the cached data is damaged', async () => {
    loadBundle<Probe>(bundle).writeCache();
    const cache = await readFile(cacheFileOf(bundle));
    cache.fill(7, cache.length - 64);
    await writeFile(cacheFileOf(bundle), cache);
    const loaded = loadBundle<Probe>(bundle);
    expect(loaded.cache).toBe('rejected');
    expect(loaded.exports.answer()).toBe('one');
  });
});
