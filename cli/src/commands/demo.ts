import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadConfig } from '@gatehouse/config';
import { builtinModules, createLogger, startFromConfig } from '@gatehouse/gateway';
import { loadOrCreateDevIssuer } from '@gatehouse/identity';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { demoConfigYaml } from '../demo/demo-config.js';
import {
  type DemoPostgres,
  findPostgresBinaries,
  PostgresUnavailable,
  startDemoPostgres,
} from '../demo/demo-postgres.js';
import { startDemoUpstream } from '../demo/demo-upstream.js';
import { ExitCode } from '../exit-codes.js';
import { type Output, paint, processOutput } from '../output.js';

interface DemoArgs {
  dataDir: string;
  httpPort: number;
  adminPort: number;
  upstreamPort: number;
  pgPort: number;
  logLevel: string;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe:
    'Run a self-contained demo: a sample API and (when installed) a PostgreSQL database with personal data behind the gateway',
  builder: (y: Argv) =>
    y
      .option('data-dir', {
        type: 'string',
        default: '.gatehouse-demo',
        describe: 'Where the demo keeps its log and keys',
      })
      .option('http-port', { type: 'number', default: 18080, describe: 'Gateway port for the sample API' })
      .option('admin-port', { type: 'number', default: 9090, describe: 'Admin API port' })
      .option('upstream-port', { type: 'number', default: 0, describe: 'Sample API port (0: any free port)' })
      .option('pg-port', {
        type: 'number',
        default: 15432,
        describe: 'Gateway port for the sample PostgreSQL database (when PostgreSQL is installed)',
      })
      .option('log-level', {
        type: 'string',
        default: 'warn',
        describe: 'Gateway log level',
      }) as unknown as Argv<DemoArgs>,
  handler: async (args: ArgumentsCamelCase<DemoArgs>) => {
    const out = processOutput();
    const dataDir = resolve(args.dataDir);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });

    // Ctrl-C is ours from the start: during startup it stops what was started so far (the
    // PostgreSQL cluster outlives the process otherwise), afterwards it stops the demo.
    const stopping = new AbortController();
    const onSignal = () => {
      if (stopping.signal.aborted) out.err('still stopping…');
      else stopping.abort(new Error('stopped'));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const cleanups: { what: string; run: () => Promise<void> }[] = [];
    try {
      const upstream = await startDemoUpstream(args.upstreamPort);
      cleanups.push({ what: 'the sample API', run: () => upstream.close() });
      stopping.signal.throwIfAborted();

      let pg: DemoPostgres | undefined;
      let pgSkipped: string | undefined;
      const binaries = findPostgresBinaries();
      if ('skip' in binaries) pgSkipped = binaries.skip;
      else {
        out.err(`starting a throwaway PostgreSQL ${binaries.version} cluster in ${dataDir}…`);
        try {
          pg = await startDemoPostgres({ bin: binaries.bin, dataDir, signal: stopping.signal });
        } catch (err) {
          if (!(err instanceof PostgresUnavailable)) throw err;
          pgSkipped = err.message;
        }
      }
      if (pg !== undefined) {
        const cluster = pg;
        cleanups.push({ what: 'the PostgreSQL cluster', run: () => cluster.stop() });
      }
      stopping.signal.throwIfAborted();

      const configFile = join(dataDir, 'gatehouse.demo.yaml');
      writeFileSync(
        configFile,
        demoConfigYaml(
          { http: args.httpPort, admin: args.adminPort, upstream: upstream.port },
          pg === undefined
            ? undefined
            : {
                listen: args.pgPort,
                upstreamPort: pg.port,
                database: pg.database,
                user: pg.user,
                passwordFile: relative(dataDir, pg.passwordFile),
              },
        ),
      );
      const config = await loadConfig(configFile);
      const running = await startFromConfig(config, {
        modules: builtinModules(),
        logger: createLogger({ level: args.logLevel as 'warn' }),
      });
      cleanups.push({ what: 'the gateway', run: () => running.close() });
      stopping.signal.throwIfAborted();

      const issuer = await loadOrCreateDevIssuer(dataDir);
      const agent = await issuer.issue({ sub: 'agent-1', groups: ['agents'], ttl: 60 * 60_000 });
      const approver = await issuer.issue({
        sub: 'alice',
        groups: ['approvers', 'gatehouse-admins'],
        ttl: 60 * 60_000,
      });
      out.out(
        demoInstructions({
          out,
          agent,
          approver,
          httpPort: args.httpPort,
          adminPort: args.adminPort,
          config: relative(process.cwd(), configFile) || configFile,
          postgres:
            pg === undefined
              ? { skipped: pgSkipped ?? 'not started' }
              : { port: args.pgPort, database: pg.database, user: pg.user },
        }),
      );
      await new Promise<void>((resolveStop) => {
        if (stopping.signal.aborted) resolveStop();
        else stopping.signal.addEventListener('abort', () => resolveStop(), { once: true });
      });
      out.err('stopping…');
    } catch (err) {
      // Stopped by the user during startup: whatever failed because of it is not an error.
      if (!stopping.signal.aborted) throw err;
      out.err('stopped before the demo was ready; stopping what was started…');
    } finally {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup.run();
        } catch (err) {
          out.err(`gatehouse: could not stop ${cleanup.what}: ${(err as Error).message}`);
          process.exitCode = ExitCode.Failure;
        }
      }
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

