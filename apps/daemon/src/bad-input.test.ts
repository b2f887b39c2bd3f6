// Issue 14's "Bad input, counted", API requests: each is answered with a typed error and the status
// httpStatusOf gives its code (a job that was accepted: its outcome), the host unchanged, and the
// daemon serves the next request.
import { httpStatusOf } from '@imgbased/client';
import { adminHost } from '@imgbased/core/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { BAD_API_CASES, type BadApiCase } from './bad-input.corpus.js';
import { JobManager } from './jobs.js';
import { stderrLogger } from './log.js';
import { buildServer } from './server.js';
import { runJobVerb } from './verbs.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function answer(c: BadApiCase) {
  const host = await adminHost();
  const engine = host.engine();
  const jobs = new JobManager((request, context) => runJobVerb(engine, request, true, context));
  const callerOf = () => ({ pid: 1, uid: 0, gid: 0, groups: [], access: 'change' as const });
  app = buildServer({ engine: () => engine, jobs, log: stderrLogger({ write: () => {} }), callerOf });
  const before = host.snapshot();
  const headers = c.contentType ? { 'content-type': c.contentType } : undefined;
  const r = await app.inject({ method: c.method, url: c.url, payload: c.body, headers });
  let status = r.statusCode;
  let code = (r.json() as { error?: { code?: string } }).error?.code;
  if (status === 202) {
    const { jobId } = r.json().data as { jobId: string };
    const end = await new Promise<{ outcome?: { error?: { code?: string } } }>((resolve) =>
      jobs.follow(jobId, (m) => 'end' in m && resolve(m.end as never)),
    );
    code = end.outcome?.error?.code;
    status = code === undefined ? 200 : httpStatusOf(code);
  }
  const next = await app.inject({ method: 'GET', url: '/v1/layout/bases' });
  await app.close();
  app = undefined;
  return { status, code, changed: host.snapshot() !== before, servesNext: next.statusCode === 200 };
}

describe('bad input: API requests', () => {
  it(`answers each of its ${BAD_API_CASES.length} cases with a typed error and its status, and changes nothing`, async () => {
    const wrong = [];
    for (const c of BAD_API_CASES) {
      const got = await answer(c);
      const want = { status: c.status ?? httpStatusOf(c.code), code: c.code, changed: false, servesNext: true };
      if (JSON.stringify(got) !== JSON.stringify(want))
        wrong.push({ request: `${c.method} ${c.url} ${c.body?.slice(0, 80) ?? ''}`, got, want });
    }
    expect(wrong).toEqual([]);
    console.log(`bad input: api-requests: ${BAD_API_CASES.length} cases`);
  }, 60_000);
});
