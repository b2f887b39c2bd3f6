import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ImageEngine } from '../engine/index.js';
import type { VerbEngine } from './engine-port.js';
import { verbArgsJsonSchema } from './results.js';
import { runVerb, VERB_NAMES, VERBS, type VerbArgs, type VerbName } from './table.js';

/** An engine that records each call and answers with small canned data. */
function recordingEngine() {
  const calls: unknown[][] = [];
  const base = { name: 'Base-1-0', layers: [{ name: 'Base-1-0+1' }, { name: 'Base-1-0+2' }] };
  const answers: Record<string, unknown> = {
    layout: { bases: [base, { name: 'Base-2-0', layers: [] }] },
    latestBase: base,
    baseOfLayer: base,
    latestLayer: { name: 'Base-1-0+2' },
    currentLayer: { name: 'Base-1-0+1' },
    volumePath: '/dev/onn/Base-1-0+1',
  };
  const engine = new Proxy(
    {},
    {
      get:
        (_target, method: string) =>
        async (...args: unknown[]) => {
          calls.push([method, ...args.slice(0, -1)]);
          return answers[method] ?? { from: method };
        },
    },
  ) as VerbEngine;
  return { engine, calls };
}

const SAMPLE_ARGS: { [V in VerbName]: VerbArgs<V> } = {
  layout: {},
  'layout --bases': {},
  'layout --layers': {},
  'layout --free-space': {},
  'layout --init': { nvr: 'Base-1-0' },
  'layout --adopt': {},
  'base --add': { nvr: 'Base-2-0', size: '1G', image: '/tmp/root.img' },
  'base --remove': { name: 'Base-1-0' },
  'base --pin': { name: 'Base-1-0' },
  'base --unpin': { name: 'Base-1-0' },
  'base --latest': {},
  'base --of-layer': { name: 'Base-1-0+1' },
  'layer --add': {},
  'layer --latest': {},
  'layer --current': {},
  'layer --volume-path': { name: 'Base-1-0+1' },
  w: {},
  'boot --list': {},
  'boot --get-default': {},
  'boot --set-default': { layer: 'Base-1-0+1' },
  'boot --next': { layer: 'Base-1-0+2' },
  'boot --kernel-args': { name: 'Base-1-0+1' },
  'boot --edit-kernel-args': { layer: 'Base-1-0+1', append: ['quiet'] },
  update: { image: '/var/tmp/Node-2-0.squashfs', keep: 3, from: 'Base-1-0+1' },
  rollback: { to: 'Base-1-0+1' },
  'boot --trial-status': {},
  'boot --trial': { layer: 'Base-1-0+2' },
  'boot --mark-good': {},
  'boot --mark-bad': { layer: 'Base-1-0+2', reason: 'by hand' },
  'boot --check-trial': {},
  status: {},
  check: {},
  motd: {},
  'motd --update': {},
  'volume --list': {},
  'volume --create': { path: '/var/log', size: '256M' },
  'volume --remove': { path: '/var/log' },
  'volume --attach': { path: '/var/log' },
  'volume --detach': { path: '/var/log' },
  'recover --list': {},
  'recover --yes': {},
  'layer --mount': { name: 'Base-1-0+1', rw: true },
  'layer --umount': { layer: 'Base-1-0+1' },
  'layer --diff': { name: 'Base-1-0+1', with: 'Base-1-0+2', content: true },
};

