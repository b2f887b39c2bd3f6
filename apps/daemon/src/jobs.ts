import { randomBytes } from 'node:crypto';
import type { Envelope, JobRequest, JobResult, JobState, JobView } from '@imgbased/client';
import {
  BusyError,
  type EngineEvent,
  type OperationContext,
  SCHEMA_VERSION,
  ShuttingDownError,
  toImgbasedError,
} from '@imgbased/core';
import type { PeerCredentials } from './peer.js';

export type JobExecutor = (request: JobRequest, context: OperationContext) => Promise<JobResult>;

export interface StreamedEvent {
  readonly seq: number;
  readonly event: EngineEvent;
}

export type JobListener = (event: StreamedEvent | { readonly seq: number; readonly end: JobView }) => void;

/** How many finished jobs are remembered (oldest forgotten first). */
const KEEP_FINISHED = 100;
/** How many events one job keeps for followers that join late. */
const KEEP_EVENTS = 10_000;

class Job {
  readonly id = randomBytes(8).toString('hex');
  readonly controller = new AbortController();
  readonly events: StreamedEvent[] = [];
  readonly listeners = new Set<JobListener>();
  readonly createdAt = new Date().toISOString();
  state: JobState = 'running';
  finishedAt: string | null = null;
  outcome: Envelope<JobResult> | null = null;
  done!: Promise<void>;
  seq = 0;

  constructor(
    readonly request: JobRequest,
    readonly caller: PeerCredentials | undefined,
  ) {}

  view(): JobView {
    return {
      id: this.id,
      verb: this.request.verb,
      args: { ...(this.request.args ?? {}) },
      dryRun: this.request.dryRun ?? false,
      state: this.state,
      createdAt: this.createdAt,
      finishedAt: this.finishedAt,
      outcome: this.outcome,
    };
  }
}

/** Called when a job ends, with who started it (the connection's peer credentials). */
export type JobFinished = (job: JobView, caller: PeerCredentials | undefined) => void;

/**
 * The daemon's jobs: each changing verb runs as one, at once, with its own AbortController. The daemon
 * does not serialise them itself: the engine takes the operation lock (the CLI's own `PidFileLock`), so
 * a second change while one runs, here or in `imgbase`, fails with E_LOCKED exactly as the CLI would.
 * At most `maxJobs` run at once, dry runs included (they take no lock, so nothing else bounds them);
 * once `beginShutdown()` was called, no job is started.
 */
export class JobManager {
  private readonly jobs = new Map<string, Job>();
  private shuttingDown = false;

  constructor(
    private readonly execute: JobExecutor,
    private readonly onFinished: JobFinished = () => undefined,
    private readonly maxJobs = Number.POSITIVE_INFINITY,
  ) {}

  /** Starts a job, or throws E_SHUTTING_DOWN / E_BUSY (nothing started). */
  start(request: JobRequest, caller?: PeerCredentials): JobView {
    if (this.shuttingDown) throw new ShuttingDownError();
    if (this.runningCount >= this.maxJobs) throw new BusyError('jobs', this.maxJobs);
    const job = new Job(request, caller);
    this.jobs.set(job.id, job);
    const context: OperationContext = {
      signal: job.controller.signal,
      dryRun: request.dryRun ?? false,
      report: (event) => {
        const streamed = { seq: ++job.seq, event };
        if (job.events.length < KEEP_EVENTS) job.events.push(streamed);
        for (const listener of job.listeners) listener(streamed);
      },
    };
    job.done = (async () => this.execute(request, context))().then(
      (data) => this.finish(job, 'succeeded', { schemaVersion: SCHEMA_VERSION, verb: request.verb, data }),
      (error: unknown) => {
        const failure = toImgbasedError(error);
        this.finish(job, failure.code === 'E_CANCELLED' ? 'cancelled' : 'failed', {
          schemaVersion: SCHEMA_VERSION,
          verb: request.verb,
          error: failure.toJSON(),
        });
      },
    );
    return job.view();
  }

  get(id: string): JobView | undefined {
    return this.jobs.get(id)?.view();
  }

  /** Fires the job's AbortSignal (the engine then undoes its steps); a finished job is left as it is. */
  cancel(id: string): JobView | undefined {
    const job = this.jobs.get(id);
    if (job?.state === 'running') job.controller.abort(new Error('cancelled through the API'));
    return job?.view();
  }

  /**
   * Follows a job: the events it has had so far are replayed to `listener`, then new ones, then its
   * end. Returns the unsubscribe function, or undefined for an unknown job.
   */
  follow(id: string, listener: JobListener): (() => void) | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    for (const event of job.events) listener(event);
    if (job.state !== 'running') {
      listener({ seq: job.seq + 1, end: job.view() });
      return () => undefined;
    }
    job.listeners.add(listener);
    return () => job.listeners.delete(listener);
  }

  get runningCount(): number {
    let count = 0;
    for (const job of this.jobs.values()) if (job.state === 'running') count++;
    return count;
  }

  /** From now on no job is started (E_SHUTTING_DOWN); running ones go on. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  get running(): JobView[] {
    return [...this.jobs.values()].filter((j) => j.state === 'running').map((j) => j.view());
  }

  /** Takes no more jobs, cancels every running job and waits until each has undone its steps and ended. */
  async cancelAll(): Promise<void> {
    this.beginShutdown();
    const running = [...this.jobs.values()].filter((j) => j.state === 'running');
    for (const job of running) job.controller.abort(new Error('the daemon is stopping'));
    await Promise.all(running.map((j) => j.done));
  }

  private finish(job: Job, state: JobState, outcome: Envelope<JobResult>): void {
    job.state = state;
    job.outcome = outcome;
    job.finishedAt = new Date().toISOString();
    const end = { seq: ++job.seq, end: job.view() };
    for (const listener of job.listeners) listener(end);
    job.listeners.clear();
    this.onFinished(job.view(), job.caller);
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(old.id);
  }
}
