import { existsSync } from 'node:fs';
import { type GatehouseConfig, loadConfig } from '@gatehouse/config';
import { CliError, ExitCode } from './exit-codes.js';

export const configOption = {
  type: 'string',
  describe: 'Gatehouse config file (YAML)',
} as const;

export const dbOption = {
  type: 'string',
  describe: 'Session log database file (instead of reading its path from --config)',
} as const;

export async function readConfig(file: string | undefined): Promise<GatehouseConfig> {
  const path = file ?? process.env['GATEHOUSE_CONFIG'];
  if (path === undefined) throw new CliError('no config file: pass --config FILE', ExitCode.Usage);
  return loadConfig(path);
}

/** The session log a reading command works on: --db wins, else the config's sessionLog.path. */
export async function sessionLogPath(args: {
  db?: string | undefined;
  config?: string | undefined;
}): Promise<string> {
  if (args.db !== undefined) {
    if (!existsSync(args.db)) throw new CliError(`no session log at ${args.db}`, ExitCode.NotFound);
    return args.db;
  }
  if (args.config === undefined && process.env['GATEHOUSE_CONFIG'] === undefined) {
    throw new CliError('say which session log to read: --db FILE or --config FILE', ExitCode.Usage);
  }
  const config = await readConfig(args.config);
  if (!existsSync(config.sessionLog.path)) {
    throw new CliError(
      `no session log at ${config.sessionLog.path} (has the gateway run yet?)`,
      ExitCode.NotFound,
    );
  }
  return config.sessionLog.path;
}
