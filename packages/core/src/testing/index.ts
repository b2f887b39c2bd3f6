/** Test doubles for imgbased's contracts. For unit tests only: never proof that a feature works. */

export * from './admin-host.js';
export * from './fakes.js';
export * from './memory-boot-files.js';
export * from './memory-bootloader.js';
export * from './memory-host-admin.js';
export * from './memory-images.js';
export * from './memory-trial-bootloader.js';
export * from './memory-volumes.js';
export * from './original-host.js';
export * from './scripted-runner.js';
export * from './update-host.js';
