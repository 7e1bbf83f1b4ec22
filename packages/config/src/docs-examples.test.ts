import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from './load.js';
import { configSchema } from './schema.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const docsFile = `${repoRoot}docs/configuration.md`;
const docs = readFileSync(docsFile, 'utf8');

/** Complete examples in the docs are the yaml blocks whose first line says so. */
const completeExamples = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1] ?? '')
  .filter((block) => /^# gatehouse\.yaml — complete/.test(block));

/** Gives every `${env:NAME}` a made-up value, so the examples load as written. */
function envFor(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => [m[1], `value-of-${m[1]}`]),
  );
}

describe('gatehouse.example.yaml', () => {
  const file = `${repoRoot}gatehouse.example.yaml`;

  it('loads when GATEHOUSE_PG_PASSWORD is set', async () => {
    const config = await loadConfig(file, { env: { GATEHOUSE_PG_PASSWORD: 'example-password' } });
    expect(config.identity.devIssuer.enabled).toBe(true);
    expect(config.sessionLog.path).toBe(`${repoRoot}.gatehouse/sessions.db`);
    expect(config.admin).toMatchObject({
      listen: { host: '127.0.0.1', port: 9090 },
      adminGroups: ['gatehouse-admins'],
    });
    expect(config.approvals.approverGroups.length).toBeGreaterThan(0);
    expect(Object.keys(config.policies)).toContain('guard');
    expect(config.connections.map((c) => [c.protocol, c.listen.port])).toEqual([
      ['postgres', 15432],
      ['ssh', 2222],
      ['http', 18080],
    ]);
    expect(config.connections[0]?.upstream).toMatchObject({
      host: '127.0.0.1',
      port: 5432,
      password: 'example-password',
    });
    expect(config.connections[2]?.upstream).toMatchObject({ url: 'http://127.0.0.1:8080' });
    expect(config.secrets).toContain('example-password');
  });

  it('names the missing password when it is not set', async () => {
    await expect(loadConfig(file, { env: {} })).rejects.toMatchObject({
      name: 'ConfigError',
      path: 'connections[0].upstream.password',
      message: expect.stringContaining('environment variable GATEHOUSE_PG_PASSWORD is not set'),
    });
  });
});

describe('docs/configuration.md', () => {
  it('has complete examples', () => {
    expect(completeExamples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(completeExamples.map((text, i) => [i, text] as const))('complete example %d loads', (_i, text) => {
    expect(() => parseConfig(text, { file: docsFile, env: envFor(text) })).not.toThrow();
  });

  it('mentions every key of the schema outside the policy-owned sections', () => {
    const missing: string[] = [];
    const owned = new Set(['policies', 'masking', 'approvals', 'policy']);
    const walk = (schema: unknown): void => {
      if (schema === null || typeof schema !== 'object') return;
      const node = schema as Record<string, unknown>;
      for (const [key, child] of Object.entries((node['properties'] ?? {}) as Record<string, unknown>)) {
        if (!docs.includes(`\`${key}`) && !docs.includes(`.${key}\``)) missing.push(key);
        if (!owned.has(key)) walk(child);
      }
      for (const part of ['items', 'then']) walk(node[part]);
      for (const sub of (node['allOf'] ?? []) as unknown[]) walk(sub);
    };
    walk(configSchema);
    expect(missing).toEqual([]);
  });
});
