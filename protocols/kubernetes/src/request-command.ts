/**
 * The commands policy judges for one Kubernetes request:
 *
 * 1. always the request itself — `kubernetesRequest(text, attributes)` with the API server's own
 *    classification (verb, group, resource, subresource, namespace, name); dry runs and watches
 *    carry the verb of what they would do, plus `dryRun`/`watch` facts, and exec requests carry
 *    the argv, container and stream flags for the log;
 * 2. for `pods/exec`, also the command that will run in the container, judged as an SSH exec is:
 *    `protocol: 'ssh', kind: 'exec'`, channel `exec`, `commands` from shell parsing of the argv
 *    (so `sh -c 'rm -rf /'` yields `rm -rf /`). A `shell` rule on `rm` thus denies
 *    `kubectl exec pod -- rm -rf /` exactly as it denies `ssh host rm -rf /`.
 */
import type { Command, Decision, Identity, PolicyEngine } from '@gatehouse/core';
import { type KubernetesRequestAttributes, kubernetesRequest, sshCommand } from '@gatehouse/policy';
import type { RequestInfo } from './request-info/index.js';
import { toKubernetesAttributes } from './request-info/index.js';

/** What the shell parser tells about a command line (the SSH module's `parseShellCommand` shape). */
export interface ShellAnalysis {
  readonly commands: readonly (readonly string[])[];
  readonly opaque: boolean;
  readonly reasons: readonly string[];
}

export type ShellAnalyzer = (text: string, options?: { readonly interactive?: boolean }) => ShellAnalysis;

/**
 * Without a shell parser the argv is one simple command, as the container runtime executes it (no
 * shell is involved in an exec); `sh -c '…'` payloads are then judged only by `pattern` rules, so
 * the result says it is opaque.
 */
export const argvOnly: ShellAnalyzer = (text) => ({
  commands: [],
  opaque: true,
  reasons: [`no shell parser configured; judged as one command: ${text.slice(0, 80)}`],
});

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX-shell quoting: the parser reads back exactly this argv as one simple command. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (a !== '' && SAFE_WORD.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

export type RequestAttributes = KubernetesRequestAttributes & Readonly<Record<string, unknown>>;

export function requestAttributes(
  info: RequestInfo,
  extra: Readonly<Record<string, unknown>> = {},
): RequestAttributes {
  const base: Record<string, unknown> = { ...toKubernetesAttributes(info) };
  if (info.isResourceRequest) {
    if (info.dryRun) base['dryRun'] = true;
    if (info.execCommand !== undefined) base['command'] = [...info.execCommand];
    if (info.container !== undefined) base['container'] = info.container;
    for (const key of ['stdin', 'stdout', 'stderr', 'tty', 'follow'] as const) {
      if (info[key] === true) base[key] = true;
    }
    if (info.ports !== undefined) base['ports'] = [...info.ports];
    if (info.labelSelector !== undefined) base['labelSelector'] = info.labelSelector;
    if (info.fieldSelector !== undefined) base['fieldSelector'] = info.fieldSelector;
  }
  return { ...base, ...extra } as RequestAttributes;
}

export function requestCommand(text: string, attributes: RequestAttributes): Command {
  return kubernetesRequest(text, attributes);
}

/** The SSH-exec view of `kubectl exec … -- argv`. */
export function execShellCommand(
  argv: readonly string[],
  where: { namespace?: string | undefined; pod?: string | undefined; container?: string | undefined },
  analyze: ShellAnalyzer,
  options: { readonly interactive?: boolean } = {},
): Command {
  const text = shellQuote(argv);
  const parsed = analyze(text, options);
  const commands = parsed.commands.length > 0 ? parsed.commands.map((c) => [...c]) : [[...argv]];
  const base = sshCommand('exec', text, { channel: 'exec', commands });
  return {
    ...base,
    attributes: {
      ...base.attributes,
      via: 'kubernetes',
      ...(where.namespace === undefined ? {} : { namespace: where.namespace }),
      ...(where.pod === undefined ? {} : { pod: where.pod }),
      ...(where.container === undefined ? {} : { container: where.container }),
      ...(parsed.opaque ? { opaque: true, opaqueReasons: [...parsed.reasons] } : {}),
    },
  };
}

/** A decision made by a rule that names what it allows, not by the default action. */
export function explicitlyAllowed(decision: Decision): boolean {
  return (
    decision.action === 'allow' && decision.ruleId !== undefined && !decision.ruleId.startsWith('builtin:')
  );
}

/**
 * Whether Secret values in this request's response may be shown: only when a rule explicitly allows
 * the pseudo-subresource `secrets/unmasked` for the same verb, namespace and name. The default
 * action never grants it, an allow rule on `secrets` does not cover it (allow rules do not reach
 * subresources), and a deny or review rule on `secrets` (or this namespace) keeps values masked.
 */
export function secretValuesDecision(
  policy: PolicyEngine,
  connection: string,
  identity: Identity,
  attributes: KubernetesRequestAttributes,
): { readonly reveal: boolean; readonly ruleId?: string | undefined } {
  const probe: KubernetesRequestAttributes = {
    verb: attributes.verb,
    apiGroup: '',
    apiVersion: attributes.apiVersion,
    resource: 'secrets',
    subresource: 'unmasked',
    ...(attributes.namespace === undefined ? {} : { namespace: attributes.namespace }),
    ...(attributes.name === undefined ? {} : { name: attributes.name }),
  };
  const decision = policy.decide({
    connection,
    identity,
    command: kubernetesRequest('reveal Secret values', probe),
  });
  return explicitlyAllowed(decision) ? { reveal: true, ruleId: decision.ruleId } : { reveal: false };
}

/** Whether the response can carry Secret objects: requests on the core group's `secrets`. */
export function carriesSecrets(info: RequestInfo): boolean {
  return (
    info.isResourceRequest &&
    info.apiGroup === '' &&
    info.resource === 'secrets' &&
    info.subresource === undefined
  );
}

/** Port forwarding opens a network path into the cluster: it needs an explicit allow rule. */
export function needsExplicitAllow(info: RequestInfo): string | undefined {
  if (
    info.isResourceRequest &&
    info.apiGroup === '' &&
    info.resource === 'pods' &&
    info.subresource === 'portforward'
  ) {
    return 'port forwarding is denied unless a rule allows pods/portforward explicitly';
  }
  return undefined;
}

const POD_STREAMS = new Set(['exec', 'attach', 'portforward']);

/** exec, attach and portforward of a core-group pod: served over an upgraded connection only. */
export function isPodStream(info: RequestInfo): boolean {
  return (
    info.isResourceRequest &&
    info.apiGroup === '' &&
    info.resource === 'pods' &&
    POD_STREAMS.has(info.subresource ?? '')
  );
}
