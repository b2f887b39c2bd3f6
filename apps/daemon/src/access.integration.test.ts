// The daemon's authorisation and limits through a real Unix socket, with real callers: root (this
// process), a user in the readers' group (only as a supplementary group, so SO_PEERGROUPS is what
// counts) and a user outside it, made for this test with groupadd/useradd and removed after it; each
// runs the real curl under `setpriv --reuid --regid --init-groups`. The peer credentials come from the
// real addon (dist/peercred.node, built first). The engine is core's in-memory one: what is under test
// is who may do what, not LVM (the VM tests do that under systemd).
import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, ImageEngine } from '@imgbased/core';
import { FixedHost, MemoryLock, MemoryVolumeManager, RecordingFilesystem } from '@imgbased/core/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobManager } from './jobs.js';
import { stderrLogger } from './log.js';
import { accessOf, type Caller, loadPeerReader } from './peer.js';
import { buildServer } from './server.js';
import { groupId, secureSocket } from './systemd.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const isRoot = process.getuid?.() === 0;
const tag = `${process.pid % 100000}`;
const GROUP = `ibtest-rd${tag}`;
const READER = `ibtest-r${tag}`;
const OUTSIDER = `ibtest-o${tag}`;

interface Run {
  readonly pid: number;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv (as `user` through setpriv, or as root), to the end. */
function run(argv: string[], user?: string): Promise<Run> {
  const full = user ? ['setpriv', `--reuid=${user}`, `--regid=${uid(user, '-g')}`, '--init-groups', ...argv] : argv;
  const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // setpriv execs curl: the pid the daemon sees is this one.
  return new Promise((resolve) =>
    child.on('close', (exitCode) => resolve({ pid: child.pid!, exitCode, stdout, stderr })),
  );
}
const uid = (user: string, flag = '-u') => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());

let dir: string;
let sock: string;
let app: FastifyInstance;
let jobs: JobManager;
let release: () => void = () => undefined;
const lines: string[] = [];
const entries = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

/** curl of the API over the socket, as `user` (root when omitted); the last line of stdout is the status. */
async function curl(method: string, url: string, options: { user?: string; body?: unknown } = {}) {
  const argv = ['curl', '-sS', '--max-time', '10', '--unix-socket', sock, '-X', method, '-w', '\n%{http_code}'];
  if (options.body !== undefined)
    argv.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(options.body));
  argv.push(`http://localhost${url}`);
  const r = await run(argv, options.user);
  const at = r.stdout.lastIndexOf('\n');
  const body = r.stdout.slice(0, at);
  // biome-ignore lint/suspicious/noExplicitAny: test reads of envelope fields
  let json: Record<string, any> | undefined;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined; // an event stream, not an envelope
  }
  return { ...r, status: Number(r.stdout.slice(at + 1)), json };
}

