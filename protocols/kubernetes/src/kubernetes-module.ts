import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import {
  type ConnectionContext,
  type GatewayError,
  type ProtocolModule,
  toGatewayError,
} from '@gatehouse/core';
import { parseShellCommand } from '@gatehouse/ssh';
import { GatewayTls } from './gateway-tls.js';
import { KubeConnection } from './kube-connection.js';
import { type KubernetesOptions, parseKubernetesOptions } from './options.js';
import { rejectOverTls } from './reject.js';
import type { ShellAnalyzer } from './request-command.js';
import { type KubeUpstream, loadUpstream, parseUpstreamSettings } from './upstream.js';

export interface KubernetesModuleOptions {
  /**
   * Finds the simple commands of a shell command line, for judging `kubectl exec` argv like an SSH
   * exec. Default: the SSH module's `parseShellCommand`, so both protocols read commands alike.
   */
  readonly analyzeShell?: ShellAnalyzer;
}

/**
 * The Kubernetes API module: an HTTPS endpoint for kubectl and any Kubernetes client, with the
 * caller's bearer JWT as identity, every request classified as the API server does and judged by
 * policy, the gateway's own cluster credentials upstream, Secret values masked, exec streams
 * recorded. Each instance keeps its own caches (kubeconfigs, TLS contexts); nothing is global.
 */
export function createKubernetesModule(moduleOptions: KubernetesModuleOptions = {}): ProtocolModule {
  const tls = new GatewayTls();
  const upstreams = new Map<string, { key: string; upstream: KubeUpstream }>();
  let lastContext: SecureContext | undefined;

  const upstreamFor = (ctx: ConnectionContext, options: KubernetesOptions): KubeUpstream => {
    const settings = parseUpstreamSettings(ctx.connection.upstream);
    const key = `${settings.kubeconfig}\n${settings.context ?? ''}\n${options.allowInsecureUpstream}`;
    const cached = upstreams.get(ctx.connection.name);
    if (cached !== undefined && cached.key === key) return cached.upstream;
    const upstream = loadUpstream(settings, { allowInsecure: options.allowInsecureUpstream });
    upstreams.set(ctx.connection.name, { key, upstream });
    return upstream;
  };

  return {
    name: 'kubernetes',

    async handleConnection(socket: Socket, ctx: ConnectionContext, signal: AbortSignal): Promise<void> {
      // The ClientHello must wait for the TLS layer: loading a certificate takes a few turns.
      socket.pause();
      let options: KubernetesOptions;
      let upstream: KubeUpstream;
      let secureContext: SecureContext;
      try {
        options = parseKubernetesOptions(ctx.connection.options);
        upstream = upstreamFor(ctx, options);
        secureContext = await tls.context({
          options,
          dataDir: ctx.dataDir,
          connection: ctx.connection.name,
          listenHost: ctx.connection.listen.host,
        });
      } catch (err) {
        // Without a certificate there is no way to answer in the protocol: the client sees a reset.
        socket.destroy();
        throw toGatewayError(err);
      }
      lastContext = secureContext;
      await new KubeConnection(socket, ctx, signal, {
        upstream,
        secureContext,
        options,
        analyzeShell: moduleOptions.analyzeShell ?? parseShellCommand,
      }).run();
    },

    async rejectConnection(socket: Socket, error: GatewayError): Promise<void> {
      // Kubernetes clients speak TLS first; a Status can be sent only once a certificate is known.
      if (lastContext === undefined) {
        socket.destroy();
        return;
      }
      await rejectOverTls(socket, lastContext, error);
    },
  };
}

/** The module as the gateway serves it. */
export const kubernetesModule: ProtocolModule = createKubernetesModule();