describe('the verb table', () => {
  it('is satisfied by the engine (a compile-time check)', () => {
    expectTypeOf<ImageEngine>().toExtend<VerbEngine>();
  });

  it('maps every verb to one engine call and shapes its answer', async () => {
    const answers: Record<string, unknown> = {};
    const made: Record<string, unknown[][]> = {};
    for (const verb of VERB_NAMES) {
      const { engine, calls } = recordingEngine();
      answers[verb] = await runVerb(verb, engine, SAMPLE_ARGS[verb], {});
      made[verb] = calls;
    }
    expect(made).toEqual({
      layout: [['layout']],
      'layout --bases': [['layout']],
      'layout --layers': [['layout']],
      'layout --free-space': [['freeSpace']],
      'layout --init': [['initLayout', { nvr: 'Base-1-0', from: '/' }]],
      'layout --adopt': [['adoptLayout']],
      'base --add': [['addBase', { nvr: 'Base-2-0', sizeBytes: 1024 ** 3, image: '/tmp/root.img' }]],
      'base --remove': [['removeBase', 'Base-1-0']],
      'base --pin': [['pinBase', 'Base-1-0', true]],
      'base --unpin': [['pinBase', 'Base-1-0', false]],
      'base --latest': [['latestBase']],
      'base --of-layer': [['baseOfLayer', 'Base-1-0+1']],
      'layer --add': [['addLayer', { from: undefined, trial: undefined }]],
      'layer --latest': [['latestLayer']],
      'layer --current': [['currentLayer']],
      'layer --volume-path': [['volumePath', 'Base-1-0+1']],
      w: [['currentLayer']],
      'boot --list': [['bootList']],
      'boot --get-default': [['bootDefault']],
      'boot --set-default': [['setDefaultBoot', 'Base-1-0+1']],
      'boot --next': [['setNextBoot', 'Base-1-0+2']],
      'boot --kernel-args': [['kernelArgs', 'Base-1-0+1']],
      'boot --edit-kernel-args': [['editKernelArgs', 'Base-1-0+1', { append: ['quiet'], delete: undefined }]],
      update: [
        [
          'update',
          {
            image: '/var/tmp/Node-2-0.squashfs',
            nvr: undefined,
            format: undefined,
            sha256: undefined,
            from: 'Base-1-0+1',
            keep: 3,
          },
        ],
      ],
      rollback: [['rollback', { to: 'Base-1-0+1' }]],
      'boot --trial-status': [['trialStatus']],
      'boot --trial': [['bootTrial', 'Base-1-0+2']],
      'boot --mark-good': [['markGood', undefined]],
      'boot --mark-bad': [['markBad', 'Base-1-0+2', 'by hand']],
      'boot --check-trial': [['checkTrial']],
      status: [['status']],
      check: [['check']],
      motd: [['motd', false]],
      'motd --update': [['motd', true]],
      'volume --list': [['listVolumes']],
      'volume --create': [['createVolume', '/var/log', 256 * 1024 ** 2]],
      'volume --remove': [['removeVolume', '/var/log']],
      'volume --attach': [['attachVolume', '/var/log']],
      'volume --detach': [['detachVolume', '/var/log']],
      'recover --list': [['recoveryList']],
      'recover --yes': [['recover']],
      'layer --mount': [['mountLayer', { name: 'Base-1-0+1', directory: undefined, readWrite: true }]],
      'layer --umount': [['unmountLayer', 'Base-1-0+1']],
      'layer --diff': [['diffLayers', { name: 'Base-1-0+1', with: 'Base-1-0+2', content: true }]],
    });
    expect(answers).toMatchObject({
      'layout --bases': { bases: ['Base-1-0', 'Base-2-0'] },
      'layout --layers': { layers: ['Base-1-0+1', 'Base-1-0+2'] },
      'base --latest': { base: 'Base-1-0' },
      'base --of-layer': { base: 'Base-1-0' },
      'layer --latest': { layer: 'Base-1-0+2' },
      'layer --current': { layer: 'Base-1-0+1' },
      'layer --volume-path': { path: '/dev/onn/Base-1-0+1' },
      w: { layer: 'Base-1-0+1' },
      'boot --list': { from: 'bootList' },
    });
  });

  it('passes the context through and refuses a bad size before calling the engine', async () => {
    const { engine, calls } = recordingEngine();
    const context = { dryRun: true };
    const seen: unknown[] = [];
    const spying = new Proxy(engine, {
      get:
        (target, method) =>
        (...args: unknown[]) => {
          seen.push(args.at(-1));
          return (target as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[method]!(...args);
        },
    });
    await runVerb('layer --add', spying, { from: 'Base-1-0' }, context);
    expect(seen).toEqual([context]);
    await expect(runVerb('base --add', engine, { nvr: 'Base-2-0', size: 'lots' }, {})).rejects.toMatchObject({
      code: 'E_SIZE_INVALID',
    });
    expect(calls).toEqual([['addLayer', { from: 'Base-1-0', trial: undefined }]]);
  });

  it('--trial: boot --set-default boots the layer as a trial; layer --add passes it on', async () => {
    const { engine, calls } = recordingEngine();
    await runVerb('boot --set-default', engine, { layer: 'Base-1-0+2', trial: true }, {});
    await runVerb('layer --add', engine, { trial: true }, {});
    expect(calls).toEqual([
      ['setDefaultBootAsTrial', 'Base-1-0+2'],
      ['addLayer', { from: undefined, trial: true }],
    ]);
  });

  it('gives every read verb its own GET route, and the changing verbs none (they are jobs)', () => {
    const paths = new Set<string>();
    for (const verb of VERB_NAMES) {
      const { kind, http, args } = VERBS[verb];
      if (kind === 'change') {
        expect(http, verb).toBeUndefined();
        continue;
      }
      expect(http?.method, verb).toBe('GET');
      expect(http?.path, verb).toMatch(/^\/v1\//);
      // A route parameter is an argument of the verb, and its only required one (optional ones take their defaults).
      expect(verbArgsJsonSchema(verb).required, verb).toEqual(http?.param ? [http.param] : []);
      if (http?.param) expect(Object.keys(args.def.shape ?? {}), verb).toContain(http.param);
      expect(http?.path.includes(':name'), verb).toBe(http?.param === 'name');
      paths.add(http!.path);
    }
    expect(paths.size).toBe(VERB_NAMES.filter((v) => VERBS[v].kind === 'read').length);
  });
});
