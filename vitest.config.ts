import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'protocols/*/src/**/*.test.ts',
      'gateway/src/**/*.test.ts',
      'cli/src/**/*.test.ts',
      'examples/*/src/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    // Throughput measurements are benchmarks, not tests: `pnpm bench` runs them with GATEHOUSE_BENCH=1.
    exclude: [
      '**/node_modules/**',
      '**/dist/**',
      ...(process.env['GATEHOUSE_BENCH'] ? [] : ['**/*throughput.test.ts', 'test/ssh-bench.e2e.test.ts']),
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
