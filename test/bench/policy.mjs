// Policy and masking micro-benchmark: decisions per second with 100 rules, and maskText
// throughput on a realistic row mix with every built-in detector on.
// Run after `pnpm exec tsc -b packages/policy`: `node test/bench/policy.mjs`.
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  compilePolicy,
  httpRequest,
  kubernetesRequest,
  postgresQuery,
  sqlStatement,
  sshCommand,
} from '../../packages/policy/dist/index.js';

/** Small deterministic PRNG so every run measures the same data. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 100 rules: 25 per protocol, each specific enough not to match the benchmark commands early. */
function hundredRules() {
  const rules = [];
  for (let i = 0; i < 24; i++) {
    rules.push({ action: 'deny', sql: { kinds: ['drop', 'truncate'], tables: [`app.audit_${i}`] } });
    rules.push({ action: 'review', shell: { programs: [`tool-${i}`], args: ['--force'] } });
    rules.push({
      action: 'deny',
      kubernetes: { verbs: ['delete'], resources: ['secrets'], namespaces: [`team-${i}`] },
    });
    rules.push({ action: 'deny', http: { methods: ['DELETE'], paths: [`/api/v${i}/admin/**`] } });
  }
  // The four rules the commands below hit, at the end of the list.
  rules.push({
    action: 'allow',
    groups: ['agents'],
    sql: { kinds: ['read'], tables: ['public.*', 'orders'] },
  });
  rules.push({ action: 'allow', groups: ['agents'], shell: { programs: ['ls', 'cat', 'grep'] } });
  rules.push({
    action: 'allow',
    groups: ['agents'],
    kubernetes: { verbs: ['get', 'list'], resources: ['pods'] },
  });
  rules.push({ action: 'allow', groups: ['agents'], http: { methods: ['GET'], paths: ['/api/**'] } });
  return rules;
}

const identity = { subject: 'agent-1', groups: ['agents'], issuer: 'https://issuer.example' };

function commands() {
  return [
    postgresQuery('SELECT id, total FROM orders WHERE customer_id = $1', [
      sqlStatement('select', { tables: ['orders'], functions: [] }),
    ]),
    postgresQuery(
      'SELECT o.id FROM public.orders o JOIN public.customers c ON c.id = o.customer_id; SELECT 1',
      [
        sqlStatement('select', { tables: ['public.orders', 'public.customers'] }),
        sqlStatement('select', { tables: ['orders'] }),
      ],
    ),
    sshCommand('exec', 'ls -la /var/log | grep error', {
      channel: 'exec',
      commands: [
        ['ls', '-la', '/var/log'],
        ['grep', 'error'],
      ],
    }),
    kubernetesRequest('GET /api/v1/namespaces/default/pods', {
      verb: 'list',
      apiGroup: '',
      apiVersion: 'v1',
      resource: 'pods',
      namespace: 'default',
    }),
    httpRequest('GET /api/orders/42', {
      method: 'GET',
      path: '/api/orders/42',
      headers: ['accept', 'user-agent'],
    }),
  ];
}

export function benchDecisions(seconds = 2) {
  const engine = compilePolicy({
    policies: { base: { rules: hundredRules() } },
    connections: [{ name: 'bench', policy: { use: ['base'], defaultAction: 'deny' } }],
  });
  const inputs = commands().map((command) => ({ connection: 'bench', identity, command }));
  for (const input of inputs) {
    const d = engine.decide(input);
    if (d.action !== 'allow')
      throw new Error(`benchmark command not allowed: ${input.command.text} → ${d.ruleId}`);
  }
  let n = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < 1000; i++) engine.decide(inputs[i % inputs.length]);
    n += 1000;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { decisionsPerSecond: Math.round(n / elapsed), rules: 100, commands: inputs.length };
}

const WORDS =
  'the order was shipped to customer via express courier and arrived on time please leave parcel at the ' +
  'front door warehouse stock level updated invoice paid refund pending review product widget gadget blue ' +
  'large small premium account settings changed password reset requested support ticket closed';

/** A mix of rows as a database or API returns them: mostly text, ids, dates and amounts. */
export function rowMix(count, seed = 42) {
  const r = rng(seed);
  const words = WORDS.split(' ');
  const pick = (a) => a[Math.floor(r() * a.length)];
  const sentence = (n) => Array.from({ length: n }, () => pick(words)).join(' ');
  const num = (digits) => String(Math.floor(r() * 10 ** digits)).padStart(digits, '0');
  const uuid = () =>
    [8, 4, 4, 4, 12]
      .map((n) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join(''))
      .join('-');
  const date = () => `2024-0${1 + Math.floor(r() * 9)}-${10 + Math.floor(r() * 18)}T${num(2)}:${num(2)}:00Z`;
  const secrets = [
    () =>
      `contact ${pick(['jane.doe', 'Bob.Smith', 'ops+alerts'])}@${pick(['example.com', 'Mail.Example.ORG'])}`,
    () => 'card 4111 1111 1111 1111 exp 12/27',
    () => 'phone (555) 234-5678',
    () => 'ssn 123-45-6789',
    () => 'iban DE89 3704 0044 0532 0130 00',
  ];
  const rows = [];
  for (let i = 0; i < count; i++) {
    const kind = r();
    let row;
    if (kind < 0.35) {
      row = `${num(6)}\t${sentence(3)}\t${date()}\t${(r() * 1000).toFixed(2)} EUR\tSKU-${num(4)}-${num(2)}\t${sentence(8)}`;
    } else if (kind < 0.6) {
      row = `${date()} INFO [worker-${num(1)}] request_id=${uuid()} GET /api/v1/orders/${num(5)} 200 ${num(2)}ms`;
    } else if (kind < 0.85) {
      row = JSON.stringify({
        id: Number(num(7)),
        name: sentence(2),
        price: Number((r() * 100).toFixed(2)),
        tags: [pick(words), pick(words)],
        updated_at: date(),
        version: `${num(1)}.${num(1)}.${num(2)}`,
      });
    } else {
      row = sentence(20);
    }
    // About 4% of rows carry something a detector must find.
    if (r() < 0.04) row += ` ${pick(secrets)()}`;
    rows.push(row);
  }
  return rows;
}

export function benchMasking(seconds = 2) {
  const engine = compilePolicy({ connections: [{ name: 'bench' }] });
  const masker = engine.masker('bench', identity);
  const rows = rowMix(20_000);
  const chars = rows.reduce((n, row) => n + row.length, 0);
  let masked = 0;
  for (const row of rows) if (masker.maskText(row) !== row) masked++;
  let bytes = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (const row of rows) masker.maskText(row);
    bytes += chars;
  }
  const elapsed = (performance.now() - start) / 1000;
  // One large text too: masking a whole result set rendered as one document.
  const doc = rows.join('\n');
  const docStart = performance.now();
  let docBytes = 0;
  while (performance.now() - docStart < seconds * 500) {
    masker.maskText(doc);
    docBytes += doc.length;
  }
  const docElapsed = (performance.now() - docStart) / 1000;
  return {
    rowsMBps: +(bytes / elapsed / 1e6).toFixed(1),
    documentMBps: +(docBytes / docElapsed / 1e6).toFixed(1),
    rows: rows.length,
    avgRowChars: Math.round(chars / rows.length),
    rowsWithFindings: masked,
  };
}

export function run() {
  const decisions = benchDecisions();
  const masking = benchMasking();
  return { decisions, masking };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(run(), null, 2));
}
