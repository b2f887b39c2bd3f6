// The daemon serves the same engine as the CLI: every read verb through `curl --unix-socket` answers
// exactly what `imgbase VERB --json` prints on the same disk (the same text, errors included), every
// malformed request gets a typed 4xx error and the daemon goes on serving, the socket is root-only
// (0660 root:imgbased once that group exists), and SIGTERM stops it cleanly. The disk has a bootloader
// (extlinux on /boot), so the boot verbs answer real entries.
import { describe, expect, it } from 'vitest';
import { curl, DAEMON, EXTLINUX_SETUP, SOCK, startDaemon, stopDaemon, withStatus } from './support/daemon.ts';
import { IMGBASE, LVS, runScenario, type Step, sh } from './support/scenario.ts';

/** Each read verb of the CLI, and the route that serves it. */
const READS: [string[], string][] = [
  [['layout'], '/v1/layout'],
  [['layout', '--bases'], '/v1/layout/bases'],
  [['layout', '--layers'], '/v1/layout/layers'],
  [['layout', '--free-space'], '/v1/layout/free-space'],
  [['base', '--latest'], '/v1/bases/latest'],
  [['base', '--of-layer', 'Base-1-0+2'], '/v1/layers/Base-1-0+2/base'],
  [['layer', '--latest'], '/v1/layers/latest'],
  [['layer', '--current'], '/v1/layers/current'],
  [['layer', '--volume-path', 'Base-2-0'], '/v1/volumes/Base-2-0/path'],
  [['w'], '/v1/w'],
  [['boot', '--list'], '/v1/boot/entries'],
  [['boot', '--get-default'], '/v1/boot/default'],
  [['boot', '--kernel-args', 'Base-1-0+2'], '/v1/layers/Base-1-0+2/kernel-args'],
  // Errors cross the wire as the same typed error.
  [['base', '--of-layer', 'Nope-1-0+1'], '/v1/layers/Nope-1-0+1/base'],
  [['layer', '--volume-path', 'x;rm'], '/v1/volumes/x%3Brm/path'],
];

/** [method, url, body, content type, expected status] */
const MALFORMED: [string, string, string | undefined, string | undefined, number][] = [
  ['POST', '/v1/jobs', '{"verb":', undefined, 400],
  ['POST', '/v1/jobs', '', undefined, 400],
  ['POST', '/v1/jobs', '[1,2]', undefined, 400],
  ['POST', '/v1/jobs', '{"verb":"layer --add","unknown":true}', undefined, 400],
  ['POST', '/v1/jobs', '{"verb":"layer --add","args":{"form":"Base-1-0"}}', undefined, 400],
  ['POST', '/v1/jobs', '{"verb":"lvremove -f onn"}', undefined, 400],
  ['POST', '/v1/jobs', '{"verb":"base --add","args":{"nvr":["Base-3-0"],"size":"1G"}}', undefined, 400],
  ['POST', '/v1/jobs', '{"verb":"base --remove","args":{"name":7}}', undefined, 400],
  ['POST', '/v1/jobs', '{"verb":"layer --add","dryRun":"no"}', undefined, 400],
  ['POST', '/v1/jobs', '{"verb":"layer --add","__proto__":{"polluted":1}}', undefined, 400],
  ['POST', '/v1/jobs', `{"verb":"layer --add","args":{"from":"${'A'.repeat(100_000)}"}}`, undefined, 413],
  ['POST', '/v1/jobs', 'verb=layer --add', 'application/x-www-form-urlencoded', 415],
  ['POST', '/v1/jobs', 'layer --add', 'text/plain', 415],
  ['GET', '/v1/nope', undefined, undefined, 404],
  ['DELETE', '/v1/layout', undefined, undefined, 404],
  ['GET', '/v1/jobs/..%2F..%2Fetc', undefined, undefined, 400],
  ['GET', '/v1/jobs/0123456789abcdef', undefined, undefined, 404],
  ['GET', '/v1/volumes/%E0%A4%A/path', undefined, undefined, 400],
  ['GET', `/v1/volumes/${'a'.repeat(400)}/path`, undefined, undefined, 414],
];

