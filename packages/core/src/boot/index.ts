export * from './bls.js';
export * from './entries.js';
export * from './files.js';
export * from './managed-bootloader.js';
export * from './selection.js';
