export * from './admin/index.js';
export * from './engine.js';