describe('imgbased, the daemon', () => {
  it('answers every read verb as imgbase --json does, refuses malformed requests, and stops on SIGTERM', async () => {
    const steps: Step[] = (
      [
        /* 0 */ [IMGBASE, 'layout', '--init', 'Base-1-0', '--from', 'onn/root'],
        /* 1 */ [IMGBASE, 'layer', '--add'],
        /* 2 */ [IMGBASE, 'base', '--add', 'Base-2-0', '--size', '256M'],
        /* 3 */ startDaemon(),
        /* 4 */ sh(`stat -c '%a %U %G' ${SOCK}`),
        /* 5 */ LVS,
      ] as (Step | string[])[]
    ).map((s) => (Array.isArray(s) ? { argv: s } : s));
    const readAt = steps.length;
    for (const [argv, url] of READS)
      steps.push(curl('GET', url, { status: true }), { argv: [IMGBASE, ...argv, '--json'] });
    const malformedAt = steps.length;
    for (const [method, url, body, contentType] of MALFORMED) {
      steps.push(
        curl(method, url, {
          status: true,
          ...(body === undefined ? {} : { body }),
          ...(contentType ? { contentType } : {}),
        }),
        curl('GET', '/v1/layout/bases', { status: true }),
      );
    }
    const endAt = steps.length;
    steps.push(
      /* +0 */ { argv: LVS },
      /* +1 */ stopDaemon,
      /* +2 */ sh(`test -e ${SOCK} && echo present || echo removed; cat /tmp/daemon.log`),
      /* +3 */ sh('groupadd -r imgbased'),
      /* +4 */ startDaemon(),
      /* +5 */ sh(`stat -c '%a %U %G' ${SOCK}`),
      /* +6 */ curl('GET', '/v1/layers/latest', { status: true }),
      /* +7 */ stopDaemon,
      // Socket activation: systemd-socket-activate binds the socket and passes it as fd 3 (LISTEN_FDS=1);
      // the daemon serves it instead of binding its own path (which here could not even be made).
      /* +8 */ sh(
        `systemd-socket-activate -l /run/activated.sock node ${DAEMON} --socket /proc/no/such.sock </dev/null >/tmp/activated.log 2>&1 & echo $! > /tmp/daemon.pid; for i in $(seq 100); do [ -S /run/activated.sock ] && break; sleep 0.1; done; curl -sS --max-time 60 --unix-socket /run/activated.sock http://localhost/v1/layout/bases`,
      ),
      /* +9 */ stopDaemon,
      /* +10 */ sh('cat /tmp/activated.log'),
    );

    const scenario = await runScenario([EXTLINUX_SETUP, ...steps]);
    expect(scenario.step(0).exitCode, scenario.step(0).stderr).toBe(0);
    const s = { step: (i: number) => scenario.step(i + 1) };
    for (const i of [0, 1, 2, 3, 4]) expect(s.step(i).exitCode, s.step(i).stderr).toBe(0);
    expect(s.step(4).stdout.trim()).toBe('600 root root');
    const lvsBefore = s.step(5).stdout;

    READS.forEach(([argv], n) => {
      const daemon = withStatus(s.step(readAt + 2 * n).stdout);
      const cli = s.step(readAt + 2 * n + 1);
      const label = argv.join(' ');
      // The same text: the same envelope, the same data, the same error.
      expect(daemon.body, label).toBe(cli.stdout);
      const envelope = JSON.parse(cli.stdout);
      expect(envelope.verb, label).toBe(label.replace(/ (Nope|x;|Base-)\S*$/, ''));
      if ('error' in envelope) {
        expect(cli.exitCode, label).toBe(1);
        expect(daemon.status, label).toBe(
          { E_NOT_ON_LAYER: 404, E_LAYER_NOT_FOUND: 404, E_NAME_INVALID: 400 }[envelope.error.code as string],
        );
      } else {
        expect([cli.exitCode, daemon.status], label).toEqual([0, 200]);
      }
    });
    const layout = JSON.parse(s.step(readAt + 1).stdout).data;
    expect(layout.bases.map((b: { name: string }) => b.name)).toEqual(['Base-1-0', 'Base-2-0']);
    expect(JSON.parse(s.step(readAt + 2 * 7 + 1).stdout).error.code).toBe('E_NOT_ON_LAYER');
    // The boot answers compared above are real entries, written by layout --init and layer --add.
    const bootList = JSON.parse(s.step(readAt + 2 * 10 + 1).stdout).data;
    expect(bootList.bootloader).toBe('extlinux');
    expect(bootList.entries.map((e: { layer: string | null }) => e.layer)).toEqual(['Base-1-0+1', 'Base-1-0+2']);
    expect(bootList.default).toBe(bootList.entries[1].id);
    expect(JSON.parse(s.step(readAt + 2 * 11 + 1).stdout).data).toMatchObject({
      bootloader: 'extlinux',
      layer: 'Base-1-0+2',
    });
    expect(JSON.parse(s.step(readAt + 2 * 12 + 1).stdout).data.options).toContain('root=/dev/onn/Base-1-0+2');

    MALFORMED.forEach(([method, url, body, , status], n) => {
      const label = `${method} ${url.slice(0, 40)} ${body?.slice(0, 60) ?? ''}`;
      const answer = withStatus(s.step(malformedAt + 2 * n).stdout);
      expect(answer.status, `${label}: ${answer.body}`).toBe(status);
      expect(JSON.parse(answer.body).error.code, label).toBe('E_USAGE');
      const next = withStatus(s.step(malformedAt + 2 * n + 1).stdout);
      expect([next.status, JSON.parse(next.body).data], `served after ${label}`).toEqual([
        200,
        { bases: ['Base-1-0', 'Base-2-0'] },
      ]);
    });
    expect(s.step(endAt).stdout, 'lvs after the corpus').toBe(lvsBefore);

    expect(s.step(endAt + 1).stdout.trim()).toBe('stopped');
    const [socketAfterStop, ...log] = s
      .step(endAt + 2)
      .stdout.trim()
      .split('\n');
    expect(socketAfterStop).toBe('removed');
    // No systemd here: the log is JSON lines on stderr, with the events the journal would get as fields.
    const messages = log.map((line) => JSON.parse(line) as { msg: string; level: string; event: string });
    expect(messages.map((m) => m.event)).toEqual(expect.arrayContaining(['serving', 'stopping', 'stopped']));
    expect(s.step(endAt + 4).exitCode, s.step(endAt + 4).stderr).toBe(0);
    expect(s.step(endAt + 5).stdout.trim()).toBe('660 root imgbased');
    expect(withStatus(s.step(endAt + 6).stdout).status).toBe(200);
    expect(s.step(endAt + 7).stdout.trim()).toBe('stopped');
    expect(s.step(endAt + 8).exitCode, s.step(endAt + 8).stderr).toBe(0);
    expect(JSON.parse(s.step(endAt + 8).stdout).data).toEqual({ bases: ['Base-1-0', 'Base-2-0'] });
    expect(s.step(endAt + 9).stdout.trim()).toBe('stopped');
    expect(s.step(endAt + 10).stdout).toContain('"msg":"serving the socket systemd passed","event":"serving","fd":3');
  });
});
