// A gateway in its own process for the load benchmarks, started from a config file (argv[2]), so
// that its CPU time and peak RSS can be read from /proc and a CPU profile taken with --cpu-prof.
// Prints `{ ports, token }` as one JSON line once it listens; SIGTERM closes it, prints
// `{ events }` (how many events the session log holds) and exits, which writes the profile.
// SIGUSR2 prints `{ memory }` (process.memoryUsage() after a full GC).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const load = (p) => import(pathToFileURL(join(root, p)).href);
const { parseConfig } = await load('packages/config/dist/index.js');
const { builtinModules, startFromConfig } = await load('gateway/dist/index.js');
const { loadOrCreateDevIssuer } = await load('packages/identity/dist/index.js');
const { silentLogger } = await load('packages/core/dist/index.js');

const file = process.argv[2];
const config = parseConfig(readFileSync(file, 'utf8'), { file, baseDir: dirname(file) });
const running = await startFromConfig(config, { modules: builtinModules(), logger: silentLogger });
const issuer = await loadOrCreateDevIssuer(config.dataDir);
const token = await issuer.issue({ sub: 'bench', groups: ['agents'], ttl: 3_600_000 });
const ports = Object.fromEntries(
  Object.entries(running.gateway.addresses()).map(([name, a]) => [name, a.port]),
);
process.stdout.write(`${JSON.stringify({ ports, token })}\n`);
process.on('SIGUSR2', () => {
  // Not --expose-gc on the command line: worker threads (the session log's checkpointer) refuse it.
  setFlagsFromString('--expose-gc');
  runInNewContext('gc')();
  process.stdout.write(`${JSON.stringify({ memory: process.memoryUsage() })}\n`);
});
process.on('SIGTERM', async () => {
  const events = running.log.reader().eventCount();
  await running.close();
  process.stdout.write(`${JSON.stringify({ events })}\n`);
  process.exit(0);
});
