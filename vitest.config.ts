import { defineConfig } from 'vitest/config';

// Three kinds of test, run apart:
// - unit: beside the code (src/**/*.test.ts), no system access, fakes allowed;
// - integration: real tools on this machine (loop devices, ext4, rsync), files named *.integration.test.ts;
// - e2e: real LVM thin and real boots inside the qemu VM of test-e2e/.
const conditions = ['@imgbased/source'];
const source = { conditions };
// Tests run in Vite's SSR mode, whose resolver has conditions of its own.
const ssr = { resolve: { conditions, externalConditions: conditions } };

export default defineConfig({
  resolve: source,
  ssr,
  test: {
    setupFiles: ['reflect-metadata'],
    projects: [
      {
        resolve: source,
        ssr,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          setupFiles: ['reflect-metadata'],
          include: ['{packages,plugins,apps}/*/src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', '**/node_modules/**'],
        },
      },
      {
        resolve: source,
        ssr,
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          setupFiles: ['reflect-metadata'],
          include: [
            '{packages,plugins,apps}/*/{src,test}/**/*.integration.test.ts',
            // Plugins built outside the workspace (examples/), proven by the testkit like in-tree ones.
            'examples/*/*.integration.test.ts',
            // The .deb and the RPM (packaging/): built from the bundles, run without node_modules.
            'packaging/test/*.integration.test.ts',
          ],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: source,
        ssr,
        test: {
          name: 'e2e',
          sequence: { groupOrder: 2 },
          setupFiles: ['reflect-metadata'],
          include: ['test-e2e/tests/**/*.e2e.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // VMs are CPU-bound under TCG: two at a time on a 2-core machine.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
