/** Test support that needs the real host (root, loop devices): for integration tests only. */
export * from './persistence-fixture.js';
export * from './update-trees.js';
