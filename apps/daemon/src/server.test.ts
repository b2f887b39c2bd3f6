import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImgbasedClient, READ_ROUTES } from '@imgbased/client';
import { entryIdForLayer, ImageEngine } from '@imgbased/core';
import {
  FixedHost,
  foreignEntry,
  installedLayerEntry,
  MemoryBootloader,
  MemoryLock,
  MemoryVolumeManager,
  RecordingFilesystem,
} from '@imgbased/core/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { JobManager } from './jobs.js';
import { stderrLogger } from './log.js';
import { buildServer } from './server.js';
import { runJobVerb } from './verbs.js';

/** A file system whose UUID step waits until the test lets it go: a job that can be caught running. */
class GatedFilesystem extends RecordingFilesystem {
  gate: Promise<void> | undefined;
  entered: (() => void) | undefined;
  override async regenerateUuid(device: string): Promise<void> {
    this.entered?.();
    await this.gate;
    return super.regenerateUuid(device);
  }
}

async function setUp(options: { isRoot?: boolean; boot?: MemoryBootloader } = {}) {
  const volumes = MemoryVolumeManager.thinpHost();
  const filesystem = new GatedFilesystem();
  const lock = new MemoryLock();
  const engine = new ImageEngine(volumes, filesystem, new FixedHost(), lock, options.boot);
  // One engine for real and dry runs: a job's context carries its dry run.
  const engineOf = () => engine;
  const lines: string[] = [];
  const log = stderrLogger({ write: (l) => lines.push(l) });
  const jobs = new JobManager((request, context) => runJobVerb(engine, request, options.isRoot ?? true, context));
  // Every request here is root's (the real peer credentials are tested over sockets in access.integration).
  const callerOf = () => ({ pid: 1, uid: 0, gid: 0, groups: [], access: 'change' as const });
  const app = buildServer({ engine: engineOf, jobs, log, callerOf });
  // The layout is made without a bootloader (its first entry is the installer's, set below).
  const present = options.boot?.present;
  if (options.boot) options.boot.present = false;
  await engine.initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  if (options.boot) options.boot.present = present ?? true;
  return { app, engine, volumes, filesystem, lock, jobs, lines };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const json = { 'content-type': 'application/json' };

describe('the daemon API', () => {
  it('answers every read verb with the envelope the CLI prints, formatted the same', async () => {
    const s = await setUp();
    app = s.app;
    const expected: Record<string, unknown> = {
      layout: await s.engine.layout(),
      'layout --bases': { bases: ['Base-1-0'] },
      'layout --layers': { layers: ['Base-1-0+1'] },
      'layout --free-space': await s.engine.freeSpace(),
      'base --latest': { base: 'Base-1-0' },
      'base --of-layer': { base: 'Base-1-0' },
      'layer --latest': { layer: 'Base-1-0+1' },
      'layer --volume-path': { path: '/dev/onn/Base-1-0+1' },
      // No bootloader present: what the CLI prints then.
      'boot --list': { bootloader: null, capabilities: null, default: null, next: null, entries: [] },
      'boot --get-default': { bootloader: null, entry: null, layer: null },
      'boot --trial-status': { bootloader: null, protocol: null, trial: null, layers: [] },
      status: await s.engine.status(),
      check: await s.engine.check(),
      motd: await s.engine.motd(false),
      'volume --list': await s.engine.listVolumes(),
      'recover --list': await s.engine.recoveryList(),
    };
    for (const route of READ_ROUTES) {
      const url = route.url.replace(':name', 'Base-1-0+1');
      const r = await app.inject({ method: 'GET', url });
      if (route.verb === 'layer --current' || route.verb === 'w') {
        expect(r.statusCode, url).toBe(404);
        expect(r.json().error.code).toBe('E_NOT_ON_LAYER');
        continue;
      }
      if (route.verb === 'layer --diff') {
        // This engine has no tree reader to look into layers with.
        expect(r.json().error.code, url).toBe('E_INTERNAL');
        continue;
      }
      if (route.verb === 'boot --kernel-args') {
        expect([r.statusCode, r.json().error.code], url).toEqual([409, 'E_NO_BOOTLOADER']);
        continue;
      }
      expect(r.statusCode, url).toBe(200);
      expect(r.body).toBe(
        `${JSON.stringify({ schemaVersion: 1, verb: route.verb, data: expected[route.verb] }, null, 2)}\n`,
      );
    }
  });

  it('maps typed errors to statuses', async () => {
    const s = await setUp();
    app = s.app;
    const cases: [string, number, string][] = [
      ['/v1/layers/Nope-1-0+1/base', 404, 'E_LAYER_NOT_FOUND'],
      ['/v1/volumes/x;rm%20-rf/path', 400, 'E_NAME_INVALID'],
      ['/v1/volumes/Nope-1-0/path', 404, 'E_BASE_NOT_FOUND'],
    ];
    for (const [url, status, code] of cases) {
      const r = await app.inject({ method: 'GET', url });
      expect([r.statusCode, r.json().error.code], url).toEqual([status, code]);
    }
  });

  it('answers every malformed request with a typed 4xx error, and serves the next one', async () => {
    const s = await setUp();
    app = s.app;
    const corpus: {
      method: 'GET' | 'POST' | 'DELETE' | 'PUT';
      url: string;
      body?: string;
      headers?: Record<string, string>;
      status: number;
    }[] = [
      { method: 'POST', url: '/v1/jobs', body: '{"verb":', headers: json, status: 400 },
      { method: 'POST', url: '/v1/jobs', body: '', headers: json, status: 400 },
      { method: 'POST', url: '/v1/jobs', body: '[]', headers: json, status: 400 },
      { method: 'POST', url: '/v1/jobs', body: 'null', headers: json, status: 400 },
      { method: 'POST', url: '/v1/jobs', body: '{"verb":"layer --add","extra":1}', headers: json, status: 400 },
      {
        method: 'POST',
        url: '/v1/jobs',
        body: '{"verb":"layer --add","args":{"form":"x"}}',
        headers: json,
        status: 400,
      },
      { method: 'POST', url: '/v1/jobs', body: '{"verb":"rm -rf /"}', headers: json, status: 400 },
      {
        method: 'POST',
        url: '/v1/jobs',
        body: '{"verb":"base --add","args":{"nvr":1,"size":"1G"}}',
        headers: json,
        status: 400,
      },
      {
        method: 'POST',
        url: '/v1/jobs',
        body: '{"verb":"base --add","args":{"nvr":"B-1-0"}}',
        headers: json,
        status: 400,
      },
      { method: 'POST', url: '/v1/jobs', body: '{"verb":"layer --add","dryRun":"yes"}', headers: json, status: 400 },
      {
        method: 'POST',
        url: '/v1/jobs',
        body: '{"verb":"layer --add","__proto__":{"x":1}}',
        headers: json,
        status: 400,
      },
      {
        method: 'POST',
        url: '/v1/jobs',
        body: `{"verb":"layer --add","args":{"from":"${'a'.repeat(200_000)}"}}`,
        headers: json,
        status: 413,
      },
      { method: 'POST', url: '/v1/jobs', body: 'verb=layer', headers: { 'content-type': 'text/plain' }, status: 415 },
      { method: 'POST', url: '/v1/jobs', status: 400 },
      { method: 'GET', url: '/v1/nope', status: 404 },
      { method: 'PUT', url: '/v1/layout', body: '{}', headers: json, status: 404 },
      { method: 'GET', url: '/v1/jobs/not-an-id', status: 400 },
      { method: 'GET', url: '/v1/jobs/0123456789abcdef', status: 404 },
      { method: 'DELETE', url: '/v1/jobs/0123456789abcdef', status: 404 },
      { method: 'GET', url: `/v1/volumes/${'a'.repeat(300)}/path`, status: 414 },
      { method: 'GET', url: '/v1/volumes/%E0%A4%A/path', status: 400 },
    ];
    for (const c of corpus) {
      const r = await app.inject({ method: c.method, url: c.url, payload: c.body, headers: c.headers });
      const label = `${c.method} ${c.url.slice(0, 40)} ${c.body?.slice(0, 60) ?? ''}`;
      expect(r.statusCode, label).toBe(c.status);
      expect(r.json().error.code, label).toBe('E_USAGE');
      expect(r.json().schemaVersion).toBe(1);
      const next = await app.inject({ method: 'GET', url: '/v1/layout/bases' });
      expect(next.json().data, `after ${label}`).toEqual({ bases: ['Base-1-0'] });
    }
    expect(s.volumes.volumes.map((v) => v.name).sort()).toEqual(['Base-1-0', 'Base-1-0+1', 'root']);
  });

  it('runs a changing verb as a job, and its events and outcome are those of the engine', async () => {
    const s = await setUp();
    app = s.app;
    const started = await app.inject({ method: 'POST', url: '/v1/jobs', payload: { verb: 'layer --add' } });
    expect(started.statusCode).toBe(202);
    const { jobId } = started.json().data;
    expect(started.headers.location).toBe(`/v1/jobs/${jobId}`);
    const ended = await new Promise<unknown>((resolve) => s.jobs.follow(jobId, (m) => 'end' in m && resolve(m.end)));
    expect(ended).toMatchObject({ id: jobId, verb: 'layer --add', state: 'succeeded', dryRun: false });
    const job = (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}` })).json();
    expect(job.verb).toBe('job');
    expect(job.data.outcome).toEqual({
      schemaVersion: 1,
      verb: 'layer --add',
      data: { dryRun: false, created: ['Base-1-0+2'], removed: [], recovered: [], plan: [] },
    });
    expect((await app.inject({ method: 'GET', url: '/v1/layout/layers' })).json().data.layers).toEqual([
      'Base-1-0+1',
      'Base-1-0+2',
    ]);
  });

  it('rebuilds the typed error of a job through the client, and refuses non-root callers as the CLI does', async () => {
    const s = await setUp({ isRoot: false });
    app = s.app;
    const dir = await mkdtemp(path.join(tmpdir(), 'imgbased-daemon-'));
    try {
      const socketPath = path.join(dir, 's.sock');
      await app.listen({ path: socketPath });
      const client = new ImgbasedClient({ socketPath });
      expect(await client.layers()).toEqual(['Base-1-0+1']);
      expect(await client.baseOfLayer('Base-1-0+1')).toBe('Base-1-0');
      await expect(client.volumePath('Nope-1-0')).rejects.toMatchObject({
        code: 'E_BASE_NOT_FOUND',
        name: 'BaseNotFoundError',
      });
      await expect(client.run({ verb: 'layer --add' })).rejects.toMatchObject({ code: 'E_NOT_ROOT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('jobs', () => {
  it('stream their events over SSE, and a cancelled job undoes what it made', async () => {
    const s = await setUp();
    app = s.app;
    const dir = await mkdtemp(path.join(tmpdir(), 'imgbased-daemon-'));
    try {
      const socketPath = path.join(dir, 's.sock');
      await app.listen({ path: socketPath });
      const client = new ImgbasedClient({ socketPath });
      const before = s.volumes.volumes.map((v) => `${v.name} ${v.tags.join(',')}`).sort();
      let release!: () => void;
      s.filesystem.gate = new Promise((resolve) => (release = resolve));
      const entered = new Promise<void>((resolve) => (s.filesystem.entered = resolve));
      const id = await client.startJob({ verb: 'layer --add' });
      await entered;
      expect((await client.job(id)).state).toBe('running');
      expect(s.volumes.volumes.some((v) => v.name === 'Base-1-0+2')).toBe(true);
      const events: string[] = [];
      const following = (async () => {
        for await (const e of client.events(id)) events.push(e.event);
      })();
      expect((await client.cancel(id)).id).toBe(id);
      release();
      await following;
      const job = await client.job(id);
      expect(job.state).toBe('cancelled');
      expect(job.outcome).toMatchObject({ verb: 'layer --add', error: { code: 'E_CANCELLED' } });
      expect(events[0]).toBe('step');
      expect(events).toContain('undo');
      expect(events.at(-1)).toBe('end');
      expect(s.volumes.volumes.map((v) => `${v.name} ${v.tags.join(',')}`).sort()).toEqual(before);

      // A job that runs to its end; `run` gives its result.
      s.filesystem.gate = undefined;
      const result = await client.run({ verb: 'layer --add', args: { from: 'Base-1-0' } });
      expect(result.created).toEqual(['Base-1-0+2']);
      // The engine's lock serialises: while it is held, a job fails with E_LOCKED.
      const held = await s.lock.acquire('imgbase layer --add (another process)');
      await expect(client.run({ verb: 'layer --add' })).rejects.toSatisfy(
        (e) => e instanceof Error && (e as { code?: string }).code === 'E_LOCKED' && e.name === 'LockedError',
      );
      await held.release();
      expect(await client.layers()).toEqual(['Base-1-0+1', 'Base-1-0+2']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('are cancelled when the daemon stops, and cancelAll waits for their undo', async () => {
    const s = await setUp();
    app = s.app;
    let release!: () => void;
    s.filesystem.gate = new Promise((resolve) => (release = resolve));
    const entered = new Promise<void>((resolve) => (s.filesystem.entered = resolve));
    const job = s.jobs.start({ verb: 'layer --add' });
    await entered;
    const stopping = s.jobs.cancelAll();
    release();
    await stopping;
    expect(s.jobs.get(job.id)?.state).toBe('cancelled');
    expect(s.volumes.volumes.map((v) => v.name).sort()).toEqual(['Base-1-0', 'Base-1-0+1', 'root']);
  });
});

/** The first layer's entry, as an installer would have left it, and one imgbased did not write. */
function installedEntries(boot: MemoryBootloader): void {
  boot.entries = [installedLayerEntry('Base-1-0+1'), foreignEntry()];
  boot.defaultId = entryIdForLayer('Base-1-0+1');
}

describe('the boot verbs', () => {
  it('answer boot --list and --get-default as the CLI prints them, and change the entry to boot through jobs under the lock', async () => {
    const boot = new MemoryBootloader();
    const s = await setUp({ boot });
    installedEntries(boot);
    app = s.app;
    const dir = await mkdtemp(path.join(tmpdir(), 'imgbased-daemon-'));
    try {
      const socketPath = path.join(dir, 's.sock');
      await app.listen({ path: socketPath });
      const client = new ImgbasedClient({ socketPath });
      // A layer made through the daemon gets its entry (from its source's) and becomes the default.
      const added = await client.run({ verb: 'layer --add' });
      expect(added.boot).toEqual({
        bootloader: 'memory',
        added: [entryIdForLayer('Base-1-0+2')],
        removed: [],
        atomic: true,
      });

      const envelope = (verb: string, data: unknown) =>
        `${JSON.stringify({ schemaVersion: 1, verb, data }, null, 2)}\n`;
      const list = await app.inject({ method: 'GET', url: '/v1/boot/entries' });
      expect(list.statusCode).toBe(200);
      expect(list.body).toBe(envelope('boot --list', await s.engine.bootList()));
      expect(list.json().data.entries.map((e: { layer: string | null }) => e.layer)).toEqual([
        'Base-1-0+1',
        'Base-1-0+2',
        null,
      ]);
      const byDefault = await app.inject({ method: 'GET', url: '/v1/boot/default' });
      expect(byDefault.body).toBe(envelope('boot --get-default', await s.engine.bootDefault()));
      expect(await client.bootDefault()).toMatchObject({ bootloader: 'memory', layer: 'Base-1-0+2' });

      // A dry run says what it would do and changes nothing (and, as in the CLI, needs no lock).
      const before = boot.snapshot();
      const held = await s.lock.acquire('imgbase layer --add (another process)');
      const planned = await client.run({ verb: 'boot --set-default', args: { layer: 'Base-1-0+1' }, dryRun: true });
      expect(planned).toEqual({
        dryRun: true,
        bootloader: 'memory',
        layer: 'Base-1-0+1',
        entry: entryIdForLayer('Base-1-0+1'),
        atomic: true,
        trial: false,
      });
      // While the lock is held, the change fails with E_LOCKED, and nothing changed.
      await expect(client.run({ verb: 'boot --set-default', args: { layer: 'Base-1-0+1' } })).rejects.toMatchObject({
        code: 'E_LOCKED',
      });
      expect(boot.snapshot()).toBe(before);
      await held.release();

      const id = await client.startJob({ verb: 'boot --set-default', args: { layer: 'Base-1-0+1' } });
      const events: string[] = [];
      for await (const e of client.events(id)) events.push(e.event);
      expect(events).toEqual(['step', 'step', 'end']); // the change, then the commit
      const job = await client.job(id);
      expect(job).toMatchObject({ verb: 'boot --set-default', args: { layer: 'Base-1-0+1' }, state: 'succeeded' });
      expect(job.outcome).toEqual({
        schemaVersion: 1,
        verb: 'boot --set-default',
        data: {
          dryRun: false,
          bootloader: 'memory',
          layer: 'Base-1-0+1',
          entry: entryIdForLayer('Base-1-0+1'),
          atomic: true,
          trial: false,
        },
      });
      expect(boot.defaultId).toBe(entryIdForLayer('Base-1-0+1'));
      expect((await client.bootDefault()).layer).toBe('Base-1-0+1');

      const once = await client.run({ verb: 'boot --next', args: { layer: 'Base-1-0+2' } });
      expect(once.entry).toBe(entryIdForLayer('Base-1-0+2'));
      expect((await client.bootList()).next).toBe(entryIdForLayer('Base-1-0+2'));
      expect(boot.log.slice(-2)).toEqual([
        `default ${entryIdForLayer('Base-1-0+1')}`,
        `next ${entryIdForLayer('Base-1-0+2')}`,
      ]);

      // The engine's typed errors, as the CLI gets them.
      await expect(client.run({ verb: 'boot --set-default', args: { layer: 'Nope-1-0+1' } })).rejects.toMatchObject({
        code: 'E_LAYER_NOT_FOUND',
      });
      boot.oneShot = false;
      await expect(client.run({ verb: 'boot --next', args: { layer: 'Base-1-0+1' } })).rejects.toMatchObject({
        code: 'E_BOOT_UNSUPPORTED',
      });
      expect(boot.nextId).toBe(entryIdForLayer('Base-1-0+2'));

      // Kernel arguments: read per layer, edited through a job (a dry run changes nothing).
      const args = await app.inject({ method: 'GET', url: '/v1/layers/Base-1-0+1/kernel-args' });
      expect(args.body).toBe(envelope('boot --kernel-args', await s.engine.kernelArgs('Base-1-0+1')));
      const edit = { layer: 'Base-1-0+1', append: ['quiet', 'console=ttyS0'] };
      const wouldBe = await client.run({ verb: 'boot --edit-kernel-args', args: edit, dryRun: true });
      expect(wouldBe).toMatchObject({ dryRun: true, options: expect.arrayContaining(['quiet', 'console=ttyS0']) });
      expect(await client.kernelArgs('Base-1-0+1')).toEqual(args.json().data);
      const edited = await client.run({ verb: 'boot --edit-kernel-args', args: edit });
      expect(edited).toMatchObject({ dryRun: false, previous: args.json().data.options, layer: 'Base-1-0+1' });
      expect((await client.kernelArgs('Base-1-0+1')).options).toEqual(edited.options);
      expect(edited.options).toEqual(expect.arrayContaining(['quiet', 'console=ttyS0']));
      await expect(
        client.run({ verb: 'boot --edit-kernel-args', args: { layer: 'Base-1-0+1', append: ['root=/dev/sda1'] } }),
      ).rejects.toMatchObject({ code: 'E_KERNEL_ARG_INVALID' });
      await expect(
        client.run({ verb: 'boot --edit-kernel-args', args: { layer: 'Base-1-0+1' } }),
      ).rejects.toMatchObject({ code: 'E_USAGE' });
      expect((await client.kernelArgs('Base-1-0+1')).options).toEqual(edited.options);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuse malformed boot jobs and non-root callers', async () => {
    const boot = new MemoryBootloader();
    const s = await setUp({ boot, isRoot: false });
    installedEntries(boot);
    app = s.app;
    for (const body of [
      '{"verb":"boot --set-default"}',
      '{"verb":"boot --set-default","args":{}}',
      '{"verb":"boot --next","args":{"layer":7}}',
      '{"verb":"boot --next","args":{"layer":"Base-1-0+1","once":true}}',
      '{"verb":"boot --list"}',
      '{"verb":"boot --edit-kernel-args","args":{"layer":"Base-1-0+1","append":"quiet"}}',
      '{"verb":"boot --edit-kernel-args","args":{"layer":"Base-1-0+1","append":[1]}}',
      '{"verb":"boot --edit-kernel-args","args":{"append":["quiet"]}}',
    ]) {
      const r = await app.inject({ method: 'POST', url: '/v1/jobs', payload: body, headers: json });
      expect([r.statusCode, r.json().error.code], body).toEqual([400, 'E_USAGE']);
    }
    const started = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { verb: 'boot --set-default', args: { layer: 'Base-1-0+1' } },
    });
    const { jobId } = started.json().data;
    const ended = await new Promise<unknown>((resolve) => s.jobs.follow(jobId, (m) => 'end' in m && resolve(m.end)));
    expect(ended).toMatchObject({
      state: 'failed',
      outcome: { verb: 'boot --set-default', error: { code: 'E_NOT_ROOT' } },
    });
    expect(boot.log).toEqual([]);
  });
});
