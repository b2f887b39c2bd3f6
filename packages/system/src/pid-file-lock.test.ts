import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImgbasedError, LockedError } from '@imgbased/core';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PidFileLock, parseHolder, processStartTime } from './pid-file-lock.js';

const here = dirname(fileURLToPath(import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imgbased-lock-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const pid = child.pid!;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return pid;
}

describe('PidFileLock', () => {
  it('writes who holds it, and a second acquire fails with E_LOCKED naming the holder', async () => {
    const lock = new PidFileLock(join(dir, 'run'));
    const held = await lock.acquire('update to 4.5');
    const holder = parseHolder(await readFile(join(dir, 'run', 'lock'), 'utf8'))!;
    expect(holder).toMatchObject({ pid: process.pid, purpose: 'update to 4.5' });
    expect(holder.startTime).toBe(await processStartTime(process.pid));
    expect(Number.isNaN(Date.parse(holder.since))).toBe(false);

    const error = await new PidFileLock(join(dir, 'run')).acquire('other').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockedError);
    expect((error as LockedError).code).toBe('E_LOCKED');
    expect((error as LockedError).details).toEqual({
      lockPath: join(dir, 'run', 'lock'),
      holder: `pid ${process.pid}: update to 4.5`,
    });
    await held.release();
  });

  it('is free again after release, and leaves no temporary files', async () => {
    const lock = new PidFileLock(dir);
    const held = await lock.acquire('first');
    await held.release();
    expect(await readdir(dir)).toEqual([]);
    const again = await lock.acquire('second');
    expect(await readdir(dir)).toEqual(['lock']);
    await again.release();
    await again.release(); // twice is harmless
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a stale lock of a process that has died', async () => {
    const pid = await deadPid();
    await writeFile(
      join(dir, 'lock'),
      JSON.stringify({ pid, startTime: 1, purpose: 'crashed', since: '2020-01-01T00:00:00Z' }),
    );
    const held = await new PidFileLock(dir).acquire('after crash');
    expect(parseHolder(await readFile(join(dir, 'lock'), 'utf8'))).toMatchObject({
      pid: process.pid,
      purpose: 'after crash',
    });
    await held.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock whose pid now belongs to another process (start time differs)', async () => {
    const startTime = (await processStartTime(process.pid))!;
    await writeFile(
      join(dir, 'lock'),
      JSON.stringify({ pid: process.pid, startTime: startTime - 1, purpose: 'old', since: '2020-01-01T00:00:00Z' }),
    );
    const held = await new PidFileLock(dir).acquire('new');
    expect(parseHolder(await readFile(join(dir, 'lock'), 'utf8'))?.purpose).toBe('new');
    await held.release();
  });

  it('removes a lock.break left by a process that died while breaking', async () => {
    const pid = await deadPid();
    const stale = JSON.stringify({ pid, startTime: 1, purpose: 'crashed', since: '' });
    await writeFile(join(dir, 'lock'), stale);
    await writeFile(join(dir, 'lock.break'), stale);
    const held = await new PidFileLock(dir).acquire('new');
    expect(await readdir(dir)).toEqual(['lock']);
    await held.release();
  });

  it('takes over a lock file that holds garbage', async () => {
    await writeFile(join(dir, 'lock'), 'not json');
    const held = await new PidFileLock(dir).acquire('new');
    await held.release();
  });

  it('respects a lock held by another live process', async () => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const startTime = await processStartTime(child.pid!);
      await writeFile(
        join(dir, 'lock'),
        JSON.stringify({ pid: child.pid, startTime, purpose: 'busy', since: new Date().toISOString() }),
      );
      await expect(new PidFileLock(dir).acquire('me')).rejects.toThrow(`pid ${child.pid}: busy`);
      expect(parseHolder(await readFile(join(dir, 'lock'), 'utf8'))?.purpose).toBe('busy');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('does not release a lock that is no longer its own', async () => {
    const held = await new PidFileLock(dir).acquire('mine');
    const other = JSON.stringify({ pid: 1, startTime: null, purpose: 'someone else', since: '' });
    await writeFile(join(dir, 'lock'), other);
    await held.release();
    expect(await readFile(join(dir, 'lock'), 'utf8')).toBe(other);
  });

  it('fails with a typed error when the directory cannot be made', async () => {
    await writeFile(join(dir, 'file'), '');
    const error = await new PidFileLock(join(dir, 'file', 'sub')).acquire('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImgbasedError);
    expect((error as ImgbasedError).code).toBe('E_INTERNAL');
  });
});

type Result = { won: [number, number] } | { lost: string };

describe('PidFileLock across processes', { timeout: 60_000 }, () => {
  let childScript: string;
  let buildDir: string;

  beforeAll(async () => {
    // The child runs the real PidFileLock, bundled from source.
    buildDir = await mkdtemp(join(tmpdir(), 'imgbased-lock-child-'));
    childScript = join(buildDir, 'child.mjs');
    await build({
      stdin: {
        contents: `
          import 'reflect-metadata';
          import { PidFileLock } from './pid-file-lock.ts';
          // Loaded: say so, then wait for the go on stdin so that every child tries at the same moment.
          const [dir, holdMs] = process.argv.slice(2);
          process.stdout.write('ready\\n');
          await new Promise((r) => process.stdin.once('data', r));
          try {
            const held = await new PidFileLock(dir).acquire('child ' + process.pid);
            const from = Date.now();
            await new Promise((r) => setTimeout(r, Number(holdMs)));
            const to = Date.now();
            await held.release();
            process.stdout.write(JSON.stringify({ won: [from, to] }) + '\\n');
          } catch (error) {
            process.stdout.write(JSON.stringify({ lost: error.code ?? String(error) }) + '\\n');
          }
          process.exit(0);
        `,
        resolveDir: here,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@imgbased/source'],
      outfile: childScript,
      logLevel: 'silent',
    });
  });
  afterAll(async () => {
    await rm(buildDir, { recursive: true, force: true });
  });

  /** Starts `count` children, lets them try at once, and returns what each got. */
  async function race(count: number): Promise<string[]> {
    const children = Array.from({ length: count }, () =>
      spawn(process.execPath, [childScript, dir, '600'], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const outputs = children.map(
      (child) =>
        new Promise<string[]>((resolve, reject) => {
          let text = '';
          child.stdout.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text === 'ready\n') child.emit('ready');
          });
          child.once('error', reject);
          child.once('exit', () => resolve(text.trim().split('\n')));
        }),
    );
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('ready', resolve))));
    for (const child of children) child.stdin.end('go');
    const results = (await Promise.all(outputs)).map((lines) => JSON.parse(lines.at(-1)!) as Result);
    // Whatever the timing, no two holds may overlap.
    const holds = results.flatMap((r) => ('won' in r ? [r.won] : [])).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < holds.length; i++) expect(holds[i]![0]).toBeGreaterThanOrEqual(holds[i - 1]![1]);
    return results.map((r) => ('won' in r ? 'won' : r.lost)).sort();
  }

  it('lets exactly one of two concurrent processes win', async () => {
    for (let round = 0; round < 3; round++) {
      expect(await race(2)).toEqual(['E_LOCKED', 'won']);
      expect(await readdir(dir)).toEqual([]);
    }
  }, 60_000);

  it('lets exactly one of several processes win the race to break a stale lock', async () => {
    for (let round = 0; round < 3; round++) {
      const pid = await deadPid();
      await writeFile(join(dir, 'lock'), JSON.stringify({ pid, startTime: 1, purpose: 'crashed', since: '' }));
      expect(await race(4)).toEqual(['E_LOCKED', 'E_LOCKED', 'E_LOCKED', 'won']);
      expect(await readdir(dir)).toEqual([]);
    }
  }, 60_000);
});

describe('PidFileLock.inspect', () => {
  it('says who holds the lock, and whether that process is gone (stale)', async () => {
    const lock = new PidFileLock(join(dir, 'run'));
    expect(await lock.inspect()).toBeUndefined();
    const held = await lock.acquire('layer --add');
    expect(await lock.inspect()).toEqual({
      path: join(dir, 'run', 'lock'),
      holder: `pid ${process.pid}: layer --add`,
      stale: false,
    });
    await held.release();
    const pid = await deadPid();
    await writeFile(join(dir, 'run', 'lock'), JSON.stringify({ pid, startTime: null, purpose: 'update', since: '' }));
    expect(await lock.inspect()).toMatchObject({ holder: `pid ${pid}: update`, stale: true });
  });
});