describe.skipIf(!isRoot)('the daemon, called over its socket by root, a reader and an outsider', () => {
  beforeAll(async () => {
    execFileSync('node', [path.join(here, '../build-native.mjs')], { stdio: 'inherit' });
    execFileSync('groupadd', [GROUP]);
    execFileSync('useradd', [
      '--no-create-home',
      '--no-user-group',
      '--shell',
      '/usr/sbin/nologin',
      '--groups',
      GROUP,
      READER,
    ]);
    execFileSync('useradd', ['--no-create-home', '--no-user-group', '--shell', '/usr/sbin/nologin', OUTSIDER]);
    dir = await mkdtemp(path.join(tmpdir(), 'imgbased-access-'));
    await chmod(dir, 0o755); // the callers must reach the socket; its own mode decides who may connect
    await mkdir(path.join(dir, 'images'));
    await writeFile(path.join(dir, 'images/base.img'), 'not really an image');
    sock = path.join(dir, 'imgbased.sock');

    const engine = new ImageEngine(
      MemoryVolumeManager.thinpHost(),
      new RecordingFilesystem(),
      new FixedHost(),
      new MemoryLock(),
    );
    await engine.initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Jobs that run until the test releases them: the limits can be met on purpose.
    jobs = new JobManager(async () => gate.then(() => ({ added: [], removed: [] }) as never), undefined, 1);
    const readPeer = loadPeerReader();
    const readers = await groupId(GROUP);
    const settings = {
      ...defaultConfig().daemon,
      image_dir: path.join(dir, 'images'),
      max_jobs: 1,
      max_event_streams: 1,
    };
    app = buildServer({
      engine: () => engine,
      jobs,
      log: stderrLogger({ write: (l) => lines.push(l), debug: true }),
      callerOf: (socket): Caller => {
        const peer = readPeer(socket);
        return { ...peer, access: accessOf(peer, readers) };
      },
      group: GROUP,
      settings: { ...settings, connection_timeout: 1, request_timeout: 2 },
    });
    const umask = process.umask(0o177);
    await app.listen({ path: sock }).finally(() => process.umask(umask));
    expect(await secureSocket(sock, GROUP)).toEqual({ mode: 0o660, gid: readers });
  });

  afterAll(async () => {
    release();
    await jobs?.cancelAll();
    await app?.close();
    for (const user of [READER, OUTSIDER]) execFileSync('userdel', [user], { stdio: 'ignore' });
    execFileSync('groupdel', [GROUP], { stdio: 'ignore' });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lets a member of the group read, names its uid and pid, and refuses its changes with 403 E_NOT_ROOT', async () => {
    const read = await curl('GET', '/v1/layout/bases', { user: READER });
    expect(read.status, read.stderr).toBe(200);
    expect(read.json!.data).toMatchObject({ bases: ['Base-1-0'] });
    const entry = entries().find((e) => e.event === 'request' && e.callerPid === read.pid);
    expect(entry, 'the request entry names the reader').toMatchObject({ callerUid: uid(READER), status: 200 });

    const change = await curl('POST', '/v1/jobs', { user: READER, body: { verb: 'layer --add', dryRun: true } });
    expect([change.status, change.json!.error.code]).toEqual([403, 'E_NOT_ROOT']);
    const cancel = await curl('DELETE', '/v1/jobs/0123456789abcdef', { user: READER });
    expect([cancel.status, cancel.json!.error.code]).toEqual([403, 'E_NOT_ROOT']);
    expect(jobs.runningCount).toBe(0);
  });

  it('does not let a user outside the group connect; if the socket were open to all, refuses with E_FORBIDDEN', async () => {
    const refused = await curl('GET', '/v1/layout/bases', { user: OUTSIDER });
    expect(refused.exitCode, 'curl: could not connect').toBe(7);
    expect(refused.stderr).toMatch(/Permission denied|Couldn't connect/i);
    // The daemon's own check, should the file's mode ever be wrong.
    await chmod(sock, 0o666);
    try {
      const read = await curl('GET', '/v1/layout/bases', { user: OUTSIDER });
      expect([read.status, read.json!.error.code]).toEqual([403, 'E_FORBIDDEN']);
      const change = await curl('POST', '/v1/jobs', { user: OUTSIDER, body: { verb: 'layer --add' } });
      expect([change.status, change.json!.error.code]).toEqual([403, 'E_FORBIDDEN']);
    } finally {
      await chmod(sock, 0o660);
    }
  });

  it("lets root start a job, whose journal entry names root's uid and the caller's pid; a second is 429 E_BUSY", async () => {
    const started = await curl('POST', '/v1/jobs', { body: { verb: 'layer --add', dryRun: true } });
    expect(started.status, started.stderr).toBe(202);
    const jobId = started.json!.data.jobId as string;
    expect(entries().find((e) => e.event === 'job-started')).toMatchObject({
      jobId,
      callerUid: 0,
      callerPid: started.pid,
      dryRun: true,
    });
    // max_jobs = 1, and the running dry run counts.
    const busy = await curl('POST', '/v1/jobs', { body: { verb: 'layer --add', dryRun: true } });
    expect([busy.status, busy.json!.error.code]).toEqual([429, 'E_BUSY']);

    // max_event_streams = 1: the reader follows the job; a second stream is refused until it closes.
    const follower = spawn('setpriv', [
      `--reuid=${READER}`,
      `--regid=${uid(READER, '-g')}`,
      '--init-groups',
      'curl',
      '-sSN',
      '--unix-socket',
      sock,
      `http://localhost/v1/jobs/${jobId}/events`,
    ]);
    let streamed = '';
    follower.stdout.on('data', (d) => (streamed += d));
    for (let i = 0; i < 100 && !streamed.includes('keep-alive') && !streamed.includes('event:'); i++) await sleep(50);
    await sleep(800); // a heartbeat (every connection_timeout / 3) kept the stream open meanwhile
    const second = await curl('GET', `/v1/jobs/${jobId}/events`, { user: READER });
    expect([second.status, second.json!.error.code]).toEqual([429, 'E_BUSY']);
    follower.kill('SIGTERM');
    await new Promise((resolve) => follower.once('close', resolve));
    expect(streamed).toContain(': keep-alive');

    release();
    for (let i = 0; i < 100 && jobs.runningCount > 0; i++) await sleep(20);
    const done = await curl('GET', `/v1/jobs/${jobId}/events`, { user: READER });
    expect(done.status).toBe(200);
    expect(done.stdout).toContain('event: end');
    expect(entries().find((e) => e.event === 'request' && e.callerPid === done.pid)).toMatchObject({
      callerUid: uid(READER),
    });
  });

  it('reads images only from image_dir, symlinks resolved', async () => {
    const outside = await curl('POST', '/v1/jobs', {
      body: { verb: 'base --add', args: { nvr: 'B-2-0', size: '1G', image: '/etc/passwd' } },
    });
    expect([outside.status, outside.json!.error.code]).toEqual([403, 'E_IMAGE_OUTSIDE_DIR']);
    const dots = await curl('POST', '/v1/jobs', {
      body: { verb: 'base --add', args: { nvr: 'B-2-0', size: '1G', image: '../imgbased.sock' } },
    });
    expect([dots.status, dots.json!.error.code]).toEqual([403, 'E_IMAGE_OUTSIDE_DIR']);
  });

  it('closes a connection idle for connection_timeout, and answers 408 to a request not whole in request_timeout', async () => {
    const idle = connect(sock);
    const opened = Date.now();
    let idleAnswer = '';
    idle.on('data', (d) => (idleAnswer += d));
    const idleFor = await new Promise<number>((resolve) => idle.once('close', () => resolve(Date.now() - opened)));
    expect(idleFor).toBeGreaterThanOrEqual(900);
    expect(idleFor).toBeLessThan(1900);
    expect(idleAnswer).toBe('');

    // A header line every 300 ms: never idle, but the request is not whole after 2 s.
    const slow = connect(sock);
    let answer = '';
    slow.on('data', (d) => (answer += d));
    slow.write('GET /v1/layout HTTP/1.1\r\nHost: localhost\r\n');
    const trickle = setInterval(() => slow.write('X-Slow: 1\r\n'), 300);
    const started = Date.now();
    await new Promise((resolve) => slow.once('close', resolve));
    clearInterval(trickle);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(4500);
  });

  it('takes no job once shutdown began: 503 E_SHUTTING_DOWN, reads still answered', async () => {
    jobs.beginShutdown();
    const refused = await curl('POST', '/v1/jobs', { body: { verb: 'layer --add', dryRun: true } });
    expect([refused.status, refused.json!.error.code]).toEqual([503, 'E_SHUTTING_DOWN']);
    expect((await curl('GET', '/v1/layout/bases', { user: READER })).status).toBe(200);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
