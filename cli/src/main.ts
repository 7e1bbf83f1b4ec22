import { ConfigError, GatewayError } from '@gatehouse/core';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { approvalsCommand } from './commands/approvals.js';
import { demoCommand } from './commands/demo.js';
import { exportCommand } from './commands/export.js';
import { kubeconfigCommand } from './commands/kubeconfig.js';
import { policyCommand } from './commands/policy.js';
import { replayCommand } from './commands/replay.js';
import { sessionsCommand } from './commands/sessions.js';
import { startCommand } from './commands/start.js';
import { tokenCommand } from './commands/token.js';
import { verifyCommand } from './commands/verify.js';
import { CliError, ExitCode } from './exit-codes.js';
import { printable } from './output.js';

function report(err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`gatehouse: ${printable(err.message, { multiline: true })}\n`);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(
      `gatehouse: invalid configuration: ${printable(err.message, { multiline: true })}\n`,
    );
    return ExitCode.Usage;
  }
  if (err instanceof GatewayError) {
    process.stderr.write(`gatehouse: ${printable(err.message, { multiline: true })}\n`);
    return ExitCode.Failure;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`gatehouse: unexpected error: ${printable(message, { multiline: true })}\n`);
  return ExitCode.Failure;
}

const cli = yargs(hideBin(process.argv))
  .scriptName('gatehouse')
  .usage('$0 <command> [options]\n\nGatehouse: the identity-aware, auditing gateway for agents.')
  .command(demoCommand)
  .command(startCommand)
  .command(tokenCommand)
  .command(sessionsCommand)
  .command(verifyCommand)
  .command(replayCommand)
  .command(exportCommand)
  .command(approvalsCommand)
  .command(policyCommand)
  .command(kubeconfigCommand)
  .demandCommand(1, 'Name a command; see --help.')
  .recommendCommands()
  .strict()
  .help()
  .alias('h', 'help')
  .version(false)
  .wrap(Math.min(110, process.stdout.columns ?? 100))
  .fail((message, err: unknown) => {
    // Our handlers throw Errors; yargs reports its own validation failures (a .check, an unknown
    // option) as a message, a YError or a bare string: those are bad usage.
    if (err instanceof Error && err.name !== 'YError') throw err;
    const text = message ?? (err instanceof Error ? err.message : String(err));
    throw new CliError(`${text}\nRun "gatehouse --help" for usage.`, ExitCode.Usage);
  });

try {
  await cli.parseAsync();
} catch (err) {
  process.exitCode = report(err);
}
