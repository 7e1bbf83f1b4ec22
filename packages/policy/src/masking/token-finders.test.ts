import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { Finder } from './finder.js';
import { privateKeyFinder, tokenFinders } from './token-finders.js';

function found(text: string, detector: string): string[] {
  const out: string[] = [];
  const finders: Finder[] = [...tokenFinders, privateKeyFinder];
  for (const f of finders) {
    if (!f.detects.includes(detector)) continue;
    f.find(text, new Set([detector]), (_, s, e) => out.push(text.slice(s, e)));
  }
  return out;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const JWT = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'agent-1', exp: 1 })}.c2lnbmF0dXJl_-x`;
const UNSIGNED = `${b64({ alg: 'none' })}.${b64({ sub: 'x' })}.`;
const GHP = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;
const PAT = `github_pat_11ABCDEFG0123456789_${'x'.repeat(59)}`;
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc=\n-----END RSA PRIVATE KEY-----';

describe('token detectors', () => {
  it.each([
    ['jwt', `Authorization: Bearer ${JWT}`, JWT],
    ['jwt', `token=${UNSIGNED}&x=1`, UNSIGNED],
    ['aws-access-key', 'key AKIAIOSFODNN7EXAMPLE end', 'AKIAIOSFODNN7EXAMPLE'],
    ['aws-access-key', '"ASIAY34FZKBOKMUTVV7A"', 'ASIAY34FZKBOKMUTVV7A'],
    ['github-token', `export GITHUB_TOKEN=${GHP}`, GHP],
    ['github-token', `gho_${'a'.repeat(36)}`, `gho_${'a'.repeat(36)}`],
    ['github-token', `ghs_${'Z'.repeat(36)}`, `ghs_${'Z'.repeat(36)}`],
    ['github-token', `pat ${PAT}`, PAT],
    [
      'slack-token',
      'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
      'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    ],
    ['slack-token', 'SLACK=xoxp-1234567890-abcdef', 'xoxp-1234567890-abcdef'],
    ['stripe-key', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
    ['stripe-key', 'rk_live_51H8abcdefghijkl', 'rk_live_51H8abcdefghijkl'],
    ['private-key', `key:\n${PEM}\nrest`, PEM],
    ['private-key', '-----BEGIN PRIVATE KEY-----\nMIIabc', '-----BEGIN PRIVATE KEY-----\nMIIabc'],
    [
      'private-key',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----',
    ],
  ])('%s finds its value in %j', (detector, text, value) => {
    expect(found(text, detector)).toEqual([value]);
  });

  it.each([
    ['jwt', 'header without alg', `${b64({ foo: 'bar' })}.${b64({ x: 1 })}.sig`],
    ['jwt', 'header not JSON', 'eyJub3QganNvbg.eyJ4IjoxfQ.sig'],
    ['jwt', 'two parts only', `${b64({ alg: 'HS256' })}.${b64({ x: 1 })}`],
    ['aws-access-key', 'too short', 'AKIAIOSFODNN7EXAMPL'],
    ['aws-access-key', 'too long', 'AKIAIOSFODNN7EXAMPLEX'],
    ['aws-access-key', 'lower case', 'akiaiosfodnn7example'],
    ['github-token', 'too short', 'ghp_abc123'],
    ['github-token', 'unknown prefix', `ghx_${'a'.repeat(36)}`],
    ['slack-token', 'word', 'xoxo-hugs'],
    ['slack-token', 'too short', 'xoxb-12345'],
    ['stripe-key', 'publishable key', 'pk_live_4eC39HqLyjWDarjtT1zdp7dc'],
    ['stripe-key', 'too short', 'sk_live_abc'],
    ['private-key', 'public key', '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----'],
    ['private-key', 'certificate', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
  ])('%s ignores %s', (detector, _, text) => {
    expect(found(text, detector)).toEqual([]);
  });

  it('finds two private keys separately and keeps the text between them', () => {
    const text = `${PEM}\nbetween\n${PEM}`;
    expect(found(text, 'private-key')).toEqual([PEM, PEM]);
  });
});
