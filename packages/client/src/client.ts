import { request as httpRequest, type IncomingMessage } from 'node:http';
import {
  type BootDefault,
  type BootList,
  errorFromJSON,
  type FreeSpace,
  type ImgbasedError,
  InternalError,
  type KernelArgs,
  type LayoutView,
  type ReadVerbName,
  type SerializedError,
  VERBS,
  type VerbResult,
} from '@imgbased/core';
import {
  DEFAULT_SOCKET_PATH,
  type Envelope,
  type JobRequest,
  type JobResult,
  type JobStreamEvent,
  type JobView,
} from './api.js';

export interface ClientOptions {
  /** The daemon's Unix socket (default /run/imgbased/imgbased.sock). */
  readonly socketPath?: string;
  /** Per-request time limit in ms (default 60 s; event streams have none). */
  readonly timeoutMs?: number;
}

export interface RawResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * The daemon's API as typed calls. Answers are the data of the CLI's `--json` envelope; failures
 * throw the same typed errors the engine threw (rebuilt with `errorFromJSON`, so `code`, `message`,
 * `details` and `cause` survive the trip).
 */
export class ImgbasedClient {
  readonly socketPath: string;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions = {}) {
    this.socketPath = options.socketPath ?? DEFAULT_SOCKET_PATH;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  // ---- reading: one call per read verb of imgbase ----

  layout(): Promise<LayoutView> {
    return this.read('layout');
  }
  async bases(): Promise<string[]> {
    return (await this.read('layout --bases')).bases;
  }
  async layers(): Promise<string[]> {
    return (await this.read('layout --layers')).layers;
  }
  freeSpace(): Promise<FreeSpace> {
    return this.read('layout --free-space');
  }
  async latestBase(): Promise<string> {
    return (await this.read('base --latest')).base;
  }
  async baseOfLayer(layer: string): Promise<string> {
    return (await this.read('base --of-layer', layer)).base;
  }
  async latestLayer(): Promise<string> {
    return (await this.read('layer --latest')).layer;
  }
  async currentLayer(): Promise<string> {
    return (await this.read('layer --current')).layer;
  }
  async volumePath(name: string): Promise<string> {
    return (await this.read('layer --volume-path', name)).path;
  }
  /** The boot entries (`imgbase boot --list`); `bootloader: null` and no entries when none is present. */
  bootList(): Promise<BootList> {
    return this.read('boot --list');
  }
  /** The default boot entry and its layer (`imgbase boot --get-default`). */
  bootDefault(): Promise<BootDefault> {
    return this.read('boot --get-default');
  }
  /** The kernel arguments of a layer's boot entry (`imgbase boot --kernel-args LAYER`). */
  kernelArgs(layer: string): Promise<KernelArgs> {
    return this.read('boot --kernel-args', layer);
  }

  // ---- changing: jobs ----

  /** Starts a changing verb; answers at once with the job's id. */
  async startJob(job: JobRequest): Promise<string> {
    return (await this.call<{ jobId: string }>('POST', '/v1/jobs', job)).jobId;
  }
  job(id: string): Promise<JobView> {
    return this.get(`/v1/jobs/${encodeURIComponent(id)}`);
  }
  /** Asks the job to stop; it undoes what it made and ends `cancelled` (unless it had finished). */
  cancel(id: string): Promise<JobView> {
    return this.call('DELETE', `/v1/jobs/${encodeURIComponent(id)}`);
  }
  /** The job's events as they happen (those before the call first), ending with `end`. */
  async *events(id: string, signal?: AbortSignal): AsyncGenerator<JobStreamEvent> {
    const response = await this.open('GET', `/v1/jobs/${encodeURIComponent(id)}/events`, undefined, signal, false);
    if (response.statusCode !== 200) throw failure(response.statusCode ?? 0, await readAll(response));
    response.setEncoding('utf8');
    let buffer = '';
    for await (const chunk of response) {
      buffer += chunk as string;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const parsed = parseSse(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (parsed) {
          yield parsed;
          if (parsed.event === 'end') {
            response.destroy();
            return;
          }
        }
        end = buffer.indexOf('\n\n');
      }
    }
  }
  /** Runs a changing verb to its end: its result (the data of `imgbase VERB --json`), or its typed error. */
  async run<J extends JobRequest>(
    job: J,
    onEvent?: (event: JobStreamEvent) => void,
    signal?: AbortSignal,
  ): Promise<JobResult<J['verb']>> {
    const id = await this.startJob(job);
    const abort = () => void this.cancel(id).catch(() => undefined);
    signal?.addEventListener('abort', abort, { once: true });
    try {
      for await (const event of this.events(id)) {
        onEvent?.(event);
        if (event.event === 'end') {
          // The job's verb is the one requested: its outcome is that verb's data.
          const outcome = (event.data as JobView<J['verb']>).outcome;
          if (outcome && 'data' in outcome) return outcome.data;
          throw outcome ? errorFromJSON(outcome.error) : new InternalError(`job ${id} ended without an outcome`);
        }
      }
      throw new InternalError(`the daemon closed the event stream of job ${id} before its end`);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  // ---- plumbing ----

  /** Any route, answered as is (for tests and tools that check statuses and bodies themselves). */
  async raw(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
    const response = await this.open(method, path, body, undefined, true, headers);
    return { status: response.statusCode ?? 0, body: await readAll(response) };
  }

  private get<T>(path: string): Promise<T> {
    return this.call('GET', path);
  }

  /** A read verb, at the GET route core's verb table gives it (`name` fills the route's parameter). */
  private read<V extends ReadVerbName>(verb: V, name = ''): Promise<VerbResult<V>> {
    const path = VERBS[verb].http?.path ?? '';
    return this.get(path.replace(':name', encodeURIComponent(name)));
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: text } = await this.raw(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? {} : { 'content-type': 'application/json' },
    );
    const envelope = parseEnvelope(status, text);
    if ('error' in envelope) throw errorFromJSON(envelope.error);
    return envelope.data as T;
  }

  private open(
    method: string,
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
    timed: boolean,
    headers: Record<string, string> = {},
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: { accept: 'application/json', ...headers, host: 'localhost' },
          ...(signal ? { signal } : {}),
          ...(timed ? { timeout: this.timeoutMs } : {}),
        },
        resolve,
      );
      req.on('timeout', () => req.destroy(new InternalError(`the daemon did not answer ${method} ${path} in time`)));
      req.on('error', (error) =>
        reject(
          error instanceof InternalError
            ? error
            : new InternalError(`Cannot reach the imgbased daemon at ${this.socketPath}: ${error.message}`, {
                cause: error,
              }),
        ),
      );
      req.end(body);
    });
  }
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function parseEnvelope(status: number, text: string): Envelope {
  try {
    const value = JSON.parse(text) as Envelope;
    if (value && typeof value === 'object' && ('data' in value || 'error' in value)) return value;
  } catch {
    // fall through
  }
  throw new InternalError(`The daemon answered ${status} without an imgbased envelope: ${text.slice(0, 200)}`);
}

function failure(status: number, text: string): ImgbasedError {
  const envelope = parseEnvelope(status, text);
  return 'error' in envelope
    ? errorFromJSON(envelope.error as SerializedError)
    : new InternalError(`unexpected status ${status}`);
}

/** One SSE message (`event:` and `data:` lines); comments and unknown fields are skipped. */
export function parseSse(block: string): JobStreamEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return undefined;
  return { event, data: JSON.parse(data.join('\n')) } as JobStreamEvent;
}