function demoInstructions(o: {
  out: Output;
  agent: string;
  approver: string;
  httpPort: number;
  adminPort: number;
  config: string;
  postgres: { port: number; database: string; user: string } | { skipped: string };
}): string {
  const b = (t: string) => paint(o.out, 'bold', t);
  const gw = `http://127.0.0.1:${o.httpPort}`;
  const admin = `http://127.0.0.1:${o.adminPort}`;
  const cfg = o.config;
  const pg = o.postgres;
  const intro =
    'skipped' in pg
      ? `A sample customers API sits behind the gateway at ${gw}.
PostgreSQL skipped: ${pg.skipped}.`
      : `A sample customers API sits behind the gateway at ${gw},
and a throwaway PostgreSQL database with the same customers at 127.0.0.1:${pg.port}.`;
  const psql = (sql: string) =>
    'skipped' in pg
      ? ''
      : `   psql "host=127.0.0.1 port=${pg.port} dbname=${pg.database} user=${pg.user} sslmode=require password=$AGENT_TOKEN" -c "${sql}"`;
  const sqlStep =
    'skipped' in pg
      ? ''
      : `${b('4. The same through PostgreSQL')} (the token is the password; every statement is judged):
${psql('SELECT * FROM customers')}
   ${paint(o.out, 'dim', '# emails, cards, SSNs and phones masked')}
${psql('DROP TABLE customers')}
   ${paint(o.out, 'dim', "# refused with the rule's message")}
${psql('DELETE FROM orders')}
   ${paint(o.out, 'dim', '# held until an approver decides, as in step 3')}

`;
  const audit = 'skipped' in pg ? 4 : 5;
  return `${b('Gatehouse demo is running.')} ${intro}
Policy: reads are allowed (personal data masked), DELETE /customers and DROP/TRUNCATE are denied,
POST /refunds and a DELETE without WHERE wait for approval.

${b('1. An agent reads customers')} (emails, cards, SSNs and phones come back masked):
   export AGENT_TOKEN=${o.agent}
   curl -s -H "Authorization: Bearer $AGENT_TOKEN" ${gw}/customers

${b('2. A destructive call is refused')} with the rule's message:
   curl -s -X DELETE -H "Authorization: Bearer $AGENT_TOKEN" ${gw}/customers/1

${b('3. A refund waits for a human')} (run it, then approve from a second terminal):
   curl -s -X POST -H "Authorization: Bearer $AGENT_TOKEN" ${gw}/refunds
   export GATEHOUSE_TOKEN=${o.approver}
   pnpm gatehouse approvals list --server ${admin}
   pnpm gatehouse approvals approve <ID> --reason "customer called" --server ${admin}

${sqlStep}${b(`${audit}. Audit what happened`)} in the tamper-evident session log:
   pnpm gatehouse sessions list --config ${cfg}
   pnpm gatehouse sessions show <SESSION> --config ${cfg}
   pnpm gatehouse verify --config ${cfg}

Press Ctrl-C to stop.`;
}
