export * from './bls.js';
export * from './entries.js';
export * from './files.js';
export * from './managed-bootloader.js';
export * from './selection.js';
export * from './trial-protocol.js';
export * from './trial-record.js';
export * from './trial-boots.js';
