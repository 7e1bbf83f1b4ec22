// Writes gatehouse.schema.json from the built package, for editors (yaml-language-server).
// `pnpm --filter @gatehouse/config gen-schema` builds first; a test fails while the file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../dist/index.js';

const target = fileURLToPath(new URL('../gatehouse.schema.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(configSchema, null, 2)}\n`);
console.log(`wrote ${target}`);
