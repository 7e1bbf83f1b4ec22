import type { Identity } from '@gatehouse/core';
import { compilePolicy } from '@gatehouse/policy';
import { describe, expect, it } from 'vitest';
import {
  argvOnly,
  execShellCommand,
  requestAttributes,
  secretValuesDecision,
  shellQuote,
} from './request-command.js';
import { parseRequestInfo } from './request-info/index.js';

const identity = (groups: string[]): Identity => ({ subject: 'x', groups, issuer: 'test' });

describe('shellQuote', () => {
  it('quotes only what needs quoting', () => {
    expect(shellQuote(['ls', '-la', '/tmp'])).toBe('ls -la /tmp');
    expect(shellQuote(['sh', '-c', 'rm -rf / ; echo "x"'])).toBe(`sh -c 'rm -rf / ; echo "x"'`);
    expect(shellQuote(['echo', "it's", ''])).toBe(`echo 'it'\\''s' ''`);
    expect(shellQuote(['echo', '$HOME', '*'])).toBe(`echo '$HOME' '*'`);
  });
});

describe('exec commands', () => {
  const info = parseRequestInfo({
    method: 'GET',
    path: '/api/v1/namespaces/prod/pods/web-1/exec',
    query: 'command=rm&command=-rf&command=%2Fdata&container=app&stdout=true&stderr=true',
  });

  it('carry the argv, container and streams in the request attributes', () => {
    expect(requestAttributes(info)).toEqual({
      verb: 'create',
      apiGroup: '',
      apiVersion: 'v1',
      resource: 'pods',
      subresource: 'exec',
      namespace: 'prod',
      name: 'web-1',
      command: ['rm', '-rf', '/data'],
      container: 'app',
      stdout: true,
      stderr: true,
    });
  });

  it('are judged like an SSH exec, so a shell rule on rm denies them', () => {
    const policy = compilePolicy({
      connections: [
        {
          name: 'k',
          policy: { rules: [{ id: 'no-rm', action: 'deny', message: 'no rm', shell: { programs: ['rm'] } }] },
        },
      ],
    });
    const command = execShellCommand(
      ['rm', '-rf', '/data'],
      { namespace: 'prod', pod: 'web-1', container: 'app' },
      argvOnly,
    );
    expect(command).toMatchObject({
      protocol: 'ssh',
      kind: 'exec',
      text: 'rm -rf /data',
      attributes: { channel: 'exec', commands: [['rm', '-rf', '/data']], via: 'kubernetes', pod: 'web-1' },
    });
    expect(policy.decide({ connection: 'k', identity: identity([]), command }).action).toBe('deny');
    const wrapped = execShellCommand(['sudo', 'rm', 'x'], {}, argvOnly);
    expect(policy.decide({ connection: 'k', identity: identity([]), command: wrapped }).action).toBe('deny');
  });

  it('use the shell analysis when one is given', () => {
    const analyze = (text: string) => ({
      commands: [
        ['sh', '-c', 'rm -rf /'],
        ['rm', '-rf', '/'],
      ],
      opaque: false,
      reasons: [],
      text,
    });
    const command = execShellCommand(['sh', '-c', 'rm -rf /'], {}, analyze);
    expect(command.attributes?.['commands']).toEqual([
      ['sh', '-c', 'rm -rf /'],
      ['rm', '-rf', '/'],
    ]);
    expect(command.attributes?.['opaque']).toBeUndefined();
  });
});

describe('secretValuesDecision', () => {
  const read = (path: string) => requestAttributes(parseRequestInfo({ method: 'GET', path, query: '' }));
  const policy = compilePolicy({
    connections: [
      {
        name: 'k',
        policy: {
          defaultAction: 'allow',
          rules: [
            {
              id: 'no-system-secrets',
              action: 'deny',
              kubernetes: { resources: ['secrets'], namespaces: ['kube-system'] },
            },
            { id: 'sre', action: 'allow', groups: ['sre'], kubernetes: { resources: ['secrets/unmasked'] } },
            { id: 'readers', action: 'allow', groups: ['readers'], kubernetes: { resources: ['secrets'] } },
          ],
        },
      },
    ],
  });

  it('reveals only by an explicit allow rule on secrets/unmasked', () => {
    expect(
      secretValuesDecision(policy, 'k', identity(['sre']), read('/api/v1/namespaces/default/secrets/db')),
    ).toEqual({ reveal: true, ruleId: 'sre' });
    // The default action allows the request itself, but never reveals values.
    expect(
      secretValuesDecision(policy, 'k', identity([]), read('/api/v1/namespaces/default/secrets/db')).reveal,
    ).toBe(false);
    // An allow rule on secrets does not reach the pseudo-subresource.
    expect(
      secretValuesDecision(policy, 'k', identity(['readers']), read('/api/v1/namespaces/default/secrets'))
        .reveal,
    ).toBe(false);
    // A deny rule on secrets keeps values masked even for sre (it comes first).
    expect(
      secretValuesDecision(policy, 'k', identity(['sre']), read('/api/v1/namespaces/kube-system/secrets/x'))
        .reveal,
    ).toBe(false);
    expect(secretValuesDecision(policy, 'k', identity(['sre']), read('/api/v1/secrets')).reveal).toBe(false);
  });
});
