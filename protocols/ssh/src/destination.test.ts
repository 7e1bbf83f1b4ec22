import { describe, expect, it } from 'vitest';
import { canonicalHost, inetAton } from './destination.js';

describe('canonicalHost', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.000.000.001', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['169.254.43518', '169.254.169.254'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:7f00:1', '127.0.0.1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['DB.Internal', 'db.internal'],
    ['db.internal.', 'db.internal'],
    ['localhost', 'localhost'],
    ['my_host-1.example.com', 'my_host-1.example.com'],
  ])('%j is judged and forwarded as %j', (input, host) => {
    expect(canonicalHost(input)).toEqual({ ok: true, host });
  });

  it.each([
    '',
    'evil.com\u0000.internal',
    'db.internal\n',
    'a b',
    'host/../x',
    '256.1.1.1',
    '1.2.3.4.5',
    '0x1g',
    '-flag',
    'fe80::1%eth0\u001b',
    'x'.repeat(300),
  ])('refuses %j', (input) => {
    expect(canonicalHost(input).ok).toBe(false);
  });
});

describe('inetAton', () => {
  it('reads the forms glibc reads and nothing else', () => {
    expect(inetAton('10')).toBe('0.0.0.10');
    expect(inetAton('10.1')).toBe('10.0.0.1');
    expect(inetAton('10.0.1')).toBe('10.0.0.1');
    expect(inetAton('4294967295')).toBe('255.255.255.255');
    expect(inetAton('4294967296')).toBeUndefined();
    expect(inetAton('1.16777216')).toBeUndefined();
    expect(inetAton('08.1.1.1')).toBeUndefined();
    expect(inetAton('1..1')).toBeUndefined();
  });
});
