/**
 * Kubernetes upstream faults with real kubectl through a gateway started from a config file (SQLite
 * session log): the API server dies under `kubectl get pods --watch`, is not there at all, drops
 * every connection, and refuses the gateway's credentials. kubectl gets an error it prints, the
 * failure is in the session log, the gateway does not retry behind the client's back, and it serves
 * the next client once the API server is back.
 */
import type { StoredEvent } from '@gatehouse/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeBed, startKubeBed } from '../fixtures/kube-apiserver/gateway-bed.js';
import { KubeApiServer } from '../fixtures/kube-apiserver/index.js';
import { waitUntil } from './support.js';
import { startCountingUpstream } from './upstream-counter.js';

let bed: KubeBed;
let api: KubeApiServer;
let agent: string;
let upstreamPort: number;

const POLICY = `      defaultAction: allow
      rules: []
`;

function pod(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'web', image: 'nginx' }] },
  };
}

beforeAll(async () => {
  bed = await startKubeBed({ policy: POLICY });
  api = bed.api;
  upstreamPort = api.port;
  agent = await bed.kubeconfigFor('agent-1', ['agents']);
  api.create(pod('web-1'));
}, 120_000);

afterAll(async () => {
  await bed?.close();
  await api?.close();
});

/** Starts the API server again where the gateway expects it, with the same certificate. */
async function restartApi(token = bed.api.token): Promise<void> {
  api = await KubeApiServer.start({ port: upstreamPort, tls: bed.api.tls, token });
  api.create(pod('web-1'));
}

const lastSeq = (): number => bed.events('session.start').at(-1)?.seq ?? 0;

/** Events of the given type in the sessions that started after `since`. */
function after(since: number, type: string): StoredEvent[] {
  const sessions = new Set(
    bed
      .events('session.start')
      .filter((e) => e.seq > since)
      .map((e) => e.sessionId),
  );
  return bed.events(type).filter((e) => sessions.has(e.sessionId));
}

async function servesNext(): Promise<void> {
  const r = await bed.kubectlAs(agent, ['get', 'pods']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('web-1');
}

describe('API server dies under a watch', () => {
  it('kubectl get pods --watch stops with an error, the cut stream is logged, the next client is served', async () => {
    const since = lastSeq();
    let out = '';
    const watching = bed.kubectlAs(agent, ['get', 'pods', '--watch'], {
      timeoutMs: 30_000,
      onStdout: (t) => {
        out += t;
      },
    });
    await waitUntil('the watch to be open', () =>
      api.seen.some((s) => /\/pods\?.*watch=true/.test(s.url)) && out.includes('web-1') ? true : undefined,
    );
    // An event arrives through the watch, so the stream is under way when the server dies.
    api.create(pod('web-2'));
    await waitUntil('the watch event', () => (out.includes('web-2') ? true : undefined));
    await api.kill();
    const r = await watching;
    // The stream ends with the ERROR event an API server sends for a failed watch; kubectl prints
    // its Status as a row and exits by itself (kubectl treats a watch's end as the end of `get -w`;
    // a cut connection alone would have ended it without a word). Informers relist on it.
    expect(r.code).not.toBeNull();
    expect(r.stdout).toMatch(
      /Failure\s+BadGateway\s+the cluster closed the connection in the middle of the watch/,
    );

    const watchResult = await waitUntil('the watch result', () =>
      after(since, 'result').find((e) => JSON.stringify(e.data).includes('in the middle of the watch')),
    );
    expect(JSON.stringify(watchResult.data)).toContain('upstream_error');
    const ended = await waitUntil('the session to end', () =>
      after(since, 'session.end').find((e) => e.sessionId === watchResult.sessionId),
    );
    expect(ended.data['reason']).toBe('client-closed');
    await restartApi();
    await servesNext();
  });
});

describe('API server unreachable or refusing', () => {
  it('nothing listening: kubectl fails, the Status and the log say the cluster refused the connection', async () => {
    await api.kill();
    try {
      const since = lastSeq();
      const r = await bed.kubectlAs(agent, ['get', 'pods']);
      expect(r.code).toBe(1);
      const raw = await bed.kubectlAs(agent, ['get', '--raw', '/api/v1/namespaces/default/pods']);
      expect(raw.code).toBe(1);
      expect(raw.stderr).toContain('Error from server (BadGateway): the cluster refused the connection');
      const results = after(since, 'result').map((e) => e.data['error']);
      expect(results.length).toBeGreaterThan(0);
      for (const e of results) {
        expect(e).toEqual({ code: 'upstream_error', message: 'the cluster refused the connection' });
      }
      await waitUntil('the sessions to end', () =>
        after(since, 'session.end').length >= 2 ? true : undefined,
      );
    } finally {
      await restartApi();
    }
    await servesNext();
  });

  it('an API server that drops every connection: one upstream attempt per request, a clear error', async () => {
    await api.kill();
    const counting = await startCountingUpstream(upstreamPort);
    try {
      const since = lastSeq();
      const attempts = 3;
      for (let i = 0; i < attempts; i++) {
        const raw = await bed.kubectlAs(agent, ['get', '--raw', '/api/v1/namespaces/default/pods']);
        expect(raw.code).toBe(1);
        expect(raw.stderr).toMatch(
          /Error from server \(BadGateway\): the cluster closed the connection before answering|the request to the cluster failed/,
        );
      }
      // Give a retry loop time to show itself before counting.
      await new Promise((r) => setTimeout(r, 500));
      // kubectl itself asks more than once (the dispatcher's /version, discovery); every request the
      // gateway took cost the upstream at most one connection.
      const forwarded = after(since, 'command').length;
      expect(forwarded).toBeGreaterThanOrEqual(attempts);
      expect(counting.accepted()).toBeGreaterThanOrEqual(1);
      expect(counting.accepted()).toBeLessThanOrEqual(forwarded);
      for (const e of after(since, 'result'))
        expect(e.data['error']).toMatchObject({ code: 'upstream_error' });
    } finally {
      await counting.close();
      await restartApi();
    }
    await servesNext();
  });

  it("an API server that refuses the gateway's token: kubectl is told so, once per request", async () => {
    await api.kill();
    await restartApi('a-token-the-gateway-does-not-have');
    try {
      const since = lastSeq();
      const seenBefore = api.seen.length;
      const r = await bed.kubectlAs(agent, ['get', 'pods']);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain('You must be logged in');
      const raw = await bed.kubectlAs(agent, ['get', '--raw', '/api/v1/namespaces/default/pods']);
      expect(raw.code).toBe(1);
      expect(raw.stderr).toContain(
        "Error from server (BadGateway): the cluster refused the gateway's credentials",
      );
      await new Promise((r2) => setTimeout(r2, 500));
      // No retry behind kubectl's back: the cluster saw no more requests than kubectl sent.
      expect(api.seen.length - seenBefore).toBeLessThanOrEqual(after(since, 'command').length);
      const refusedResults = after(since, 'result').filter((e) => e.data['summary'] === '502');
      expect(refusedResults.length).toBeGreaterThan(0);
      for (const e of refusedResults) {
        expect(String((e.data['error'] as { message?: string }).message)).toContain(
          "the cluster refused the gateway's credentials",
        );
      }
      // The gateway's upstream token is in no event.
      expect(JSON.stringify(bed.events('result'))).not.toContain(bed.api.token);
    } finally {
      await api.kill();
      await restartApi();
    }
    await servesNext();
  });
});
