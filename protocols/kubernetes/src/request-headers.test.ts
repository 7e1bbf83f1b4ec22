import { describe, expect, it } from 'vitest';
import { clientHeadersForUpstream, readableAccept } from './request-headers.js';

describe('clientHeadersForUpstream', () => {
  it('drops every impersonation and request-header authentication field, whatever the case', () => {
    const raw = [
      'Impersonate-User',
      'admin',
      'impersonate-group',
      'system:masters',
      'Impersonate-Uid',
      '1',
      'Impersonate-Extra-Scopes',
      'x',
      'X-Remote-User',
      'admin',
      'x-remote-group',
      'system:masters',
      'X-Remote-Extra-Foo',
      'y',
      'User-Agent',
      'kubectl/v1.33.1',
      'Accept',
      'application/vnd.kubernetes.protobuf',
    ];
    const out = clientHeadersForUpstream(raw, 'application/json');
    expect(out.rawHeaders).toEqual(['User-Agent', 'kubectl/v1.33.1', 'Accept', 'application/json']);
    expect(out.removed.sort()).toEqual([
      'impersonate-extra-scopes',
      'impersonate-group',
      'impersonate-uid',
      'impersonate-user',
      'x-remote-extra-foo',
      'x-remote-group',
      'x-remote-user',
    ]);
  });
});

describe('readableAccept', () => {
  it.each([
    [undefined, '*/*'],
    ['application/json', 'application/json'],
    ['application/vnd.kubernetes.protobuf,application/json', 'application/json'],
    [
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
    ],
    ['application/yaml, */*', '*/*'],
    ['application/cbor', undefined],
    ['application/vnd.kubernetes.protobuf;stream=watch', undefined],
  ])('%s → %s', (given, expected) => {
    expect(readableAccept(given)).toBe(expected);
  });
});
