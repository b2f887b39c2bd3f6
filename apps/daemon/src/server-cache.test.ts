import { ImageEngine } from '@imgbased/core';
import { FixedHost, MemoryLock, MemoryVolumeManager, RecordingFilesystem } from '@imgbased/core/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeCounter, CountingLock } from './changes.js';
import { JobManager } from './jobs.js';
import { stderrLogger } from './log.js';
import { ReadCache } from './read-cache.js';
import { buildServer } from './server.js';
import { runJobVerb } from './verbs.js';

/** The daemon as main.ts wires it (counted lock, a job's end counted, the read cache), over fakes. */
async function setUp() {
  const volumes = MemoryVolumeManager.thinpHost();
  const changes = new ChangeCounter();
  const engine = new ImageEngine(
    volumes,
    new RecordingFilesystem(),
    new FixedHost(),
    new CountingLock(new MemoryLock(), changes),
  );
  await engine.initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  // Engine reads, counted; `failNextReport` makes the next one fail.
  const engineReads = { count: 0, failNext: false };
  const report = volumes.report.bind(volumes);
  volumes.report = async (context) => {
    engineReads.count++;
    if (engineReads.failNext) {
      engineReads.failNext = false;
      throw new Error('lvs failed');
    }
    return report(context);
  };
  const lvm = { seqno: 7 };
  const readCache = new ReadCache({ changes, hostState: async () => `onn|${lvm.seqno}|pool00|25.00|5.00` });
  const jobs = new JobManager(
    (request, context) => runJobVerb(engine, request, true, context),
    () => changes.bump(),
  );
  const callerOf = () => ({ pid: 1, uid: 0, gid: 0, groups: [], access: 'change' as const });
  const app = buildServer({
    engine: () => engine,
    jobs,
    log: stderrLogger({ write: () => undefined }),
    callerOf,
    readCache,
  });
  return { app, volumes, engineReads, lvm };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const layers = async () => (await app!.inject({ method: 'GET', url: '/v1/layout/layers' })).json().data.layers;

describe('the read cache in the daemon', () => {
  it('answers again without the engine until a job ends, then reads the change', async () => {
    const s = await setUp();
    app = s.app;
    expect(await layers()).toEqual(['Base-1-0+1']);
    expect(await layers()).toEqual(['Base-1-0+1']);
    expect(s.engineReads.count).toBe(1);
    const started = await app.inject({ method: 'POST', url: '/v1/jobs', payload: { verb: 'layer --add' } });
    expect(started.statusCode).toBe(202);
    const id = started.json().data.jobId;
    let state = 'running';
    while (state === 'running') state = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json().data.state;
    expect(state).toBe('succeeded');
    // The fake LVM state did not move: only the daemon's change count says the layout changed.
    expect(await layers()).toEqual(['Base-1-0+1', 'Base-1-0+2']);
  });

  it('gives 100 concurrent callers one engine read and the same answer', async () => {
    const s = await setUp();
    app = s.app;
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => app!.inject({ method: 'GET', url: '/v1/layout' })),
    );
    expect(new Set(answers.map((a) => a.statusCode))).toEqual(new Set([200]));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(s.engineReads.count).toBe(1);
  });

  it('keeps no error: the next request reads again', async () => {
    const s = await setUp();
    app = s.app;
    s.engineReads.failNext = true;
    const failed = await app.inject({ method: 'GET', url: '/v1/layout' });
    expect([failed.statusCode, failed.json().error.code]).toEqual([500, 'E_INTERNAL']);
    const next = await app.inject({ method: 'GET', url: '/v1/layout' });
    expect(next.statusCode).toBe(200);
    expect(s.engineReads.count).toBe(2);
  });

  it('reads again when the volume group changed outside the daemon (its seqno moved)', async () => {
    const s = await setUp();
    app = s.app;
    expect(await layers()).toEqual(['Base-1-0+1']);
    // lvcreate by hand: LVM's metadata changes, the daemon made no change.
    s.volumes.addVolume({
      vg: 'onn',
      name: 'Base-1-0+2',
      pool: 'pool00',
      origin: 'Base-1-0',
      tags: ['imgbased:layer'],
    });
    expect(await layers()).toEqual(['Base-1-0+1']); // same seqno: the kept answer (as LVM would not do)
    s.lvm.seqno++;
    expect(await layers()).toEqual(['Base-1-0+1', 'Base-1-0+2']);
    expect(s.engineReads.count).toBe(2);
  });

  it('does not cache what the stamp cannot see: the current layer (mounts)', async () => {
    const s = await setUp();
    app = s.app;
    await app.inject({ method: 'GET', url: '/v1/layers/current' });
    await app.inject({ method: 'GET', url: '/v1/layers/current' });
    expect(s.engineReads.count).toBe(2);
  });
});
