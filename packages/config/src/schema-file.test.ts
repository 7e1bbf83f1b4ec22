import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema } from './schema.js';

const shippedFile = fileURLToPath(new URL('../gatehouse.schema.json', import.meta.url));

// `pnpm --filter @gatehouse/config gen-schema` runs this file with GATEHOUSE_WRITE_SCHEMA=1: going
// through Vitest reads the TypeScript sources directly, so no build of the package chain is needed.
describe('gatehouse.schema.json', () => {
  if (process.env['GATEHOUSE_WRITE_SCHEMA'] === '1') {
    it('is rewritten from configSchema', () => {
      writeFileSync(shippedFile, `${JSON.stringify(configSchema, null, 2)}\n`);
    });
    return;
  }

  it('matches the schema the loader uses (run `pnpm --filter @gatehouse/config gen-schema` if not)', () => {
    const shipped = JSON.parse(readFileSync(shippedFile, 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(configSchema)));
  });
});
