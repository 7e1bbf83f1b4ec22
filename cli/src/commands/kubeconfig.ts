import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { GatehouseConfig } from '@gatehouse/config';
import { parseDuration } from '@gatehouse/core';
import { loadOrCreateDevIssuer } from '@gatehouse/identity';
import { loadGatewayCertificate, parseKubernetesOptions } from '@gatehouse/kubernetes';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { configOption, readConfig } from '../config-source.js';
import { CliError, ExitCode } from '../exit-codes.js';

interface KubeconfigArgs {
  connection: string;
  config?: string;
  server?: string;
  namespace?: string;
  token?: string;
  sub?: string;
  groups?: string[];
  ttl?: string;
  exec?: boolean;
  execCommand: string;
  execCredential?: boolean;
}

const EXEC_API_VERSION = 'client.authentication.k8s.io/v1';

/** `https://host:port` from the listen address; a wildcard address means "this machine". */
function serverUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `https://${isIP(reachable) === 6 ? `[${reachable}]` : reachable}:${port}`;
}

/** YAML double-quoted scalar (JSON strings are valid YAML). */
const q = (s: string): string => JSON.stringify(s);

function kubernetesConnection(config: GatehouseConfig, name: string) {
  const connection = config.connections.find((c) => c.name === name);
  if (connection === undefined) {
    const names = config.connections.filter((c) => c.protocol === 'kubernetes').map((c) => c.name);
    throw new CliError(
      `no connection "${name}" in ${config.file}${names.length > 0 ? ` (kubernetes connections: ${names.join(', ')})` : ''}`,
      ExitCode.NotFound,
    );
  }
  if (connection.protocol !== 'kubernetes') {
    throw new CliError(
      `connection "${name}" is a ${connection.protocol} connection, not kubernetes`,
      ExitCode.Usage,
    );
  }
  return connection;
}

async function devToken(
  config: GatehouseConfig,
  args: KubeconfigArgs,
  defaultTtl: string,
): Promise<{ token: string; expiresAt: Date }> {
  if (!config.identity.devIssuer.enabled) {
    throw new CliError(
      `the development issuer is not enabled in ${config.file} (identity.devIssuer.enabled: true); pass --token instead`,
      ExitCode.Usage,
    );
  }
  const ttlText = args.ttl ?? defaultTtl;
  const ttl = parseDuration(ttlText);
  if (ttl === undefined) throw new CliError(`bad --ttl "${ttlText}" (use e.g. 15m, 1h)`, ExitCode.Usage);
  const issuer = await loadOrCreateDevIssuer(config.dataDir, {
    issuer: config.identity.devIssuer.issuer,
    audience: config.identity.devIssuer.audience,
  });
  const token = await issuer.issue({ sub: args.sub as string, groups: args.groups ?? [], ttl });
  return { token, expiresAt: new Date(Date.now() + ttl) };
}

/** The `user:` entry: a static token, or an exec plugin that asks this CLI for a fresh one each time. */
function userEntry(args: KubeconfigArgs, configFile: string, token: string | undefined): string {
  if (token !== undefined) return `    token: ${q(token)}\n`;
  const pluginArgs = [
    'kubeconfig',
    '--exec-credential',
    '--connection',
    args.connection,
    '--config',
    configFile,
    '--sub',
    args.sub as string,
    ...(args.groups === undefined || args.groups.length === 0 ? [] : ['--groups', args.groups.join(',')]),
    ...(args.ttl === undefined ? [] : ['--ttl', args.ttl]),
  ];
  return (
    '    exec:\n' +
    `      apiVersion: ${EXEC_API_VERSION}\n` +
    `      command: ${q(args.execCommand)}\n` +
    '      args:\n' +
    pluginArgs.map((a) => `      - ${q(a)}\n`).join('') +
    '      interactiveMode: Never\n' +
    '      provideClusterInfo: false\n'
  );
}

