import type { Command } from '@gatehouse/core';
import { parseRequestInfo, toKubernetesAttributes } from '@gatehouse/kubernetes';
import { httpRequest, kubernetesRequest, postgresQuery, sshCommand } from '@gatehouse/policy';
import { analyzeSql, initSqlAnalyzer } from '@gatehouse/postgres';
import { parseShellCommand } from '@gatehouse/ssh';
import { CliError, ExitCode } from '../exit-codes.js';
import { kubectlRequest } from './kubectl-request.js';

/** A command the gateway refuses before policy sees it (it cannot be parsed, so it cannot be judged). */
export class UnjudgeableCommand extends Error {}

export type CommandKind = 'sql' | 'shell' | 'k8s' | 'http';

export const PROTOCOL_OF: Record<CommandKind, string> = {
  sql: 'postgres',
  shell: 'ssh',
  k8s: 'kubernetes',
  http: 'http',
};

/**
 * Builds the Command a protocol module would build for this input, with the same analysers: the
 * PostgreSQL parser, the shell parser, the Kubernetes request-info classifier.
 */
export async function buildCommand(kind: CommandKind, text: string): Promise<Command> {
  switch (kind) {
    case 'sql': {
      await initSqlAnalyzer();
      const analysis = analyzeSql(text);
      if (!analysis.ok) {
        throw new UnjudgeableCommand(`the PostgreSQL parser refused the statement: ${analysis.error}`);
      }
      return postgresQuery(analysis.redactedText, [...analysis.statements]);
    }
    case 'shell': {
      const parsed = parseShellCommand(text);
      return sshCommand('exec', text, {
        channel: 'exec',
        commands: parsed.commands.map((argv) => [...argv]),
      });
    }
    case 'k8s': {
      let request: ReturnType<typeof kubectlRequest>;
      try {
        request = kubectlRequest(text);
      } catch (err) {
        throw new CliError((err as Error).message, ExitCode.Usage);
      }
      let info: ReturnType<typeof parseRequestInfo>;
      try {
        info = parseRequestInfo({ method: request.method, path: request.path, query: request.query });
      } catch (err) {
        throw new CliError(`the gateway refuses this request: ${(err as Error).message}`, ExitCode.Usage);
      }
      const query = request.query === '' ? '' : `?${request.query}`;
      return kubernetesRequest(`${request.method} ${request.path}${query}`, toKubernetesAttributes(info));
    }
    case 'http': {
      const match = /^([A-Za-z]+)\s+(\/\S*)$/.exec(text.trim());
      if (!match)
        throw new CliError('--http takes "METHOD /path", e.g. "DELETE /v1/users/7"', ExitCode.Usage);
      const method = (match[1] as string).toUpperCase();
      const path = (match[2] as string).split('?')[0] as string;
      return httpRequest(`${method} ${match[2]}`, { method, path, headers: [] });
    }
  }
}
