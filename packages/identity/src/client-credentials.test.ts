import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevTokenEndpoint, type DevClient, type TokenEndpoint } from './client-credentials.js';
import { type DevIssuer, loadOrCreateDevIssuer } from './dev-issuer.js';
import { createTokenVerifier } from './token-verifier.js';

const FORM = 'application/x-www-form-urlencoded';
const SECRET = 'correct-horse-battery-staple';
const CLIENT: DevClient = {
  id: 'support-agent',
  secret: SECRET,
  subject: 'agent:support',
  groups: ['agents', 'support'],
  ttlMs: 10 * 60_000,
};

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

let dataDir: string;
let issuer: DevIssuer;
let endpoint: TokenEndpoint;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-client-credentials-'));
  issuer = await loadOrCreateDevIssuer(dataDir);
  endpoint = createDevTokenEndpoint(issuer, [CLIENT, { ...CLIENT, id: 'a b+c', subject: 'odd' }]);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('development token endpoint (client credentials)', () => {
  it('issues a token for the client with HTTP Basic, which the gateway verifier accepts', async () => {
    const answer = await endpoint({
      authorization: basic('support-agent', SECRET),
      contentType: FORM,
      body: 'grant_type=client_credentials',
    });
    expect(answer).toMatchObject({ ok: true, status: 200, body: { token_type: 'Bearer', expires_in: 600 } });
    if (!answer.ok) throw new Error('expected a token');
    const identity = await createTokenVerifier({ providers: [], devIssuer: issuer }).verify(
      answer.body.access_token,
    );
    expect(identity).toMatchObject({ subject: 'agent:support', groups: ['agents', 'support'] });
    const claims = decodeJwt(answer.body.access_token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
  });

  it('accepts the credentials in the body, and form-encoded ids in Basic', async () => {
    const post = await endpoint({
      contentType: `${FORM}; charset=UTF-8`,
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'support-agent',
        client_secret: SECRET,
      }).toString(),
    });
    expect(post.ok).toBe(true);
    const odd = await endpoint({
      authorization: basic('a b+c', SECRET),
      contentType: FORM,
      body: 'grant_type=client_credentials',
    });
    expect(odd.ok && decodeJwt(odd.body.access_token).sub).toBe('odd');
  });

  it.each([
    ['a wrong secret', basic('support-agent', `${SECRET}x`), 'grant_type=client_credentials'],
    ['an unknown client', basic('nobody', SECRET), 'grant_type=client_credentials'],
    ['no credentials', undefined, 'grant_type=client_credentials'],
    ['a malformed Basic header', 'Basic !!!', 'grant_type=client_credentials'],
    ['a Basic header without a colon', `Basic ${Buffer.from('x').toString('base64')}`, 'grant_type=x'],
  ])('refuses %s with 401 invalid_client', async (_what, authorization, body) => {
    const answer = await endpoint({ authorization, contentType: FORM, body });
    expect(answer).toMatchObject({ ok: false, status: 401, body: { error: 'invalid_client' } });
  });

  it('names the configured client it refused, never an unknown id', async () => {
    const wrong = await endpoint({
      authorization: basic('support-agent', 'nope'),
      contentType: FORM,
      body: 'grant_type=client_credentials',
    });
    expect(wrong).toMatchObject({ clientId: 'support-agent' });
    const unknown = await endpoint({
      authorization: basic(SECRET, SECRET),
      contentType: FORM,
      body: 'grant_type=client_credentials',
    });
    expect(unknown).not.toHaveProperty('clientId');
    expect(JSON.stringify(unknown)).not.toContain(SECRET);
  });

  it.each([
    ['another grant type', 'grant_type=password', 'unsupported_grant_type'],
    ['no grant type', '', 'unsupported_grant_type'],
    ['a scope', 'grant_type=client_credentials&scope=admin', 'invalid_scope'],
    [
      'a repeated parameter',
      'grant_type=client_credentials&grant_type=client_credentials',
      'invalid_request',
    ],
    [
      'a client_id that differs from Basic',
      'grant_type=client_credentials&client_id=other',
      'invalid_request',
    ],
    [
      'credentials in both places',
      `grant_type=client_credentials&client_secret=${SECRET}`,
      'invalid_request',
    ],
  ])('refuses %s with 400', async (_what, body, error) => {
    const answer = await endpoint({ authorization: basic('support-agent', SECRET), contentType: FORM, body });
    expect(answer).toMatchObject({ ok: false, status: 400, body: { error } });
  });

  it('refuses a body that is not form-encoded', async () => {
    const answer = await endpoint({
      authorization: basic('support-agent', SECRET),
      contentType: 'application/json',
      body: '{"grant_type":"client_credentials"}',
    });
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('refuses a configuration that names one client twice', () => {
    expect(() => createDevTokenEndpoint(issuer, [CLIENT, CLIENT])).toThrow(/configured twice/);
  });
});
