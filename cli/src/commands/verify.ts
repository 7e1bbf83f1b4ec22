import { verifySessionLog } from '@gatehouse/session-log';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, dbOption, sessionLogPath } from '../config-source.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { paint, processOutput } from '../output.js';

interface VerifyArgs {
  db?: string;
  config?: string;
  keyFile?: string;
  json: boolean;
}

export const verifyCommand: CommandModule<object, VerifyArgs> = {
  command: 'verify',
  describe: 'Recompute the session log hash chain and check it against its signed anchor',
  builder: (y: Argv) =>
    y
      .option('db', dbOption)
      .option('config', configOption)
      .option('key-file', { type: 'string', describe: 'Anchor key file (default: <db>.key)' })
      .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' })
      .epilog(
        'Exit status: 0 intact, 3 tampered or damaged, 2 usage, 4 no such log.',
      ) as unknown as Argv<VerifyArgs>,
  handler: async (args: ArgumentsCamelCase<VerifyArgs>) => {
    const path = await sessionLogPath(args);
    const result = await verifySessionLog(
      path,
      args.keyFile === undefined ? {} : { anchorKeyFile: args.keyFile },
    );
    const out = processOutput();
    if (args.json) {
      out.out(JSON.stringify(result, null, 2));
    } else if (result.ok) {
      out.out(
        `${paint(out, 'green', 'OK')}  ${path}: ${result.events} events, chain intact up to seq ${result.lastSeq}`,
      );
      if (result.warning !== undefined) out.out(`${paint(out, 'yellow', 'warning')}  ${result.warning}`);
    } else {
      out.out(
        `${paint(out, 'red', 'TAMPERED')}  ${path}: first bad sequence number ${result.firstBadSeq ?? '?'}: ${result.problem ?? 'unknown problem'}`,
      );
    }
    if (!result.ok) throw new CliError('session log verification failed', ExitCode.VerifyFailed);
  },
};
