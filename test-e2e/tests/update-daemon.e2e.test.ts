// imgbase update through the daemon, on real LVM thin: an update job streams its steps and the bytes
// it copies (progress events) over SSE and ends with the data the CLI prints for the same update; an
// update job cancelled during the image copy is undone (lvs and /boot byte for byte as before).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMGBASE, inVm } from './support/boot-scenario.ts';
import { DAEMON, jobIdOf, SOCK } from './support/daemon.ts';
import { buildUpdateImage, CLOSE, FINGERPRINT, prepareUpdateDisk } from './support/update-scenario.ts';

const API = `curl -sS --unix-socket ${SOCK}`;
const post = (body: string, file: string) =>
  `${API} -X POST -H 'content-type: application/json' --data-binary '${body}' http://localhost/v1/jobs > ${file}`;

function sections(out: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const part of out.split(/^@@/m).slice(1)) {
    const newline = part.indexOf('\n');
    found[part.slice(0, newline)] = part.slice(newline + 1);
  }
  return found;
}

function sse(text: string): [string, Record<string, unknown>][] {
  return text
    .trim()
    .split('\n\n')
    .map((block) => [/^event: (.*)$/m.exec(block)?.[1] ?? '', JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null')]);
}

describe('imgbase update as a daemon job', () => {
  it('streams progress, ends with the CLI’s data, and is undone when cancelled during the copy', async () => {
    const { disk, dir, setup } = await prepareUpdateDisk('update-daemon');
    await buildUpdateImage(path.join(dir, 'Node-2-1.img'), {
      nvr: 'Node-2-1',
      format: 'ext4',
      fillerBytes: 64 * 2 ** 20,
    });
    await buildUpdateImage(path.join(dir, 'Node-3-1.img'), {
      nvr: 'Node-3-1',
      format: 'ext4',
      fillerBytes: 160 * 2 ** 20,
    });
    const out = await inVm(
      disk,
      `${setup}
mkdir -p /var/lib/imgbased/images && cp ${dir}/Node-2-1.img ${dir}/Node-3-1.img /var/lib/imgbased/images/
node ${DAEMON} --socket ${SOCK} </dev/null >>/tmp/daemon.log 2>&1 & echo $! > /tmp/daemon.pid
for i in $(seq 300); do curl -sf --unix-socket ${SOCK} http://localhost/v1/openapi.json >/dev/null && break; sleep 0.1; done
echo @@job
${post('{"verb":"update","args":{"image":"Node-2-1.img"}}', '/tmp/job1.json')}
${API} -N http://localhost/v1/jobs/${jobIdOf('/tmp/job1.json')}/events
echo @@cli
${IMGBASE} update --json --dry-run /var/lib/imgbased/images/Node-2-1.img || true
${IMGBASE} layout --json
echo @@before-cancel
${FINGERPRINT}
echo @@cancel
${post('{"verb":"update","args":{"image":"Node-3-1.img"}}', '/tmp/job2.json')}
# Cancelled during the copy, which runs in the daemon itself: once the job has reported the copy's first
# progress (sampled each second), not merely opened the image, which a fast copy could outrun.
${API} -N http://localhost/v1/jobs/${jobIdOf('/tmp/job2.json')}/events > /tmp/job2-events & watcher=$!
for i in $(seq 3000); do awk '/^event: progress/ { p = 1; next } p && /"step":"install"/ { found = 1 } { p = 0 } END { exit !found }' /tmp/job2-events && break; sleep 0.02; done
kill $watcher 2>/dev/null; wait $watcher 2>/dev/null || true
${API} -X DELETE http://localhost/v1/jobs/${jobIdOf('/tmp/job2.json')} >/dev/null
${API} -N http://localhost/v1/jobs/${jobIdOf('/tmp/job2.json')}/events
echo @@after-cancel
${FINGERPRINT}
kill -TERM $(cat /tmp/daemon.pid); wait
${CLOSE}`,
    );
    const s = sections(out);
    const events = sse(s.job!);
    const progress = events.filter(([e, d]) => e === 'progress' && d.step === 'install');
    expect(progress.length, s.job).toBeGreaterThan(0);
    expect(progress.at(-1)![1]).toMatchObject({ bytes: expect.any(Number), total: expect.any(Number) });
    expect(events.map(([e, d]) => (e === 'step' ? d.step : undefined))).toEqual(
      expect.arrayContaining(['create', 'install', 'protect', 'persist', 'boot', 'commit']),
    );
    const end = events.at(-1)!;
    expect(end[0]).toBe('end');
    expect(end[1]).toMatchObject({
      state: 'succeeded',
      outcome: {
        verb: 'update',
        // A trial ([trial] enabled, the default): the old layer stays the default until it proves itself.
        data: {
          base: 'Node-2-1',
          layer: 'Node-2-1+1',
          bootsNext: 'Node-2-1+1',
          trial: true,
          image: { format: 'ext4' },
        },
      },
    });
    // The CLI sees what the job made.
    const [dryRun, layout] = s.cli!.split(/\n(?=\{\n {2}"schemaVersion")/);
    expect(JSON.parse(dryRun!).error.code).toBe('E_BASE_EXISTS');
    const bases = JSON.parse(layout!).data.bases as { name: string; layers: { bootState: unknown }[] }[];
    expect(bases.map((b) => b.name)).toEqual(['Base-1-0', 'Node-2-1']);
    expect(bases[1]!.layers[0]!.bootState).toMatchObject({ state: 'trial', reason: null });

    // Cancelled during the copy: undone, byte for byte.
    const cancelled = sse(s.cancel!);
    expect(cancelled.some(([e, d]) => e === 'progress' && d.step === 'install')).toBe(true);
    expect(cancelled.some(([e]) => e === 'undo')).toBe(true);
    expect(cancelled.at(-1)![1]).toMatchObject({ state: 'cancelled', outcome: { error: { code: 'E_CANCELLED' } } });
    expect(s['after-cancel']).toBe(s['before-cancel']);
  }, 900_000);
});
