/**
 * @packageDocumentation
 * imgbased persistence plugin `rsync`: carries the admin's changes three ways, found by rsync dry runs
 * against the old base and copied with the real rsync, and merges the account databases by name. The
 * default export is the plugin's definition.
 */
import { rsyncPlugin } from './definition.js';

export { RsyncSettings, rsyncPlugin } from './definition.js';
export { type Itemized, parseItemized } from './itemize.js';
export { RSYNC_COPY, RsyncPersistence } from './rsync-persistence.js';
export { RSYNC_COMPARE } from './rsync-plan.js';
export default rsyncPlugin;
