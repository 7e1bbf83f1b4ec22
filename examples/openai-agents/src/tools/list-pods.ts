import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { tool } from '@openai/agents';
import { z } from 'zod';
import type { KubernetesEndpoint } from '../settings.js';
import type { TokenProvider } from '../token-provider.js';
import { clip, errorText, refusalKind } from '../tool-output.js';

/**
 * `list_pods`: @kubernetes/client-node with a kubeconfig whose server is the gateway and whose
 * user token is the Gatehouse token. The kubeconfig is built per call, so each request carries a
 * token that is valid now. The gateway replaces the token with its own cluster credentials.
 */
export function listPodsTool(endpoint: KubernetesEndpoint, tokens: TokenProvider, caPem: string | undefined) {
  return tool({
    name: 'list_pods',
    description:
      'List the pods of a Kubernetes namespace through the Gatehouse gateway: name, phase, readiness, restarts, images.',
    parameters: z.object({
      namespace: z
        .string()
        .nullable()
        .describe(`The namespace; null for the default (${endpoint.namespace})`),
    }),
    execute: async ({ namespace }) => {
      const ns = namespace ?? endpoint.namespace;
      try {
        const api = kubeConfig(endpoint, await tokens.token(), caPem, ns).makeApiClient(CoreV1Api);
        const list = await api.listNamespacedPod({ namespace: ns, limit: 500 });
        if (list.items.length === 0) return `No pods in namespace ${ns}.`;
        return clip(list.items.map((pod) => JSON.stringify(summary(pod))).join('\n'));
      } catch (err) {
        return formatError(err);
      }
    },
  });
}

function kubeConfig(
  endpoint: KubernetesEndpoint,
  token: string,
  caPem: string | undefined,
  namespace: string,
): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'gatehouse',
        server: endpoint.server,
        skipTLSVerify: false,
        ...(caPem === undefined ? {} : { caData: Buffer.from(caPem).toString('base64') }),
      },
    ],
    users: [{ name: 'agent', token }],
    contexts: [{ name: 'gatehouse', cluster: 'gatehouse', user: 'agent', namespace }],
    currentContext: 'gatehouse',
  });
  return kc;
}

function summary(pod: V1Pod) {
  const statuses = pod.status?.containerStatuses ?? [];
  return {
    name: pod.metadata?.name,
    namespace: pod.metadata?.namespace,
    phase: pod.status?.phase,
    ready: `${statuses.filter((s) => s.ready).length}/${pod.spec?.containers.length ?? statuses.length}`,
    restarts: statuses.reduce((n, s) => n + s.restartCount, 0),
    node: pod.spec?.nodeName,
    images: (pod.spec?.containers ?? []).map((c) => c.image),
  };
}

function formatError(err: unknown): string {
  if (err instanceof ApiException) {
    const message = statusMessage(err.body) ?? `HTTP ${err.code}`;
    const kind = refusalKind(message);
    return kind === undefined
      ? `The Kubernetes API answered ${err.code}: ${message}`
      : `The request was not run: ${kind} (HTTP ${err.code}): ${message}`;
  }
  return `The request could not be sent through Gatehouse: ${errorText(err)}`;
}

/** The `message` of a Kubernetes `Status` body, which the gateway also uses for its refusals. */
function statusMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body === '' ? undefined : body;
    }
  }
  const message = (parsed as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}
