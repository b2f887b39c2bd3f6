export * from './bootloader.js';
export * from './bootloader-plugin.js';
export * from './command-runner.js';
export * from './filesystem.js';
export * from './host.js';
export * from './persistence.js';
export * from './plugin.js';
export * from './volume-manager.js';
