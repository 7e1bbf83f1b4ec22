import { parseDuration } from '@gatehouse/core';
import {
  DEV_ISSUER_DEFAULT_AUDIENCE,
  DEV_ISSUER_DEFAULT_ISSUER,
  loadOrCreateDevIssuer,
} from '@gatehouse/identity';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, readConfig } from '../config-source.js';
import { CliError, ExitCode } from '../exit-codes.js';

interface IssueArgs {
  sub: string;
  groups?: string[];
  ttl: string;
  audience?: string;
  config?: string;
  dataDir?: string;
}

const issueCommand: CommandModule<object, IssueArgs> = {
  command: 'issue',
  describe: 'Print a token from the development issuer, alone on stdout',
  builder: (y: Argv) =>
    y
      .option('sub', { type: 'string', demandOption: true, describe: 'Subject (who the token is for)' })
      .option('groups', {
        type: 'string',
        array: true,
        describe: 'Groups, comma-separated or repeated',
        coerce: (values: string[]) =>
          values
            .flatMap((v) => v.split(','))
            .map((v) => v.trim())
            .filter(Boolean),
      })
      .option('ttl', { type: 'string', default: '15m', describe: 'Lifetime, e.g. 30s, 15m, 1h (max 24h)' })
      .option('audience', { type: 'string', describe: "Audience (default: the dev issuer's)" })
      .option('config', configOption)
      .option('data-dir', { type: 'string', describe: 'Data directory holding the dev issuer key' })
      .example('$0 token issue --sub agent-1 --groups agents,dev --config gatehouse.yaml', '')
      .example(
        'export GATEHOUSE_TOKEN=$($0 token issue --sub alice --groups approvers --config gatehouse.yaml)',
        '',
      ) as unknown as Argv<IssueArgs>,
  handler: async (args: ArgumentsCamelCase<IssueArgs>) => {
    const ttl = parseDuration(args.ttl);
    if (ttl === undefined)
      throw new CliError(`bad --ttl "${args.ttl}" (use e.g. 30s, 15m, 1h)`, ExitCode.Usage);
    let dataDir = args.dataDir;
    let issuer = DEV_ISSUER_DEFAULT_ISSUER;
    let audience = DEV_ISSUER_DEFAULT_AUDIENCE;
    if (dataDir === undefined) {
      if (args.config === undefined && process.env['GATEHOUSE_CONFIG'] === undefined) {
        throw new CliError(
          'say where the dev issuer key lives: --config FILE or --data-dir DIR',
          ExitCode.Usage,
        );
      }
      const config = await readConfig(args.config);
      if (!config.identity.devIssuer.enabled) {
        throw new CliError(
          `the development issuer is not enabled in ${config.file} (identity.devIssuer.enabled: true)`,
          ExitCode.Usage,
        );
      }
      dataDir = config.dataDir;
      issuer = config.identity.devIssuer.issuer;
      audience = config.identity.devIssuer.audience;
    }
    const devIssuer = await loadOrCreateDevIssuer(dataDir, { issuer, audience });
    const token = await devIssuer.issue({
      sub: args.sub,
      groups: args.groups ?? [],
      ttl,
      ...(args.audience === undefined ? {} : { audience: args.audience }),
    });
    process.stdout.write(`${token}\n`);
  },
};

export const tokenCommand: CommandModule = {
  command: 'token <command>',
  describe: 'Development tokens',
  builder: (y: Argv) => y.command(issueCommand).demandCommand(1),
  handler: () => {},
};
