import 'reflect-metadata';
import { DEFAULT_SOCKET_PATH, type JobState } from '@imgbased/client';
import { toImgbasedError } from '@imgbased/core';
import { ExecaCommandRunner } from '@imgbased/system';
import { hostState } from './changes.js';
import { createEngines } from './container.js';
import { JobManager } from './jobs.js';
import type { Logger } from './log.js';
import { daemonLogger } from './log.js';
import { accessOf, type Caller, callerFields, loadPeerReader } from './peer.js';
import { ReadCache } from './read-cache.js';
import { buildServer } from './server.js';
import { groupId, listenTarget, notify, prepareSocketPath, SOCKET_GROUP, secureSocket } from './systemd.js';
import { runJobVerb } from './verbs.js';
import { VERSION } from './version.js';

const USAGE = `usage: imgbased [--socket PATH] [--debug]
Serves imgbased's API (the verbs of imgbase, as HTTP+JSON) on a Unix socket (default ${DEFAULT_SOCKET_PATH},
or the one systemd passes with socket activation). Never listens on TCP. See GET /v1/openapi.json.
`;

/** The `imgbased` process: serve until SIGTERM/SIGINT, then cancel the running jobs and stop. */
export async function main(argv: readonly string[]): Promise<number> {
  let socketPath = process.env.IMGBASED_SOCKET ?? DEFAULT_SOCKET_PATH;
  let debug = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--socket' && argv[i + 1]) socketPath = argv[++i]!;
    else if (arg.startsWith('--socket=')) socketPath = arg.slice('--socket='.length);
    else if (arg === '--debug') debug = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else {
      process.stderr.write(`imgbased: unknown argument '${arg}'\n${USAGE}`);
      return 2;
    }
  }
  // The log needs no configuration, so it works even when loading the configuration fails.
  const { log } = daemonLogger(new ExecaCommandRunner(), { debug });
  try {
    return await serve(socketPath, log);
  } catch (error) {
    const failure = toImgbasedError(error);
    log.error(failure.message, { event: 'fatal', error: failure.toJSON() });
    return 1;
  } finally {
    await Promise.race([log.flush(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }
}

/** The longest a read answer is kept, for the few things the cache's stamp cannot see (read-cache.ts). */
const READ_MAX_AGE_MS = 2000;

/** The journal's IMGBASED_EVENT of a job's end. */
const END_EVENT: Record<Exclude<JobState, 'running'>, string> = {
  succeeded: 'job-finished',
  failed: 'job-failed',
  cancelled: 'job-cancelled',
};

async function serve(socketPath: string, log: Logger): Promise<number> {
  // Who calls is decided from each connection's peer credentials: without them, nobody is served.
  const readPeer = loadPeerReader();
  const engines = await createEngines();
  const settings = engines.config.daemon;
  const isRoot = process.getuid?.() === 0;
  const readers = await groupId(SOCKET_GROUP);
  const jobs = new JobManager(
    (request, context) => runJobVerb(engines.engine(request.dryRun ?? false), request, isRoot, context),
    (job, caller) => {
      // A job's end is a change too (the lock counts the engine's; this covers any that took none).
      engines.changes.bump();
      const error = job.outcome && 'error' in job.outcome ? job.outcome.error : undefined;
      const fields = {
        event: END_EVENT[job.state as Exclude<JobState, 'running'>],
        jobId: job.id,
        verb: job.verb,
        state: job.state,
        ...(caller ? callerFields(caller) : {}),
        ...(error ? { errorCode: error.code, error } : {}),
      };
      const message = `job ${job.id} ${job.state}: ${job.verb}${error ? `: ${error.message}` : ''}`;
      if (job.state === 'failed') log.warn(message, fields);
      else log.info(message, fields);
    },
    settings.max_jobs,
  );
  const callerOf = (socket: Parameters<typeof readPeer>[0]): Caller => {
    const peer = readPeer(socket);
    return { ...peer, access: accessOf(peer, readers) };
  };
  const readCache = new ReadCache({
    changes: engines.changes,
    hostState: hostState({ runner: engines.runner, lockDir: engines.config.core.lock_dir }),
    maxAgeMs: READ_MAX_AGE_MS,
  });
  const app = buildServer({ engine: engines.engine, jobs, log, callerOf, group: SOCKET_GROUP, settings, readCache });
  await app.ready();
  const target = listenTarget(process.env, process.pid, socketPath);
  if ('fd' in target) {
    await new Promise<void>((resolve, reject) => {
      app.server.once('error', reject);
      app.server.listen({ fd: target.fd }, () => resolve());
    });
    log.info('serving the socket systemd passed', { event: 'serving', fd: target.fd, version: VERSION });
  } else {
    await prepareSocketPath(target.path);
    const umask = process.umask(0o177); // nobody but root may connect until the mode is set
    try {
      await app.listen({ path: target.path });
    } finally {
      process.umask(umask);
    }
    const { mode, gid } = await secureSocket(target.path);
    log.info(`serving ${target.path}`, {
      event: 'serving',
      socket: target.path,
      mode: mode.toString(8),
      gid,
      version: VERSION,
    });
  }
  await notify(engines.runner, process.env, ['--ready', '--status=Serving the imgbased API']).catch((error) =>
    log.warn('could not notify systemd', { event: 'notify-failed', error: toImgbasedError(error).toJSON() }),
  );

  // `on`, not `once`: execa's exit hook (signal-exit) re-raises a signal that no other listener
  // still handles, which would kill the process before the running job has undone its steps.
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: string) => {
      if (stopping)
        log.warn('still stopping: waiting for the running jobs to undo their steps', { event: 'stopping', signal });
      stopping = true;
      resolve(signal);
    };
    let stopping = false;
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  const signal = await stopped;
  // From here on every new job is refused (503 E_SHUTTING_DOWN); reads are still answered.
  jobs.beginShutdown();
  log.info(`stopping (${signal})`, { event: 'stopping', signal, runningJobs: jobs.running.map((j) => j.id) });
  await notify(engines.runner, process.env, ['--stopping']).catch(() => undefined);
  // Running jobs are cancelled: each undoes what it made, and keeps everything that existed before it.
  await jobs.cancelAll();
  await Promise.race([app.close(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  log.info('stopped', { event: 'stopped' });
  return 0;
}
