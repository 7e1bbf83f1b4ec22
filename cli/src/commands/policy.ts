import type { Identity } from '@gatehouse/core';
import { compilePolicy, explainDecision } from '@gatehouse/policy';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, readConfig } from '../config-source.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { paint, printable, processOutput } from '../output.js';
import { buildCommand, type CommandKind, PROTOCOL_OF, UnjudgeableCommand } from '../policy-test/commands.js';

interface TestArgs {
  config?: string;
  as: string;
  groups?: string[];
  connection?: string;
  sql?: string;
  shell?: string;
  k8s?: string;
  http?: string;
  expect?: 'allow' | 'deny' | 'review';
  json: boolean;
}

const testCommand: CommandModule<object, TestArgs> = {
  command: 'test',
  describe: 'Judge one command with the configured rules, without starting the gateway',
  builder: (y: Argv) =>
    y
      .option('config', configOption)
      .option('as', { type: 'string', demandOption: true, describe: 'Subject of the caller' })
      .option('groups', {
        type: 'string',
        array: true,
        describe: 'Groups of the caller, comma-separated or repeated',
        coerce: (values: string[]) =>
          values
            .flatMap((v) => v.split(','))
            .map((v) => v.trim())
            .filter(Boolean),
      })
      .option('connection', {
        type: 'string',
        describe: 'Connection whose rules apply (default: the first of the protocol)',
      })
      .option('sql', { type: 'string', describe: 'SQL text, judged statement by statement' })
      .option('shell', { type: 'string', describe: 'A shell command line, as an SSH exec' })
      .option('k8s', {
        type: 'string',
        describe: 'kubectl-style ("delete pods -n kube-system") or "METHOD /path"',
      })
      .option('http', { type: 'string', describe: '"METHOD /path", e.g. "DELETE /v1/users/7"' })
      .option('expect', {
        choices: ['allow', 'deny', 'review'] as const,
        describe: 'Exit 1 unless the decision is this',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' })
      .check((a) => {
        const given = (['sql', 'shell', 'k8s', 'http'] as const).filter((k) => a[k] !== undefined);
        if (given.length !== 1) return 'give exactly one of --sql, --shell, --k8s, --http';
        return true;
      })
      .example(
        '$0 policy test --config gatehouse.yaml --as agent-1 --groups agents --sql "DELETE FROM users"',
        '',
      )
      .example(
        '$0 policy test --config gatehouse.yaml --as agent-1 --k8s "delete pods -n kube-system" --expect deny',
        '',
      )
      .epilog(
        'Exit status: 0 judged (and as expected), 1 not the expected decision, 2 usage or invalid config.',
      ) as unknown as Argv<TestArgs>,
  handler: async (args: ArgumentsCamelCase<TestArgs>) => {
    const config = await readConfig(args.config);
    const kind = (['sql', 'shell', 'k8s', 'http'] as const).find((k) => args[k] !== undefined) as CommandKind;
    const protocol = PROTOCOL_OF[kind];
    const connection =
      args.connection === undefined
        ? config.connections.find((c) => c.protocol === protocol)
        : config.connections.find((c) => c.name === args.connection);
    if (connection === undefined) {
      throw new CliError(
        args.connection === undefined
          ? `no ${protocol} connection in ${config.file}; name one with --connection`
          : `no connection "${args.connection}" in ${config.file}`,
        ExitCode.Usage,
      );
    }
    const out = processOutput();
    let command: Awaited<ReturnType<typeof buildCommand>>;
    try {
      command = await buildCommand(kind, args[kind] as string);
    } catch (err) {
      if (!(err instanceof UnjudgeableCommand)) throw err;
      if (args.json)
        out.out(
          JSON.stringify(
            { connection: connection.name, decision: { action: 'deny', reason: err.message } },
            null,
            2,
          ),
        );
      else out.out(`${paint(out, 'red', 'DENY')}  refused before policy: ${printable(err.message)}`);
      if (args.expect !== undefined && args.expect !== 'deny') {
        throw new CliError(`expected ${args.expect}, got deny`, ExitCode.Failure);
      }
      return;
    }
    const engine = compilePolicy({
      policies: config.policies,
      connections: config.connections.map((c) => ({ name: c.name, policy: c.policy })),
      masking: config.masking,
    });
    const identity: Identity = { subject: args.as, groups: args.groups ?? [], issuer: 'policy-test' };
    const decision = engine.decide({ connection: connection.name, identity, command });
    if (args.json) {
      out.out(JSON.stringify({ connection: connection.name, command, decision }, null, 2));
    } else {
      const colour = decision.action === 'allow' ? 'green' : decision.action === 'deny' ? 'red' : 'yellow';
      out.out(
        `${paint(out, colour, decision.action.toUpperCase())}  ${printable(explainDecision(decision))}`,
      );
      out.out(
        paint(
          out,
          'dim',
          `connection ${connection.name} (${protocol}), as ${args.as} [${(args.groups ?? []).join(', ')}]`,
        ),
      );
    }
    if (args.expect !== undefined && args.expect !== decision.action) {
      throw new CliError(`expected ${args.expect}, got ${decision.action}`, ExitCode.Failure);
    }
  },
};

export const policyCommand: CommandModule = {
  command: 'policy <command>',
  describe: 'Check rules without starting the gateway',
  builder: (y: Argv) => y.command(testCommand).demandCommand(1),
  handler: () => {},
};
