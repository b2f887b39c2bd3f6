/**
 * @packageDocumentation
 * imgbased's core: the domain (names, ordering, layout), the engine, the contracts that adapters and
 * plugins implement (each with its DI token beside it), events and typed errors. Nothing here touches
 * the system directly.
 */

export * from './boot/index.js';
export * from './config/index.js';
export * from './contracts/index.js';
export * from './engine/index.js';
export * from './errors/index.js';
export * from './events.js';
export * from './layout/admin-schema.js';
export * from './layout/adopt-schema.js';
export * from './layout/classify.js';
export * from './layout/layout.js';
export * from './layout/schema.js';
export * from './layout/tags.js';
export * from './layout/trial-schema.js';
export * from './layout/update-record-schema.js';
export * from './layout/update-schema.js';
export * from './naming/nvr.js';
export * from './naming/rpmvercmp.js';
export * from './persistence/index.js';
export * from './verbs/index.js';
