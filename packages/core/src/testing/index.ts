/** Test doubles for imgbased's contracts. For unit tests only: never proof that a feature works. */
export * from './scripted-runner.js';
