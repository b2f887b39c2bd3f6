/**
 * @packageDocumentation
 * What a plugin author imports to prove a plugin: vitest suites for every guarantee of the bootloader
 * and persistence contracts (`describeBootloaderContract`, `describePersistenceContract`), the checks
 * behind them as plain functions, and the fault-injecting file operations the crash check uses.
 */
export * from './bootloader/index.js';
export type { CheckResult, ContractCheck } from './check.js';
export { type FaultInjectingOps, faultInjectingOps } from './fault-injection.js';
export * from './persistence/index.js';
export { snapshotTree } from './tree-snapshot.js';
