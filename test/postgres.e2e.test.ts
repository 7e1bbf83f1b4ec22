/**
 * The PostgreSQL module end to end: real clients (psql, node-postgres, pgbench) through a real
 * gateway to a real PostgreSQL 15 server. Policy, approvals, masking and the session log are the
 * gateway's own; only the cluster is made for the test (fixtures/postgres.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { StoredEvent } from '@gatehouse/core';
import { MemorySessionLog } from '@gatehouse/session-log';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_PASSWORD,
  APP_USER,
  type PgCluster,
  type PgGateway,
  startPostgres,
  startPostgresGateway,
  startPostgresGatewayWithLog,
} from './fixtures/postgres.js';
import { run, tempDir } from './support/cli.js';

const POLICY = {
  rules: [
    { id: 'no-drop', action: 'deny', sql: { kinds: ['drop', 'truncate'] }, message: 'DROP is not allowed' },
    {
      id: 'no-delete',
      action: 'deny',
      sql: { kinds: ['delete'], tables: ['orders', 'customers'] },
      message: 'deleting orders or customers is not allowed',
    },
    {
      id: 'scratch-delete',
      action: 'review',
      sql: { kinds: ['delete'], tables: ['scratch'] },
      message: 'scratch deletes need an approver',
    },
    { id: 'admin', action: 'deny', sql: { kinds: ['admin'] }, message: 'admin statements are not allowed' },
    { id: 'updates', action: 'review', sql: { kinds: ['update'] }, message: 'updates need an approver' },
  ],
};

let cluster: PgCluster;
let gw: PgGateway;
let token: string;

beforeAll(async () => {
  cluster = await startPostgres();
  gw = await startPostgresGateway(cluster, {
    policy: POLICY,
    approvalsTimeout: '3s',
    masking: { rules: [{ name: 'ids', columns: ['ssn'], style: 'full' }] },
  });
  token = await gw.token();
}, 120_000);

afterAll(async () => {
  await gw?.close();
  await cluster?.stop();
});

function client(target: PgGateway = gw, extra: Partial<pg.ClientConfig> = {}): pg.Client {
  return new pg.Client({
    host: target.host,
    port: target.port,
    user: APP_USER,
    database: 'shop',
    password: token,
    ssl: { rejectUnauthorized: false },
    ...extra,
  });
}

async function withClient<T>(
  fn: (c: pg.Client) => Promise<T>,
  target?: PgGateway,
  extra?: Partial<pg.ClientConfig>,
): Promise<T> {
  const c = client(target, extra);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

function psql(
  args: string[],
  opts: { target?: PgGateway; token?: string; sslmode?: string; input?: string } = {},
) {
  const target = opts.target ?? gw;
  return run(
    'psql',
    ['-X', '-h', target.host, '-p', String(target.port), '-U', APP_USER, '-d', 'shop', ...args],
    {
      env: { PGPASSWORD: opts.token ?? token, PGSSLMODE: opts.sslmode ?? 'require', PGCONNECT_TIMEOUT: '10' },
      ...(opts.input === undefined ? {} : { input: opts.input }),
    },
  );
}

async function pgError(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected the statement to fail');
}

/** Events of one type across sessions, waiting for result events that are written after the reply. */
async function eventsWhere(type: string, pred: (e: StoredEvent) => boolean, min = 1): Promise<StoredEvent[]> {
  for (let i = 0; i < 50; i++) {
    const found = gw.running.log.reader().eventsOfType(type).filter(pred);
    if (found.length >= min) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  return gw.running.log.reader().eventsOfType(type).filter(pred);
}

async function pendingApproval(text: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const found = gw.running.approvals.list({ state: 'pending' }).find((r) => r.command.text.includes(text));
    if (found) return found.id;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`no pending approval for ${text}`);
}

const approver = { subject: 'alice', groups: ['approvers'], issuer: 'test' };

