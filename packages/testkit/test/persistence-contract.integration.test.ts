import { describe, expect, it } from 'vitest';
import { describePersistenceContract, persistenceChecks } from '../src/index.js';
import { type PersistenceFlaw, simplePersistenceFactory } from './simple-persistence.js';

// The suite itself, run for the in-test reference carrier.
describePersistenceContract('simple', simplePersistenceFactory());

type CheckName = keyof typeof persistenceChecks;

/** Each check, against a carrier with one flaw: it must fail, for the reason it checks. */
const broken: readonly [CheckName, PersistenceFlaw, RegExp][] = [
  ['threeWayOutcomes', 'no-deletes', /\/etc\/deleted.conf \(deleted by the admin\)/],
  ['threeWayOutcomes', 'overwrites-new-base', /\/etc\/updated-by-new.conf \(changed by the new base only\)/],
  ['conflictsByPolicy', 'ignores-policy', /take-new-save-admin: \/etc\/both.conf/],
  ['conflictsByPolicy', 'fail-writes-first', /the new layer after a conflict under fail/],
  ['symlinkAndDotDotAttacks', 'follows-links', /everything but the new layer, after links out of the trees/],
  ['badPolicyRefused', 'no-policy-check', /a policy with a relative path is refused/],
  ['nothingOutsideNewLayer', 'stages-beside', /everything but the new layer, after a carry-over/],
  ['dryRunWritesNothing', 'ignores-dry-run', /the trees after a dry run/],
];

describe('each persistence check fails for a carrier that breaks its guarantee, and passes for the correct one', () => {
  it.each(broken)('%s: fails with the flaw %s', async (name, flaw, reason) => {
    const check = persistenceChecks[name];
    await expect(check.run(simplePersistenceFactory([flaw]))).rejects.toThrow(reason);
    expect(await check.run(simplePersistenceFactory())).toBeUndefined();
  });

  it('skips the conflict check for a plugin on which the old layer wins, and checks the rest by that rule', async () => {
    const oldLayerWins = () => ({ ...simplePersistenceFactory()(), carries: 'old-layer-wins' as const });
    expect(await persistenceChecks.conflictsByPolicy.run(oldLayerWins)).toEqual({ skipped: expect.any(String) });
    expect(await persistenceChecks.threeWayOutcomes.run(oldLayerWins)).toBeUndefined();
  });
});
