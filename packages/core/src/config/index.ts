export * from './config.js';
export * from './plugin-settings.js';