export const kubeconfigCommand: CommandModule<object, KubeconfigArgs> = {
  command: 'kubeconfig',
  describe: "Print a kubeconfig for a Kubernetes connection: the gateway's CA, and a token or an exec plugin",
  builder: (y: Argv) =>
    y
      .option('connection', {
        type: 'string',
        demandOption: true,
        describe: 'Name of the kubernetes connection',
      })
      .option('config', configOption)
      .option('server', {
        type: 'string',
        describe: 'URL clients reach the gateway at (default: from the listen address)',
      })
      .option('namespace', { type: 'string', describe: 'Default namespace of the context' })
      .option('token', { type: 'string', describe: 'Put this token in the kubeconfig' })
      .option('sub', { type: 'string', describe: 'Issue a development token for this subject' })
      .option('groups', {
        type: 'string',
        array: true,
        describe: 'Groups of the development token, comma-separated or repeated',
        coerce: (values: string[]) =>
          values
            .flatMap((v) => v.split(','))
            .map((v) => v.trim())
            .filter(Boolean),
      })
      .option('ttl', {
        type: 'string',
        describe: 'Lifetime of development tokens (default 1h; 15m with --exec)',
      })
      .option('exec', {
        type: 'boolean',
        describe:
          'Use an exec credential plugin that runs `gatehouse kubeconfig --exec-credential` for each kubectl run',
      })
      .option('exec-command', {
        type: 'string',
        default: 'gatehouse',
        describe: 'The gatehouse executable the exec plugin runs',
      })
      .option('exec-credential', {
        type: 'boolean',
        describe:
          'Print a client.authentication.k8s.io/v1 ExecCredential with a development token (what the exec plugin runs)',
      })
      .conflicts('token', ['sub', 'exec', 'exec-credential'])
      .example(
        '$0 kubeconfig --connection prod-cluster --config gatehouse.yaml --sub agent-1 --groups agents > kubeconfig',
        '',
      )
      .example(
        '$0 kubeconfig --connection prod-cluster --config gatehouse.yaml --exec --sub agent-1 --groups agents',
        '',
      )
      .example(
        '$0 kubeconfig --connection prod-cluster --config gatehouse.yaml --server https://gw.example.com:16443 --token "$JWT"',
        '',
      ) as unknown as Argv<KubeconfigArgs>,
  handler: async (args: ArgumentsCamelCase<KubeconfigArgs>) => {
    if (args.config === undefined && process.env['GATEHOUSE_CONFIG'] === undefined) {
      throw new CliError('no config file: pass --config FILE', ExitCode.Usage);
    }
    const configFile = resolve(args.config ?? (process.env['GATEHOUSE_CONFIG'] as string));
    const config = await readConfig(configFile);
    const connection = kubernetesConnection(config, args.connection);

    if (args.execCredential === true) {
      if (args.sub === undefined) throw new CliError('--exec-credential needs --sub', ExitCode.Usage);
      const { token, expiresAt } = await devToken(config, args, '15m');
      const credential = {
        apiVersion: EXEC_API_VERSION,
        kind: 'ExecCredential',
        status: { token, expirationTimestamp: expiresAt.toISOString().replace(/\.\d+Z$/, 'Z') },
      };
      process.stdout.write(`${JSON.stringify(credential)}\n`);
      return;
    }

    if (args.token === undefined && args.sub === undefined) {
      throw new CliError(
        'say how clients authenticate: --token TOKEN, or --sub SUBJECT [--groups …] [--exec]',
        ExitCode.Usage,
      );
    }
    let server = args.server;
    if (server === undefined) {
      if (connection.listen.port === 0) {
        throw new CliError(
          `connection "${connection.name}" listens on port 0; pass --server URL`,
          ExitCode.Usage,
        );
      }
      server = serverUrl(connection.listen.host, connection.listen.port);
    } else if (!/^https:\/\/[^/\s]+\/?$/.test(server)) {
      throw new CliError(`--server must be an https:// URL of the gateway (got "${server}")`, ExitCode.Usage);
    }
    let options: ReturnType<typeof parseKubernetesOptions>;
    try {
      options = parseKubernetesOptions(connection.options);
    } catch (err) {
      throw new CliError(`connection "${connection.name}": ${(err as Error).message}`, ExitCode.Usage);
    }
    const certificate = await loadGatewayCertificate({
      options,
      dataDir: config.dataDir,
      connection: connection.name,
      listenHost: connection.listen.host,
    });
    let token = args.token;
    if (token === undefined && args.exec !== true) token = (await devToken(config, args, '1h')).token;
    const name = connection.name;
    process.stdout.write(
      'apiVersion: v1\n' +
        'kind: Config\n' +
        'clusters:\n' +
        `- name: ${q(name)}\n` +
        '  cluster:\n' +
        `    server: ${q(server.replace(/\/$/, ''))}\n` +
        `    certificate-authority-data: ${Buffer.from(certificate.caPem).toString('base64')}\n` +
        'users:\n' +
        `- name: ${q(name)}\n` +
        '  user:\n' +
        userEntry(args, configFile, token) +
        'contexts:\n' +
        `- name: ${q(name)}\n` +
        '  context:\n' +
        `    cluster: ${q(name)}\n` +
        `    user: ${q(name)}\n` +
        (args.namespace === undefined ? '' : `    namespace: ${q(args.namespace)}\n`) +
        `current-context: ${q(name)}\n`,
    );
  },
};