describe('psql', () => {
  it('runs a query over TLS (sslmode=require) and masks personal data', async () => {
    const r = await psql(['-At', '-c', 'SELECT name, email FROM customers ORDER BY id']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Ada Lovelace|');
    expect(r.stdout).not.toContain('ada@example.com');
  });

  it('runs a multi-statement string and \\d', async () => {
    const r = await psql(['-At', '-c', 'SELECT 1 AS one; SELECT 2 AS two']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['1', '2']);
    const d = await psql(['-c', '\\d customers']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('card_number');
  });

  it('copies both ways with \\copy', async () => {
    const dir = tempDir();
    const file = join(dir, 'orders.csv');
    const out = await psql(['-c', `\\copy (SELECT id, note FROM orders ORDER BY id) TO '${file}' CSV`]);
    expect(out.code, out.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('1,first\n2,second\n3,\n');
    writeFileSync(file, Array.from({ length: 500 }, (_, i) => `${i},label ${i}`).join('\n'));
    const inn = await psql(['-c', `\\copy scratch FROM '${file}' CSV`]);
    expect(inn.code, inn.stderr).toBe(0);
    const count = await psql(['-At', '-c', 'SELECT count(*) FROM scratch']);
    expect(count.stdout.trim()).toBe('500');
    const results = await eventsWhere('result', (e) => e.data['summary'] === 'COPY 500');
    expect(results[0]?.data['bytes']).toBeGreaterThan(5000);
  });

  it('refuses plaintext unless the connection allows it', async () => {
    const r = await psql(['-c', 'SELECT 1'], { sslmode: 'disable' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('requires TLS');
    const open = await startPostgresGateway(cluster, { options: { allowPlaintext: true } });
    try {
      const ok = await psql(['-At', '-c', 'SELECT 41 + 1'], {
        target: open,
        token: await open.token(),
        sslmode: 'disable',
      });
      expect(ok.stdout.trim()).toBe('42');
    } finally {
      await open.close();
    }
  });

  it('refuses a bad token with 28P01 and never logs it', async () => {
    const r = await run(
      'psql',
      ['-X', '-h', gw.host, '-p', String(gw.port), '-U', APP_USER, '-d', 'shop', '-c', 'SELECT 1'],
      {
        env: { PGPASSWORD: 'not-a-token-at-all', PGSSLMODE: 'require' },
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('token rejected');
    const failures = await eventsWhere('auth', (e) => e.data['outcome'] === 'failure');
    expect(JSON.stringify(failures)).not.toContain('not-a-token-at-all');
    const err = await pgError(withClient(async () => undefined, gw, { password: `${token}x` }));
    expect(err.code).toBe('28P01');
  });
});

describe('node-postgres', () => {
  it('runs parameterised queries and named prepared statements, judging each later run', async () => {
    await withClient(async (c) => {
      const r = await c.query('SELECT amount FROM orders WHERE id = $1', [1]);
      expect(r.rows).toEqual([{ amount: '42.50' }]);
      const named = { name: 'order-by-id', text: 'SELECT note FROM orders WHERE id = $1' };
      expect((await c.query({ ...named, values: [2] })).rows).toEqual([{ note: 'second' }]);
      expect((await c.query({ ...named, values: [1] })).rows).toEqual([{ note: 'first' }]);
    });
    const commands = await eventsWhere(
      'command',
      (e) => e.data['text'] === 'SELECT note FROM orders WHERE id = $1',
      2,
    );
    const kinds = commands.map((e) => (e.data['attributes'] as { message?: string }).message);
    expect(kinds).toEqual(['Parse', 'Execute']);
    const results = await eventsWhere(
      'result',
      (e) => JSON.stringify(e.data['data'] ?? {}).includes('order-by-id'),
      2,
    );
    expect(results.map((e) => (e.data['data'] as { params: string[] }).params)).toEqual([['2'], ['1']]);
  });

  it('pipelines queued queries in order', async () => {
    await withClient(async (c) => {
      const all = await Promise.all([
        c.query('SELECT 1 AS n'),
        c.query('SELECT $1::int AS n', [2]),
        c.query('SELECT 3 AS n'),
        c.query('SELECT $1::text AS n', ['four']),
      ]);
      expect(all.map((r) => r.rows[0].n)).toEqual([1, 2, 3, 'four']);
    });
  });

  it('records bound parameters masked', async () => {
    await withClient((c) => c.query('SELECT $1::text AS mail', ['someone@example.com']));
    const results = await eventsWhere('result', (e) => JSON.stringify(e.data).includes('"params"'));
    expect(JSON.stringify(results)).not.toContain('someone@example.com');
  });

  it('reports the transaction status and rows of a transaction', async () => {
    await withClient(async (c) => {
      await c.query('BEGIN');
      await c.query('INSERT INTO scratch VALUES (9001, $1)', ['in tx']);
      const denied = await pgError(c.query('DROP TABLE scratch'));
      expect(denied.code).toBe('42501');
      // Nothing reached the server, so the transaction is still usable.
      expect((await c.query('SELECT label FROM scratch WHERE id = 9001')).rows).toEqual([{ label: 'in tx' }]);
      await c.query('ROLLBACK');
    });
  });
});

describe('policy', () => {
  it('denies DROP TABLE with the rule message and keeps the connection usable', async () => {
    await withClient(async (c) => {
      const err = await pgError(c.query('DROP TABLE orders'));
      expect(err.code).toBe('42501');
      expect(err.message).toBe('DROP is not allowed (rule no-drop)');
      expect((await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(3);
    });
  });

  it('denies every statement of a multi-statement string when one is denied', async () => {
    await withClient(async (c) => {
      const err = await pgError(c.query('SELECT 1; DROP TABLE scratch'));
      expect(err.code).toBe('42501');
      expect((await c.query('SELECT count(*)::int AS n FROM scratch')).rows[0].n).toBeGreaterThanOrEqual(0);
    });
  });

  it('denies a delete hidden in a data-modifying CTE', async () => {
    await withClient(async (c) => {
      const err = await pgError(c.query('WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d'));
      expect(err.message).toContain('rule no-delete');
    });
  });

  it('denies in the extended protocol, skips to Sync, and serves the next query', async () => {
    await withClient(async (c) => {
      const err = await pgError(c.query('DELETE FROM orders WHERE id = $1', [1]));
      expect(err.code).toBe('42501');
      const [a, b] = await Promise.all([
        c.query('SELECT $1::int AS n', [1]),
        pgError(c.query('DELETE FROM customers WHERE id = $1', [2])),
      ]);
      expect(a.rows).toEqual([{ n: 1 }]);
      expect(b.code).toBe('42501');
      expect((await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(3);
    });
  });

  it('refuses an unparsable statement with 42601', async () => {
    await withClient(async (c) => {
      const err = await pgError(c.query('SELEC name FROM customers'));
      expect(err.code).toBe('42601');
      expect(err.message).toContain('the gateway does not forward what it cannot judge');
      expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });
  });

  it('denies COPY TO PROGRAM by the admin rule', async () => {
    await withClient(async (c) => {
      const err = await pgError(c.query("COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'"));
      expect(err.message).toBe('admin statements are not allowed (rule admin)');
    });
  });

  it('judges EXECUTE of a statement made with PREPARE, and refuses names it never saw', async () => {
    await withClient(async (c) => {
      const prepared = c.query('PREPARE wipe(int) AS DELETE FROM scratch WHERE id = $1');
      await gw.running.approvals.approve(await pendingApproval('PREPARE wipe'), approver);
      await prepared;
      const execute = c.query('EXECUTE wipe(1)');
      const id = await pendingApproval('EXECUTE wipe(1)');
      await gw.running.approvals.deny(id, approver, { reason: 'not today' });
      const err = await pgError(execute);
      expect(err.code).toBe('42501');
      expect(err.message).toContain('not today');
      const explain = await pgError(c.query('EXPLAIN ANALYZE EXECUTE wipe(2)'));
      expect(explain.code).toBe('42501');
      const unknown = await pgError(c.query('EXECUTE nothing_here(1)'));
      expect(unknown.message).toContain('was not prepared through the gateway');
    });
  });

  it('runs an UPDATE once an approver approves it, and refuses it when nobody answers', async () => {
    await withClient(async (c) => {
      const update = c.query("UPDATE orders SET note = 'approved' WHERE id = 3");
      await gw.running.approvals.approve(await pendingApproval("SET note = 'approved'"), approver);
      expect((await update).rowCount).toBe(1);
      const timedOut = await pgError(c.query("UPDATE orders SET note = 'late' WHERE id = 3"));
      expect(timedOut.code).toBe('42501');
      expect(timedOut.message).toContain('not approved in time');
      expect((await c.query('SELECT note FROM orders WHERE id = 3')).rows[0].note).toBe('approved');
    });
  }, 15_000);

  it('cancels a held review when the client goes away', async () => {
    const c = client();
    await c.connect();
    c.on('error', () => undefined);
    void c.query("UPDATE orders SET note = 'gone' WHERE id = 2").catch(() => undefined);
    const id = await pendingApproval("SET note = 'gone'");
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    for (let i = 0; i < 50 && gw.running.approvals.get(id)?.state === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(gw.running.approvals.get(id)?.state).not.toBe('pending');
    const note = await cluster.psql('SELECT note FROM orders WHERE id = 2', {
      user: APP_USER,
      password: APP_PASSWORD,
      database: 'shop',
    });
    expect(note.trim()).toBe('second');
  });

  it('refuses changing settings that would make the server read SQL differently', async () => {
    await withClient(async (c) => {
      const enc = await pgError(c.query("SET client_encoding = 'SJIS'"));
      expect(enc.code).toBe('0A000');
      const scs = await pgError(c.query("SELECT set_config('standard_conforming_strings', 'off', false)"));
      expect(scs.code).toBe('0A000');
      await c.query("SET client_encoding = 'UTF8'");
      expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });
  });

  it('logs passwords of CREATE ROLE redacted', async () => {
    await withClient(async (c) => {
      const err = await pgError(c.query("CREATE ROLE sneaky LOGIN PASSWORD 'hunter2-very-secret'"));
      expect(err.code).toBe('42501');
    });
    const commands = await eventsWhere('command', (e) =>
      String(e.data['text']).includes('CREATE ROLE sneaky'),
    );
    expect(JSON.stringify(commands)).not.toContain('hunter2-very-secret');
  });
});

describe('masking', () => {
  it('masks a named column through expressions, in both protocols and in COPY', async () => {
    await withClient(async (c) => {
      const simple = await c.query(
        "SELECT upper(ssn) AS x, 'id:' || ssn AS y, name FROM customers WHERE id = 1",
      );
      expect(simple.rows[0].name).toBe('Ada Lovelace');
      expect(JSON.stringify(simple.rows)).not.toContain('078-05-1120');
      const extended = await c.query(
        'SELECT ssn AS hidden, row_to_json(c) AS j FROM customers c WHERE id = $1',
        [2],
      );
      expect(JSON.stringify(extended.rows)).not.toContain('219-09-9999');
      expect(JSON.stringify(extended.rows)).not.toContain('alan@example.org');
    });
    const copy = await psql(['-c', 'COPY (SELECT id, ssn, email FROM customers ORDER BY id) TO STDOUT']);
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stdout).toContain('1\t');
    expect(copy.stdout).not.toContain('078-05-1120');
    expect(copy.stdout).not.toContain('ada@example.com');
  });

  it('masks values quoted in error messages', async () => {
    await withClient(async (c) => {
      await c.query('CREATE TEMP TABLE u (email text UNIQUE)');
      await c.query("INSERT INTO u VALUES ('dup@example.com')");
      const err = await pgError(c.query("INSERT INTO u VALUES ('dup@example.com')"));
      expect(err.code).toBe('23505');
      expect(JSON.stringify(err)).not.toContain('dup@example.com');
    });
  });
});

describe('notifications', () => {
  it('relays LISTEN/NOTIFY with the payload masked', async () => {
    await withClient(async (listener) => {
      await listener.query('LISTEN orders_changed');
      const got = new Promise<pg.Notification>((resolve) => listener.once('notification', resolve));
      await withClient((c) => c.query("NOTIFY orders_changed, 'customer ada@example.com updated'"));
      const n = await got;
      expect(n.channel).toBe('orders_changed');
      expect(n.payload).toContain('updated');
      expect(n.payload).not.toContain('ada@example.com');
    });
  });
});

describe('session log', () => {
  it('annotates the session and records results with tags and rows', async () => {
    await withClient((c) => c.query('SELECT id FROM customers'), gw, { application_name: 'e2e-app' });
    const notes = await eventsWhere('note', (e) => e.data['applicationName'] === 'e2e-app');
    expect(notes[0]?.data).toMatchObject({ database: 'shop', user: APP_USER, clientTls: true });
    const results = await eventsWhere('result', (e) => e.data['summary'] === 'SELECT 3');
    expect(results[0]?.data).toMatchObject({ status: 'ok', rows: 3 });
  });
});

describe('strict session log', () => {
  it('refuses a statement with 58030 while the log cannot record it, and serves again after', async () => {
    const log = new MemorySessionLog();
    const g = await startPostgresGatewayWithLog(cluster, log);
    try {
      const c = new pg.Client({
        host: '127.0.0.1',
        port: g.port,
        user: APP_USER,
        database: 'shop',
        password: g.token,
      });
      await c.connect();
      await c.query("INSERT INTO scratch VALUES (4242, 'logged')");
      log.setUnavailable('disk full');
      const err = await pgError(c.query("INSERT INTO scratch VALUES (4243, 'not logged')"));
      expect(err.code).toBe('58030');
      expect(err.message).toContain('session log unavailable');
      log.setUnavailable(undefined);
      const rows = await c.query('SELECT id FROM scratch WHERE id IN (4242, 4243) ORDER BY id');
      expect(rows.rows).toEqual([{ id: 4242 }]);
      await c.end();
    } finally {
      await g.close();
    }
  });
});

describe('startup', () => {
  it('refuses databases and roles the connection does not offer, and replication', async () => {
    const db = await pgError(withClient(async () => undefined, gw, { database: 'postgres' }));
    expect(db.code).toBe('3D000');
    const role = await pgError(withClient(async () => undefined, gw, { user: 'postgres' }));
    expect(role.code).toBe('28000');
    const repl = await pgError(
      withClient(async () => undefined, gw, { replication: 'database' } as Partial<pg.ClientConfig>),
    );
    expect(repl.code).toBe('0A000');
    const opt = await pgError(withClient(async () => undefined, gw, { options: '-c search_path=evil' }));
    expect(opt.code).toBe('0A000');
  });

  it('closes a client that stays silent past the handshake deadline', async () => {
    const quick = await startPostgresGateway(cluster, { options: { handshakeTimeoutMs: 500 } });
    try {
      const socket = connect(quick.port, quick.host);
      const received: Buffer[] = [];
      socket.on('data', (d: Buffer) => received.push(d));
      const started = Date.now();
      await new Promise((r) => socket.once('close', r));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(Buffer.concat(received).toString()).toContain('did not complete its start within 500ms');
    } finally {
      await quick.close();
    }
  });

  it('issues its own cancel key, and cancels a running query within a second', async () => {
    await withClient(async (c) => {
      const { rows } = await c.query('SELECT pg_backend_pid() AS pid');
      const own = c as unknown as { processID: number; secretKey: number };
      expect(own.processID).not.toBe(rows[0].pid);
      const sleeping = pgError(c.query('SELECT pg_sleep(10)'));
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      await sendCancel(own.processID, own.secretKey);
      const err = await sleeping;
      expect(err.code).toBe('57014');
      // Within about a second; the margin is for a loaded CI machine.
      expect(Date.now() - started).toBeLessThan(2_500);
      // A wrong key is dropped silently.
      await sendCancel(own.processID, own.secretKey ^ 1);
      expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });
  });
});

async function sendCancel(processId: number, secretKey: number): Promise<void> {
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(processId, 8);
  packet.writeInt32BE(secretKey, 12);
  const socket = connect(gw.port, gw.host);
  await new Promise((r) => socket.once('connect', r));
  socket.end(packet);
  await new Promise((r) => socket.once('close', r));
}

describe('upstream', () => {
  it('reports an upstream that refuses the gateway credentials', async () => {
    process.env['GATEHOUSE_TEST_PG_WRONG'] = 'wrong-password';
    const bad = await startPostgresGateway(cluster, {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a config secret reference
      upstream: { password: '${env:GATEHOUSE_TEST_PG_WRONG}' },
    });
    try {
      const err = await pgError(withClient(async () => undefined, bad, { password: await bad.token() }));
      expect(err.code).toBe('28P01');
      expect(err.message).toBe("upstream refused the gateway's credentials");
    } finally {
      await bad.close();
    }
  });

  it('relays upstream errors at login with their SQLSTATE', async () => {
    const any = await startPostgresGateway(cluster, { options: { databases: ['*'] } });
    try {
      const err = await pgError(
        withClient(async () => undefined, any, { database: 'nope', password: await any.token() }),
      );
      expect(err.code).toBe('3D000');
      expect(err.message).toContain('"nope" does not exist');
    } finally {
      await any.close();
    }
  });

  it('logs in with MD5, cleartext and trust, and over TLS with verify-full', async () => {
    for (const upstream of [
      { user: 'app_md5' },
      { user: 'app_clear' },
      { user: 'app_trust' },
      { tls: { mode: 'verify-full', ca: cluster.caFile } },
      { tls: { mode: 'require' } },
    ]) {
      const g = await startPostgresGateway(cluster, { upstream });
      try {
        const user = 'user' in upstream ? upstream.user : APP_USER;
        const rows = await withClient(
          (c) => c.query('SELECT current_user AS u, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'),
          g,
          { user, password: await g.token() },
        );
        expect(rows.rows[0].u).toBe(user);
        expect(rows.rows[0].ssl).toBe('tls' in upstream);
      } finally {
        await g.close();
      }
    }
  });

  it('ends the session when the upstream backend dies mid-query, and keeps serving', async () => {
    const c = client();
    await c.connect();
    c.on('error', () => undefined);
    const { rows } = await c.query('SELECT pg_backend_pid() AS pid');
    const sleeping = pgError(c.query('SELECT pg_sleep(5)'));
    await new Promise((r) => setTimeout(r, 300));
    await cluster.psql(`SELECT pg_terminate_backend(${rows[0].pid})`);
    const err = await sleeping;
    expect(['57P01', '08006', undefined]).toContain(err.code);
    await c.end().catch(() => undefined);
    const ended = await eventsWhere('session.end', (e) => e.data['reason'] === 'upstream-closed');
    expect(ended.length).toBeGreaterThan(0);
    expect((await withClient((x) => x.query('SELECT 2 AS ok'))).rows).toEqual([{ ok: 2 }]);
  });
});

describe('pgbench', () => {
  it('initialises and runs -S through a permissive gateway with zero failures', async () => {
    const open = await startPostgresGateway(cluster);
    try {
      const env = { PGPASSWORD: await open.token(), PGSSLMODE: 'require' };
      const base = ['-h', open.host, '-p', String(open.port), '-U', APP_USER];
      const init = await run('pgbench', ['-i', '-s', '1', '-q', ...base, 'shop'], { env });
      expect(init.code, init.stderr).toBe(0);
      const bench = await run('pgbench', ['-S', '-t', '200', '-c', '4', '-j', '2', ...base, 'shop'], { env });
      expect(bench.code, bench.stderr).toBe(0);
      expect(bench.stdout).toContain('number of transactions actually processed: 800/800');
      expect(bench.stdout).toMatch(/number of failed transactions: 0/);
    } finally {
      await open.close();
    }
  }, 120_000);
});

it('uses the upstream password only inside the gateway', () => {
  expect(APP_PASSWORD).not.toBe(token);
});
