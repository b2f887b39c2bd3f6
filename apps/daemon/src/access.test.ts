import { ImageEngine } from '@imgbased/core';
import { FixedHost, MemoryLock, MemoryVolumeManager, RecordingFilesystem } from '@imgbased/core/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { JobManager } from './jobs.js';
import { stderrLogger } from './log.js';
import type { Access, Caller } from './peer.js';
import { accessOf } from './peer.js';
import { buildServer } from './server.js';

/** A server whose every connection is `caller`, with jobs that run until `release()`. */
async function setUp(access: Access, maxJobs = 4) {
  const volumes = MemoryVolumeManager.thinpHost();
  const engine = new ImageEngine(volumes, new RecordingFilesystem(), new FixedHost(), new MemoryLock());
  await engine.initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const lines: string[] = [];
  const finished: (Caller | undefined)[] = [];
  const jobs = new JobManager(
    async () => {
      await gate;
      return { added: [], removed: [] } as never;
    },
    (_job, caller) => finished.push(caller as Caller),
    maxJobs,
  );
  const caller: Caller = { pid: 4242, uid: access === 'change' ? 0 : 1000, gid: 1000, groups: [], access };
  app = buildServer({
    engine: () => engine,
    jobs,
    log: stderrLogger({ write: (l) => lines.push(l), debug: true }),
    callerOf: () => caller,
  });
  return { jobs, lines, release, finished };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const post = (body: unknown) =>
  app!.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: body as object,
    headers: { 'content-type': 'application/json' },
  });

describe('who may do what', () => {
  it('decides from uid and groups: root changes, a member of the group reads, anybody else nothing', () => {
    const peer = { pid: 1, uid: 1000, gid: 1000, groups: [27, 990] };
    expect(accessOf({ ...peer, uid: 0 }, 990)).toBe('change');
    expect(accessOf({ ...peer, uid: 0 }, undefined)).toBe('change');
    expect(accessOf(peer, 990)).toBe('read');
    expect(accessOf({ ...peer, gid: 990, groups: [] }, 990)).toBe('read');
    expect(accessOf(peer, 991)).toBe('none');
    expect(accessOf(peer, undefined)).toBe('none');
  });

  it('lets a reader read, and refuses its jobs and cancels with E_NOT_ROOT before reading the body', async () => {
    const { lines } = await setUp('read');
    expect((await app!.inject({ method: 'GET', url: '/v1/layout/bases' })).statusCode).toBe(200);
    const job = await post({ verb: 'layer --add', dryRun: true });
    expect(job.statusCode).toBe(403);
    expect(job.json().error.code).toBe('E_NOT_ROOT');
    // Even a malformed body gets 403, not 400: a reader's change is never parsed.
    expect((await post({ nonsense: true })).json().error.code).toBe('E_NOT_ROOT');
    const cancel = await app!.inject({ method: 'DELETE', url: '/v1/jobs/0123456789abcdef' });
    expect([cancel.statusCode, cancel.json().error.code]).toEqual([403, 'E_NOT_ROOT']);
    const request = lines.map((l) => JSON.parse(l)).find((e) => e.event === 'request');
    expect(request).toMatchObject({ callerUid: 1000, callerPid: 4242 });
  });

  it('refuses everything to a caller outside the group with E_FORBIDDEN', async () => {
    await setUp('none');
    for (const [method, url] of [
      ['GET', '/v1/layout'],
      ['GET', '/v1/openapi.json'],
      ['POST', '/v1/jobs'],
      ['GET', '/v1/nowhere'],
    ] as const) {
      const r = await app!.inject({ method, url });
      expect([r.statusCode, r.json().error.code], `${method} ${url}`).toEqual([403, 'E_FORBIDDEN']);
    }
  });

  it("names root's uid and pid in the journal entries of its job, from start to end", async () => {
    const { lines, release, jobs, finished } = await setUp('change');
    const r = await post({ verb: 'layer --add' });
    expect(r.statusCode).toBe(202);
    release();
    await jobs.cancelAll();
    const started = lines.map((l) => JSON.parse(l)).find((e) => e.event === 'job-started');
    expect(started).toMatchObject({ callerUid: 0, callerPid: 4242, callerGid: 1000, verb: 'layer --add' });
    expect(finished).toEqual([expect.objectContaining({ uid: 0, pid: 4242 })]);
  });
});

describe('limits', () => {
  it('runs at most max_jobs jobs, dry runs included, and refuses more with 429 E_BUSY', async () => {
    const { release, jobs } = await setUp('change', 2);
    expect((await post({ verb: 'layer --add', dryRun: true })).statusCode).toBe(202);
    expect((await post({ verb: 'layer --add', dryRun: true })).statusCode).toBe(202);
    const third = await post({ verb: 'layer --add', dryRun: true });
    expect([third.statusCode, third.json().error.code]).toEqual([429, 'E_BUSY']);
    expect(jobs.runningCount).toBe(2);
    release();
    await jobs.cancelAll();
  });

  it('takes no job once shutdown began (503 E_SHUTTING_DOWN), and still answers reads', async () => {
    const { jobs } = await setUp('change');
    jobs.beginShutdown();
    const r = await post({ verb: 'layer --add' });
    expect([r.statusCode, r.json().error.code]).toEqual([503, 'E_SHUTTING_DOWN']);
    expect(jobs.runningCount).toBe(0);
    expect((await app!.inject({ method: 'GET', url: '/v1/layout/bases' })).statusCode).toBe(200);
  });

  it('refuses an image outside [daemon] image_dir before any job starts', async () => {
    const { jobs } = await setUp('change');
    const r = await post({ verb: 'base --add', args: { nvr: 'Base-2-0', size: '1G', image: '/etc/passwd' } });
    expect([r.statusCode, r.json().error.code]).toEqual([403, 'E_IMAGE_OUTSIDE_DIR']);
    expect(jobs.runningCount).toBe(0);
  });
});
