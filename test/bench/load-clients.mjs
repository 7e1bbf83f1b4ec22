// The clients of the load benchmarks (test/bench/mixed-load.mjs, idle-connections.mjs), in a
// process of their own so that their CPU is not counted as the gateway's. argv[2] is a JSON spec
// with a `kind`:
// - `pg`: `sessions` node-postgres connections at once, each running `statements` statements (a
//   mix of parameterised INSERTs and SELECTs and simple-protocol SELECTs), then closing; each
//   session sets `application_name` to `load-<n>` so the session log can be checked per session.
// - `ssh`: `sessions` ssh2 connections, each running `echo` exec commands one after another until
//   stdin says `stop`; the output of each is checked.
// - `kube`: `concurrency` loops of `GET /api/v1/namespaces/default/pods` until stdin says `stop`.
// - `idle`: `count` node-postgres connections opened and left idle; prints `{ connected }` once
//   they all are, closes them when stdin says `stop`.
// Prints one JSON line with its counts (and `errors`, with the first few messages) at the end.
import { Agent, request } from 'node:https';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
const pg = createRequire(join(root, 'test/package.json'))('pg');
const ssh2 = createRequire(join(root, 'protocols/ssh/package.json'))('ssh2');
const spec = JSON.parse(process.argv[2] ?? '{}');
const problems = [];
let errors = 0;
const fail = (err) => {
  errors++;
  if (problems.length < 5) problems.push(String(err?.message ?? err));
};

let stopRequested = false;
const stopped = new Promise((resolve) => {
  let input = '';
  process.stdin.on('data', (d) => {
    input += d;
    if (input.includes('stop\n')) {
      stopRequested = true;
      resolve();
    }
  });
  process.stdin.on('end', () => {
    stopRequested = true;
    resolve();
  });
});

const pgClient = (name) =>
  new pg.Client({
    host: '127.0.0.1',
    port: spec.port,
    user: 'bench',
    database: 'bench',
    password: spec.token,
    application_name: name,
    ssl: false,
  });

async function pgSession(n) {
  const client = pgClient(`load-${n}`);
  client.on('error', fail);
  await client.connect();
  let done = 0;
  try {
    for (let k = 0; k < spec.statements; k++) {
      switch (k % 4) {
        case 0:
          await client.query('INSERT INTO load_items (session_no, n, note) VALUES ($1, $2, $3)', [
            n,
            k,
            `row ${k} of session ${n}`,
          ]);
          break;
        case 1:
          await client.query('SELECT count(*) AS c FROM load_items WHERE session_no = $1', [n]);
          break;
        case 2:
          await client.query(`SELECT ${k} AS n, now() AS at`);
          break;
        default: {
          const r = await client.query(
            'SELECT id, note FROM load_items WHERE session_no = $1 ORDER BY id DESC LIMIT 5',
            [n],
          );
          if (r.rows.length === 0) throw new Error(`session ${n}: its own rows are missing`);
        }
      }
      done++;
    }
  } finally {
    await client.end();
  }
  return done;
}

async function runPg() {
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: spec.sessions }, (_, n) => pgSession(n)));
  const seconds = (performance.now() - started) / 1000;
  let statements = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') statements += r.value;
    else fail(r.reason);
  }
  return { statements, seconds };
}

function sshConnect() {
  return new Promise((resolve, reject) => {
    const conn = new ssh2.Client();
    conn.once('ready', () => resolve(conn));
    conn.once('error', reject);
    conn.connect({
      host: '127.0.0.1',
      port: spec.port,
      username: 'deploy',
      password: spec.token,
      readyTimeout: 60_000,
      // The gateway's host key is generated per data directory; nothing to pin in a benchmark.
      hostVerifier: () => true,
    });
  });
}

function sshExec(conn, command) {
  return new Promise((resolve, reject) => {
    conn.exec(command, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      let code;
      stream.on('data', (d) => {
        out += d;
      });
      stream.stderr.on('data', () => {});
      stream.on('exit', (c) => {
        code = c;
      });
      stream.on('close', (c) => resolve({ out, code: code ?? c }));
    });
  });
}

async function sshSession(n) {
  const conn = await sshConnect();
  let commands = 0;
  try {
    while (!stopRequested) {
      const word = `load-${n}-${commands}`;
      const { out, code } = await sshExec(conn, `echo ${word}`);
      if (code !== 0 || out.trim() !== word) throw new Error(`ssh ${n}: echo ${word} gave ${code} ${out}`);
      commands++;
    }
  } finally {
    conn.end();
  }
  return commands;
}

async function runSsh() {
  const results = await Promise.allSettled(Array.from({ length: spec.sessions }, (_, n) => sshSession(n)));
  let commands = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') commands += r.value;
    else fail(r.reason);
  }
  return { commands };
}

async function runKube() {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency, rejectUnauthorized: false });
  const get = () =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: spec.port,
          path: '/api/v1/namespaces/default/pods?limit=500',
          agent,
          headers: { authorization: `Bearer ${spec.token}`, accept: 'application/json' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`kube list: HTTP ${res.statusCode} ${body}`));
            const list = JSON.parse(body);
            if (list.kind !== 'PodList' || list.items.length === 0) reject(new Error(`kube list: ${body}`));
            else resolve();
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  let requests = 0;
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (!stopRequested) {
        try {
          await get();
          requests++;
        } catch (err) {
          fail(err);
        }
      }
    }),
  );
  agent.destroy();
  return { requests };
}

async function runIdle() {
  const clients = [];
  // A few hundred at a time: SCRAM with the upstream makes every connection cost a little CPU.
  for (let i = 0; i < spec.count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, spec.count - i) }, async (_, j) => {
        const client = pgClient(`idle-${i + j}`);
        client.on('error', fail);
        try {
          await client.connect();
          clients.push(client);
        } catch (err) {
          fail(err);
        }
      }),
    );
  }
  process.stdout.write(`${JSON.stringify({ connected: clients.length, errors, problems })}\n`);
  await stopped;
  await Promise.all(clients.map((c) => c.end().catch(fail)));
  return { connected: clients.length };
}

const kinds = { pg: runPg, ssh: runSsh, kube: runKube, idle: runIdle };
const result = await kinds[spec.kind]();
process.stdout.write(`${JSON.stringify({ ...result, errors, problems })}\n`);
process.exit(0);
