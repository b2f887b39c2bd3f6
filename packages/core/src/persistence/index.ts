export * from './accounts.js';
export * from './policy.js';
