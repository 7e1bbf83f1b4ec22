import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadConfig } from '@gatehouse/config';
import { builtinModules, createLogger, startFromConfig } from '@gatehouse/gateway';
import { loadOrCreateDevIssuer } from '@gatehouse/identity';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { demoConfigYaml } from '../demo/demo-config.js';
import { startDemoUpstream } from '../demo/demo-upstream.js';
import { paint, processOutput } from '../output.js';

interface DemoArgs {
  dataDir: string;
  httpPort: number;
  adminPort: number;
  upstreamPort: number;
  logLevel: string;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Run a self-contained demo: a sample API with personal data behind the gateway',
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
      .option('log-level', {
        type: 'string',
        default: 'warn',
        describe: 'Gateway log level',
      }) as unknown as Argv<DemoArgs>,
  handler: async (args: ArgumentsCamelCase<DemoArgs>) => {
    const out = processOutput();
    const dataDir = resolve(args.dataDir);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const upstream = await startDemoUpstream(args.upstreamPort);
    const configFile = join(dataDir, 'gatehouse.demo.yaml');
    writeFileSync(
      configFile,
      demoConfigYaml({ http: args.httpPort, admin: args.adminPort, upstream: upstream.port }),
    );
    let running: Awaited<ReturnType<typeof startFromConfig>>;
    try {
      const config = await loadConfig(configFile);
      running = await startFromConfig(config, {
        modules: builtinModules(),
        logger: createLogger({ level: args.logLevel as 'warn' }),
      });
    } catch (err) {
      await upstream.close();
      throw err;
    }
    const issuer = await loadOrCreateDevIssuer(dataDir);
    const agent = await issuer.issue({ sub: 'agent-1', groups: ['agents'], ttl: 60 * 60_000 });
    const approver = await issuer.issue({
      sub: 'alice',
      groups: ['approvers', 'gatehouse-admins'],
      ttl: 60 * 60_000,
    });
    const cfg = relative(process.cwd(), configFile) || configFile;
    const gw = `http://127.0.0.1:${args.httpPort}`;
    const b = (t: string) => paint(out, 'bold', t);
    out.out(`${b('Gatehouse demo is running.')} A sample customers API sits behind the gateway at ${gw}.
Policy: GET is allowed (personal data masked), DELETE is denied, POST /refunds waits for approval.

${b('1. An agent reads customers')} (emails, cards, SSNs and phones come back masked):
   export AGENT_TOKEN=${agent}
   curl -s -H "Authorization: Bearer $AGENT_TOKEN" ${gw}/customers

${b('2. A destructive call is refused')} with the rule's message:
   curl -s -X DELETE -H "Authorization: Bearer $AGENT_TOKEN" ${gw}/customers/1

${b('3. A refund waits for a human')} (run it, then approve from a second terminal):
   curl -s -X POST -H "Authorization: Bearer $AGENT_TOKEN" ${gw}/refunds
   export GATEHOUSE_TOKEN=${approver}
   pnpm gatehouse approvals list --server http://127.0.0.1:${args.adminPort}
   pnpm gatehouse approvals approve <ID> --reason "customer called" --server http://127.0.0.1:${args.adminPort}

${b('4. Audit what happened')} in the tamper-evident session log:
   pnpm gatehouse sessions list --config ${cfg}
   pnpm gatehouse sessions show <SESSION> --config ${cfg}
   pnpm gatehouse verify --config ${cfg}

Press Ctrl-C to stop.`);
    await new Promise<void>((resolveStop) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolveStop();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    out.err('stopping…');
    await running.close();
    await upstream.close();
  },
};
