import { builtinModules, startFromConfig } from '@gatehouse/gateway';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, readConfig } from '../config-source.js';

interface StartArgs {
  config?: string;
}

export const startCommand: CommandModule<object, StartArgs> = {
  command: 'start',
  describe: 'Start the gateway: listeners for every connection, the session log and the admin API',
  builder: (y: Argv) =>
    y
      .option('config', {
        ...configOption,
        describe: 'Gatehouse config file (YAML); or set GATEHOUSE_CONFIG',
      })
      .example('$0 start --config gatehouse.example.yaml', '')
      .epilog(
        'Stops on SIGTERM or SIGINT: stops accepting, lets open sessions drain (shutdown.drainTimeout), ' +
          'closes the rest with a logged reason and exits 0. Exit status 2: invalid configuration.',
      ) as unknown as Argv<StartArgs>,
  handler: async (args: ArgumentsCamelCase<StartArgs>) => {
    const config = await readConfig(args.config);
    const running = await startFromConfig(config, { modules: builtinModules() });
    const { logger } = running;
    // A gateway must outlive a bug in one connection's handling: report, do not crash.
    process.on('uncaughtException', (err) =>
      logger.error({ err: err.message, stack: err.stack }, 'uncaught exception'),
    );
    process.on('unhandledRejection', (reason) =>
      logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection'),
    );
    logger.info(
      { config: config.file, connections: running.gateway.addresses(), admin: running.admin?.address() },
      'gatehouse started',
    );
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting now');
          process.exit(1);
        }
        stopping = true;
        logger.info({ signal }, 'stopping');
        running.close().then(resolve, (err: unknown) => {
          logger.error({ err: err instanceof Error ? err.message : String(err) }, 'error while stopping');
          process.exitCode = 1;
          resolve();
        });
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    logger.info({}, 'gatehouse stopped');
  },
};
