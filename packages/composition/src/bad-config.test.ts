// Issue 14's "Bad input, counted", configuration files: each case is refused with the typed
// E_CONFIG_INVALID when the composition root reads it (as the CLI and the daemon start), the files
// are left as they were, and nothing is composed.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@imgbased/system';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BAD_CONFIG_CASES, type BadConfigCase } from './bad-config.corpus.js';
import { buildContainer } from './container.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'imgbased-bad-config-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function treeHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (path: string): Promise<void> => {
    for (const name of (await readdir(path)).sort()) {
      const full = join(path, name);
      const info = await stat(full);
      hash.update(`${full.slice(root.length)} ${info.mode}\n`);
      if (info.isDirectory()) await walk(full);
      else hash.update(await readFile(full));
    }
  };
  await walk(dir);
  return hash.digest('hex');
}

async function errorOf(c: BadConfigCase): Promise<unknown> {
  const caseRoot = await mkdtemp(join(root, 'case-'));
  for (const [path, content] of Object.entries(c.files)) {
    const full = join(caseRoot, path);
    if (typeof content === 'object' && 'directory' in content) await mkdir(full, { recursive: true });
    else {
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
    }
  }
  const before = await treeHash(caseRoot);
  const compose = async () => buildContainer({ config: await loadConfig({ root: caseRoot }), pluginLoading: 'eager' });
  const error = await compose().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(await treeHash(caseRoot), c.name).toBe(before);
  return error;
}

describe('bad input: configuration files', () => {
  it(`refuses each of its ${BAD_CONFIG_CASES.length} cases with E_CONFIG_INVALID and changes no file`, async () => {
    const wrong = [];
    for (const c of BAD_CONFIG_CASES) {
      const error = await errorOf(c);
      const code = (error as { code?: unknown } | undefined)?.code;
      const message = error instanceof Error ? error.message : String(error);
      if (code !== 'E_CONFIG_INVALID' || message.includes('\n')) wrong.push({ case: c.name, code, message });
    }
    expect(wrong).toEqual([]);
    // The control: the same path with good settings composes.
    const good = { 'etc/imgbased.conf': '[update]\nimages_to_keep = 3\n[bootloader.grub-bls]\nmode = menu\n' };
    expect(await errorOf({ name: 'good', files: good })).toBeUndefined();
    console.log(`bad input: configuration-files: ${BAD_CONFIG_CASES.length} cases`);
  }, 60_000);
});
