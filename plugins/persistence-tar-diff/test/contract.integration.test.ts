import { describePersistenceContract } from '@imgbased/testkit';
import tarDiffPlugin from '../src/index.js';

// Every guarantee of the persistence contract (three-way outcomes, conflicts per policy, attacks, nothing
// written outside the new layer, bad policies refused, dry run), with the real tar.
describePersistenceContract('tar-diff', () => ({ definition: tarDiffPlugin }));
