import { describePersistenceContract } from '@imgbased/testkit';
import rsyncPlugin from '../src/index.js';

// Every guarantee of the persistence contract, with the real rsync: three-way, like tar-diff.
describePersistenceContract('rsync', () => ({ definition: rsyncPlugin }));
