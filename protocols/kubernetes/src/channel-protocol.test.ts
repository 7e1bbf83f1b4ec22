import { describe, expect, it } from 'vitest';
import { EXEC_PROTOCOLS, parseExitStatus, relayedProtocols, splitChannel } from './channel-protocol.js';

describe('channel protocol', () => {
  it('splits the channel byte off', () => {
    expect(splitChannel(Buffer.from([1, 104, 105]))).toEqual({ channel: 1, payload: Buffer.from('hi') });
    expect(splitChannel(Buffer.alloc(0))).toBeUndefined();
  });

  it('reads exit codes from the status channel', () => {
    expect(parseExitStatus(Buffer.from('{"metadata":{},"status":"Success"}'))).toMatchObject({
      exitCode: 0,
      status: 'Success',
    });
    const failed = parseExitStatus(
      Buffer.from(
        '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"42"}]}}',
      ),
    );
    expect(failed).toMatchObject({ exitCode: 42, status: 'Failure', reason: 'NonZeroExitCode' });
    expect(
      parseExitStatus(
        Buffer.from('{"status":"Failure","message":"no such container","reason":"InternalError"}'),
      ),
    ).toMatchObject({
      exitCode: undefined,
      status: 'Failure',
      message: 'no such container',
    });
    expect(parseExitStatus(Buffer.from('not json')).status).toBe('unknown');
  });

  it('offers upstream only the subprotocols the gateway decodes, in the client order', () => {
    expect(
      relayedProtocols(
        'v5.channel.k8s.io, v4.channel.k8s.io, v4.base64.channel.k8s.io, channel.k8s.io',
        EXEC_PROTOCOLS,
      ),
    ).toEqual(['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(relayedProtocols('base64.channel.k8s.io', EXEC_PROTOCOLS)).toEqual([]);
    expect(relayedProtocols(undefined, EXEC_PROTOCOLS)).toEqual([]);
  });
});
