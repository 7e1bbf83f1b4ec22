import { ConfigError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { certificateHosts } from './gateway-tls.js';
import { DEFAULT_KUBERNETES_OPTIONS, parseKubernetesOptions } from './options.js';

describe('parseKubernetesOptions', () => {
  it('defaults everything', () => {
    expect(parseKubernetesOptions({})).toEqual(DEFAULT_KUBERNETES_OPTIONS);
  });

  it('reads timeouts, limits, TLS files and extra certificate hosts', () => {
    const o = parseKubernetesOptions({
      handshakeTimeout: '2s',
      upstreamTimeoutMs: 1500,
      maxPatchBytes: 1024,
      tls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem', hosts: ['gw.example.com', '10.0.0.5'] },
      allowInsecureUpstream: true,
      outputMaskHold: '20ms',
    });
    expect(o).toMatchObject({
      outputMaskHoldMs: 20,
      handshakeTimeoutMs: 2000,
      upstreamTimeoutMs: 1500,
      maxPatchBytes: 1024,
      tls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem' },
      tlsHosts: ['gw.example.com', '10.0.0.5'],
      allowInsecureUpstream: true,
    });
  });

  it('refuses a malformed tls block instead of quietly generating a certificate', () => {
    expect(() => parseKubernetesOptions({ tls: { cert: '/c.pem' } })).toThrow(ConfigError);
    expect(() => parseKubernetesOptions({ tls: 'yes' })).toThrow(ConfigError);
    expect(() => parseKubernetesOptions({ tls: { hosts: ['bad host'] } })).toThrow(ConfigError);
  });

  it('puts the loopbacks, the listen address and the extras in a generated certificate', () => {
    expect(certificateHosts('0.0.0.0', ['gw.example.com'])).toEqual([
      'localhost',
      '127.0.0.1',
      '::1',
      'gw.example.com',
    ]);
    expect(certificateHosts('10.1.2.3', [])).toEqual(['localhost', '127.0.0.1', '::1', '10.1.2.3']);
  });
});
