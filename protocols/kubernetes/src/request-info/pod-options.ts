/**
 * What a pod's exec, attach, port-forward or log request will do, read from its query the way the
 * API server decodes `PodExecOptions`, `PodAttachOptions`, `PodPortForwardOptions` and
 * `PodLogOptions`. This lets the module judge `kubectl exec … -- sh -c id` as it judges an SSH
 * exec, instead of seeing only "create pods/exec".
 *
 * Pure: throws only ProtocolError.
 */
import { ProtocolError } from '@gatehouse/core';
import { type QueryParams, readBoolean } from './query-params.js';

export interface PodStreamOptions {
  /** exec: the argv, in order (`command=sh&command=-c&command=id`); empty when none was given. */
  readonly execCommand?: readonly string[];
  /** exec, attach, log: the container; absent means the pod's default container. */
  readonly container?: string;
  /** exec, attach: which streams the client asked for. */
  readonly stdin?: boolean;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
  readonly tty?: boolean;
  /** portforward: ports from the query (WebSocket clients); SPDY clients send them per stream instead. */
  readonly ports?: readonly number[];
  /** log: stream until the container ends. */
  readonly follow?: boolean;
}

/** `ports=80,443&ports=8080`, each a decimal 1–65535, as `Convert_Slice_string_To_Slice_int32` splits them. */
function readPorts(values: readonly string[]): number[] {
  const ports: number[] = [];
  for (const value of values) {
    for (const piece of value.split(',')) {
      const port = /^[0-9]{1,5}$/.test(piece) ? Number(piece) : Number.NaN;
      if (!(port >= 1 && port <= 65535)) {
        throw new ProtocolError('kubernetes request query refused: "ports" is not a list of ports 1-65535', {
          details: { reason: 'invalid ports' },
        });
      }
      ports.push(port);
    }
  }
  return ports;
}

function streams(params: QueryParams) {
  return {
    stdin: readBoolean(params, 'stdin') ?? false,
    stdout: readBoolean(params, 'stdout') ?? false,
    stderr: readBoolean(params, 'stderr') ?? false,
    tty: readBoolean(params, 'tty') ?? false,
  };
}

function withContainer<T extends object>(params: QueryParams, options: T): T & { container?: string } {
  const container = params.single('container');
  return container === undefined ? options : { ...options, container };
}

/** Options of a core-group pod subresource; undefined for subresources that carry none of these. */
export function readPodOptions(subresource: string, params: QueryParams): PodStreamOptions | undefined {
  switch (subresource) {
    case 'exec':
      return withContainer(params, { execCommand: [...params.all('command')], ...streams(params) });
    case 'attach':
      return withContainer(params, streams(params));
    case 'portforward': {
      const values = params.all('ports');
      return values.length === 0 ? {} : { ports: readPorts(values) };
    }
    case 'log':
      return withContainer(params, { follow: readBoolean(params, 'follow') ?? false });
    default:
      return undefined;
  }
}
