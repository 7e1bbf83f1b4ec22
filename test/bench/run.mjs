// `pnpm bench [suite ...]`: runs the benchmark suites (all by default) after `pnpm build`, prints
// their tables and rewrites each suite's generated block in docs/benchmarks.md, between
// `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, with the date and machine it ran on.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const docs = join(here, '../../docs/benchmarks.md');

const policyMarkdown = (r) =>
  [
    '| measure | result |',
    '| --- | ---: |',
    `| rule evaluation, 100 rules | ${r.decisions.decisionsPerSecond.toLocaleString('en-US')} decisions/s |`,
    `| \`maskText\`, realistic rows | ${r.masking.rowsMBps} MB/s |`,
    `| \`maskText\`, one document | ${r.masking.documentMBps} MB/s |`,
  ].join('\n');

/** Runs an opt-in benchmark written as a vitest file and returns what it printed. */
function vitestBench(file, env) {
  const run = spawnSync('pnpm', ['exec', 'vitest', 'run', file], {
    cwd: join(here, '../..'),
    env: { ...process.env, GATEHOUSE_BENCH: '1', ...env },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`${file} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

const SUITES = {
  'session-log': async () => {
    const m = await import(pathToFileURL(join(here, 'session-log.mjs')).href);
    return m.toMarkdown(await m.run());
  },
  policy: async () => {
    const m = await import(pathToFileURL(join(here, 'policy.mjs')).href);
    return policyMarkdown(m.run());
  },
  postgres: async () => {
    const m = await import(pathToFileURL(join(here, 'postgres.mjs')).href);
    return m.toMarkdown(await m.run());
  },
  ssh: async () => {
    const out = vitestBench('test/ssh-bench.e2e.test.ts', {});
    const start = out.indexOf('<<<ssh-bench');
    const end = out.indexOf('ssh-bench>>>');
    if (start < 0 || end < start) throw new Error(`test/ssh-bench.e2e.test.ts printed no table:\n${out}`);
    return out.slice(start + '<<<ssh-bench'.length, end).trim();
  },
  http: async () => {
    const m = await import(pathToFileURL(join(here, 'http.mjs')).href);
    return m.toMarkdown(await m.run());
  },
  load: async () => {
    const mixed = await import(pathToFileURL(join(here, 'mixed-load.mjs')).href);
    const idle = await import(pathToFileURL(join(here, 'idle-connections.mjs')).href);
    const m = await mixed.run();
    const i = await idle.run();
    const failed = [];
    if (m.errors > 0) failed.push(`${m.errors} client errors (${m.problems.join('; ')})`);
    if (m.sessionsWithWrongCount > 0 || m.sessionsLogged !== m.pgSessions)
      failed.push(`logged commands per session wrong: ${JSON.stringify(m.wrongExamples)}`);
    if (!m.verifyOk) failed.push(`gatehouse verify: ${m.verifyOutput}`);
    if (i.errors > 0 || i.connected !== i.count) failed.push(`idle connections: ${i.problems.join('; ')}`);
    if (failed.length > 0) throw new Error(`load bench failed its checks: ${failed.join(' | ')}`);
    return `**Mixed load**\n\n${mixed.toMarkdown(m)}\n\n**Idle connections**\n\n${idle.toMarkdown(i)}`;
  },
  kubernetes: async () => {
    const m = await import(pathToFileURL(join(here, 'kubernetes.mjs')).href);
    return m.toMarkdown(await m.run());
  },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in SUITES));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')} (known: ${Object.keys(SUITES).join(', ')})`);
  process.exit(2);
}
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
let text = readFileSync(docs, 'utf8');
for (const name of wanted.length > 0 ? wanted : Object.keys(SUITES)) {
  console.log(`\n## ${name}\n`);
  const table = await SUITES[name]();
  console.log(table);
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n_Last run ${new Date().toISOString().slice(0, 10)} on ${machine}._\n\n${table}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) text = text.slice(0, from) + block + text.slice(to + end.length);
  else console.log(`(docs/benchmarks.md has no ${start} block; not written)`);
}
writeFileSync(docs, text);
// The generated tables in the repository's own format, so that `pnpm lint` stays green.
spawnSync('pnpm', ['exec', 'biome', 'format', '--write', docs], {
  cwd: join(here, '../..'),
  stdio: 'ignore',
});
