/**
 * @packageDocumentation
 * imgbased persistence plugin `rsync`: copies the configured paths from the running layer with the
 * real rsync, and merges the account databases by name.
 */
export { RsyncPersistence } from './rsync-persistence.js';
