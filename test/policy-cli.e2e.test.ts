/**
 * `gatehouse policy test`: rules checked without starting the gateway, with the same analysers the
 * protocol modules use, through the real CLI.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';

let config: string;

beforeAll(() => {
  config = join(tempDir(), 'policy.yaml');
  writeFileSync(
    config,
    `identity:
  devIssuer: { enabled: true }
admin: { enabled: false }
policies:
  guard:
    rules:
      - { id: no-drop, action: deny, message: DROP is not allowed, sql: { kinds: [drop, truncate] } }
      - { id: delete-review, action: review, message: needs approval, sql: { kinds: [delete], where: absent } }
      - { id: no-rm, action: deny, message: no rm, shell: { programs: [rm] } }
      - id: protect-kube-system
        action: deny
        message: kube-system is protected
        kubernetes: { verbs: [delete, deletecollection], namespaces: [kube-system] }
      - { id: dbas-may, action: allow, groups: [dba], sql: { kinds: [truncate] } }
      - { id: no-user-deletes, action: deny, message: users are forever, http: { methods: [DELETE], paths: ["/v1/users/*"] } }
connections:
  - { name: db, protocol: postgres, listen: 15432, upstream: { host: 127.0.0.1, user: app }, policy: { use: [guard] } }
  - name: host
    protocol: ssh
    listen: 2222
    upstream: { host: 127.0.0.1, hostKey: "SHA256:BVNDMdvXw2ADIjwE02aWQ8u4GB1o07gTcekDrVKc5z0" }
    policy: { use: [guard] }
  - { name: kube, protocol: kubernetes, listen: 6443, upstream: { kubeconfig: ${config} }, policy: { use: [guard] } }
  - { name: api, protocol: http, listen: 18080, upstream: { url: "http://127.0.0.1:1" }, policy: { use: [guard] } }
`,
  );
});

const judge = (...args: string[]) =>
  runCli(['policy', 'test', '--config', config, '--as', 'agent-1', '--groups', 'agents', ...args]);

describe('gatehouse policy test', () => {
  it.each([
    [['--sql', 'SELECT 1; DROP TABLE users'], /^DENY {2}deny by rule no-drop: DROP is not allowed/],
    [['--sql', 'DELETE FROM users'], /^REVIEW {2}review by rule delete-review: needs approval/],
    [['--sql', 'WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d'], /^REVIEW .*delete-review/],
    [['--sql', 'DELETE FROM users WHERE id = 7'], /^ALLOW /],
    [['--sql', 'select from where'], /^DENY {2}refused before policy: the PostgreSQL parser refused/],
    [['--shell', `sh -c 'r""m -rf /tmp/x'`], /^DENY {2}deny by rule no-rm/],
    [['--shell', 'ls -la | grep x'], /^ALLOW /],
    [
      ['--k8s', 'delete pods -n kube-system'],
      /^DENY {2}deny by rule protect-kube-system: kube-system is protected/,
    ],
    [['--k8s', 'DELETE /api/v1/namespaces/kube-system/pods/coredns-1'], /^DENY .*protect-kube-system/],
    [['--k8s', 'get pods -n kube-system'], /^ALLOW /],
    [['--http', 'DELETE /v1/users/7'], /^DENY {2}deny by rule no-user-deletes: users are forever/],
    [['--http', 'GET /v1/users/7'], /^ALLOW /],
  ])('%j', async (args, expected) => {
    const result = await judge(...args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(expected);
  });

  it('first match decides: a later allow for dba does not override an earlier deny', async () => {
    const asDba = await runCli([
      'policy',
      'test',
      '--config',
      config,
      '--as',
      'ops',
      '--groups',
      'dba',
      '--sql',
      'TRUNCATE audit',
    ]);
    expect(asDba.stdout).toMatch(/^DENY .*no-drop/);
  });

  it('--expect turns a mismatch into exit 1 and --json gives the decision to scripts', async () => {
    const mismatch = await judge('--sql', 'DROP TABLE users', '--expect', 'allow');
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain('expected allow, got deny');
    const json = await judge('--sql', 'DROP TABLE users', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      connection: 'db',
      decision: { action: 'deny', ruleId: 'no-drop' },
    });
  });

  it('refuses ambiguous input with exit 2', async () => {
    expect((await judge('--sql', 'select 1', '--http', 'GET /')).code).toBe(2);
    expect((await judge()).code).toBe(2);
  });
});
