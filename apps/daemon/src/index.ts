/**
 * @packageDocumentation
 * `imgbased`, the daemon: the engine of `imgbase` behind a local HTTP+JSON API on a Unix socket.
 * `buildServer` is exported for tests and embedding; the binary is bin/imgbased.
 */
export { ChangeCounter, CountingLock, type HostStateSources, hostState, LVM_STATE_ARGV } from './changes.js';
export { ReadBatcher } from './coalesce.js';
export { createEngines, type Engines } from './container.js';
export { confineImage, confineJobImages } from './image-dir.js';
export { type JobExecutor, type JobFinished, JobManager } from './jobs.js';
export {
  createLogger,
  daemonLogger,
  JournalSink,
  journalEntry,
  journalFieldName,
  type LogEntry,
  type LogFields,
  type Logger,
  type LogSink,
  stderrIsJournal,
  stderrLogger,
  stderrSink,
} from './log.js';
export { main } from './main.js';
export {
  type Access,
  accessOf,
  type Caller,
  callerFields,
  loadPeerReader,
  type PeerCredentials,
  type PeerReader,
} from './peer.js';
export { ReadCache, type ReadCacheOptions } from './read-cache.js';
export { buildServer, CACHED_VERBS, type ServerOptions } from './server.js';
export {
  groupId,
  type ListenTarget,
  listenTarget,
  notify,
  prepareSocketPath,
  SOCKET_GROUP,
  secureSocket,
} from './systemd.js';
export { readVerb, runJobVerb } from './verbs.js';
