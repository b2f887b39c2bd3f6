import { describe, expect, expectTypeOf, it } from 'vitest';
import { type JobRequest, JobRequestJsonSchema, type MUTATING_VERBS, READ_ROUTES } from './api.js';

describe('the API table, derived from core’s verbs', () => {
  it('types a job request by its verb: required arguments required, unknown ones refused', () => {
    expectTypeOf({ verb: 'layer --add' } as const).toExtend<JobRequest>();
    expectTypeOf({
      verb: 'base --add',
      args: { nvr: 'B-1-0', size: '1G' },
      dryRun: true,
    } as const).toExtend<JobRequest>();
    expectTypeOf({ verb: 'base --add', args: { nvr: 'B-1-0' } } as const).not.toExtend<JobRequest>();
    expectTypeOf({ verb: 'boot --next' } as const).not.toExtend<JobRequest>();
    expectTypeOf({ verb: 'layout' } as const).not.toExtend<JobRequest>();
    expectTypeOf<JobRequest['verb']>().toEqualTypeOf<(typeof MUTATING_VERBS)[number]>();
  });

  it('has one job schema branch per changing verb, args required only when one of them is', () => {
    const branches = JobRequestJsonSchema.oneOf.map((b) => [b.properties.verb.const, b.required]);
    expect(branches).toEqual([
      ['layout --init', ['verb', 'args']],
      ['layout --adopt', ['verb']],
      ['base --add', ['verb', 'args']],
      ['base --remove', ['verb', 'args']],
      ['base --pin', ['verb', 'args']],
      ['base --unpin', ['verb', 'args']],
      ['layer --add', ['verb']],
      ['boot --set-default', ['verb', 'args']],
      ['boot --next', ['verb', 'args']],
      ['boot --edit-kernel-args', ['verb', 'args']],
      ['update', ['verb', 'args']],
      ['rollback', ['verb']],
      ['boot --trial', ['verb', 'args']],
      ['boot --mark-good', ['verb']],
      ['boot --mark-bad', ['verb', 'args']],
      ['boot --check-trial', ['verb']],
      ['motd --update', ['verb']],
      ['volume --create', ['verb', 'args']],
      ['volume --remove', ['verb', 'args']],
      ['volume --attach', ['verb', 'args']],
      ['volume --detach', ['verb', 'args']],
      ['recover --yes', ['verb']],
      ['layer --mount', ['verb', 'args']],
      ['layer --umount', ['verb', 'args']],
    ]);
    expect(READ_ROUTES.filter((r) => r.param).map((r) => r.url)).toEqual([
      '/v1/layers/:name/base',
      '/v1/volumes/:name/path',
      '/v1/layers/:name/kernel-args',
      '/v1/layers/:name/diff',
    ]);
  });
});
