export * from './admin.js';
export * from './base.js';
export * from './boot.js';
export * from './daemon.js';
export * from './general.js';
export * from './image.js';
export * from './plugins.js';
export * from './update.js';
