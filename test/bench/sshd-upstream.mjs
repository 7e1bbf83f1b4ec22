// The throwaway sshd of the SSH tests (test/fixtures/sshd.ts, TypeScript) for the load benchmark,
// loaded through Vite's module runner as vitest loads it, in a process of its own. Prints
// `{ port, user, hostKeyLine, clientKey }` once sshd listens; SIGTERM stops sshd and exits.
import { join } from 'node:path';
import { createViteServer } from 'vitest/node';

const root = join(import.meta.dirname, '../..');
const vite = await createViteServer({
  configFile: false,
  root,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: [] },
});
const { startSshd } = await vite.ssrLoadModule(join(root, 'test/fixtures/sshd.ts'));
await vite.close();

// sshd's default MaxStartups (10:30:100) drops some of 20 connections opened at once (the client
// then sees exit status 255); LogLevel ERROR keeps sshd's log small under load.
const sshd = await startSshd({ logLevel: 'ERROR', maxStartups: '100' });
process.stdout.write(
  `${JSON.stringify({ port: sshd.port, user: sshd.user, hostKeyLine: sshd.hostKeyLine, clientKey: sshd.clientKey })}\n`,
);
process.on('SIGTERM', async () => {
  await sshd.stop();
  process.exit(0);
});
