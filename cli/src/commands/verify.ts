import { readFileSync } from 'node:fs';
import { type Checkpoint, parseCheckpoint, verifySessionLog } from '@gatehouse/session-log';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, dbOption, sessionLogPath } from '../config-source.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { paint, processOutput } from '../output.js';

interface VerifyArgs {
  db?: string;
  config?: string;
  keyFile?: string;
  json: boolean;
  head: boolean;
  checkpoint?: string[];
  checkpoints?: string;
}

/** `seq:hash` values from the flags and from a file of them (one per line, `#` comments). */
function checkpointsFrom(args: VerifyArgs): Checkpoint[] {
  const texts: { text: string; where: string }[] = (args.checkpoint ?? []).map((text) => ({
    text: String(text),
    where: '--checkpoint',
  }));
  if (args.checkpoints !== undefined) {
    let body: string;
    try {
      body = readFileSync(args.checkpoints, 'utf8');
    } catch (err) {
      throw new CliError(
        `cannot read checkpoints file ${args.checkpoints}: ${(err as Error).message}`,
        ExitCode.Usage,
      );
    }
    body.split('\n').forEach((line, i) => {
      const text = line.replace(/#.*/, '').trim();
      if (text !== '') texts.push({ text, where: `${args.checkpoints}:${i + 1}` });
    });
  }
  return texts.map(({ text, where }) => {
    const c = parseCheckpoint(text);
    if (c === undefined)
      throw new CliError(`${where}: expected SEQ:HASH (as printed by verify --head)`, ExitCode.Usage);
    return c;
  });
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
      .option('head', {
        type: 'boolean',
        default: false,
        describe: 'Print only the verified head as SEQ:HASH, to keep off this machine',
      })
      .option('checkpoint', {
        type: 'string',
        array: true,
        describe: 'A head recorded earlier (SEQ:HASH) that must still be in the chain; repeatable',
      })
      .option('checkpoints', {
        type: 'string',
        describe: 'File of recorded heads, one SEQ:HASH per line',
      })
      .epilog(
        'Exit status: 0 intact, 3 tampered or damaged, 2 usage, 4 no such log.',
      ) as unknown as Argv<VerifyArgs>,
  handler: async (args: ArgumentsCamelCase<VerifyArgs>) => {
    const checkpoints = checkpointsFrom(args);
    const path = await sessionLogPath(args);
    const result = await verifySessionLog(path, {
      ...(args.keyFile === undefined ? {} : { anchorKeyFile: args.keyFile }),
      ...(checkpoints.length === 0 ? {} : { checkpoints }),
    });
    const out = processOutput();
    if (args.json) {
      out.out(JSON.stringify(result, null, 2));
    } else if (args.head && result.ok) {
      out.out(result.head ?? '');
    } else if (result.ok) {
      out.out(
        `${paint(out, 'green', 'OK')}  ${path}: ${result.events} events, chain intact up to seq ${result.lastSeq}`,
      );
      if (result.checkpointsMatched !== undefined)
        out.out(`      ${result.checkpointsMatched} recorded checkpoint(s) found in the chain`);
      if (result.head !== undefined) out.out(`      head ${result.head}`);
      if (result.warning !== undefined) out.out(`${paint(out, 'yellow', 'warning')}  ${result.warning}`);
    } else {
      out.out(
        `${paint(out, 'red', 'TAMPERED')}  ${path}: first bad sequence number ${result.firstBadSeq ?? '?'}: ${result.problem ?? 'unknown problem'}`,
      );
    }
    if (!result.ok) throw new CliError('session log verification failed', ExitCode.VerifyFailed);
  },
};
