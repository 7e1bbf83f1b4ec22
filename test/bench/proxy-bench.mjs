// The shared shape of the HTTP and Kubernetes load benchmarks: the same request sent directly to
// the upstream and through a gateway running in its own process, alternating round by round in
// one run so that both see the same machine; medians of the rounds. Gateway CPU comes from
// /proc/<pid>/stat over the proxied rounds (all its threads, the session log writer included),
// peak RSS from VmHWM.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CLOCK_TICKS = 100;

/**
 * A child process running one of the bench scripts, with its stdout read line by line as JSON;
 * `input: true` gives it a stdin pipe (`send` writes a line to it).
 */
export function child(script, args = [], { execArgv = [], cwd, input = false } = {}) {
  const proc = spawn(process.execPath, [...execArgv, join(here, script), ...args], {
    stdio: [input ? 'pipe' : 'ignore', 'pipe', 'inherit'],
    ...(cwd === undefined ? {} : { cwd }),
  });
  const lines = [];
  const waiting = [];
  let buffer = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const next = waiting.shift();
      if (next) next.resolve(line);
      else lines.push(line);
    }
  });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(({ code, signal }) => {
    for (const w of waiting.splice(0))
      w.reject(new Error(`${script} exited (${code ?? signal}) before answering`));
  });
  return {
    proc,
    exited,
    /** The next line the child prints, parsed as JSON. */
    async next() {
      const line =
        lines.length > 0
          ? lines.shift()
          : await new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      return JSON.parse(line);
    },
    send(line) {
      proc.stdin?.write(`${line}\n`);
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU seconds of the main thread (`main`) and of all other threads together (`other`: the session
 * log's writer thread, libuv's thread pool, V8's compiler and GC helpers).
 */
function threadCpuSeconds(pid) {
  const out = {};
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = tid === String(pid) ? 'main' : 'other';
      out[key] = (out[key] ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return out;
}

function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function load(target, connections, durationMs) {
  const run = child('load.mjs', [JSON.stringify({ ...target, connections, durationMs })]);
  const result = await run.next();
  await run.exited;
  return result;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `direct` and `proxied` are `{ url, headers }`; `gatewayPid` is the gateway's process. A warm-up
 * of each comes first, so that JIT compilation and connection setup stay out of round one; the
 * gateway's is longer, since a few hundred requests leave most of its code unoptimised.
 */
export async function compare({
  direct,
  proxied,
  gatewayPid,
  rounds = 3,
  durationMs = 3000,
  concurrencies = [1, 8],
}) {
  await load(direct, 2, 1000);
  const warmUp = await load(proxied, 8, 4000);
  const results = [];
  for (const connections of concurrencies) {
    const d = [];
    const p = [];
    const cpu = [];
    const threads = {};
    for (let round = 0; round < rounds; round++) {
      d.push(await load(direct, connections, durationMs));
      const before = cpuSeconds(gatewayPid);
      const threadsBefore = threadCpuSeconds(gatewayPid);
      const started = process.hrtime.bigint();
      p.push(await load(proxied, connections, durationMs));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      cpu.push((cpuSeconds(gatewayPid) - before) / seconds);
      for (const [name, t] of Object.entries(threadCpuSeconds(gatewayPid)))
        threads[name] = (threads[name] ?? 0) + t - (threadsBefore[name] ?? 0);
    }
    const requests = p.reduce((n, r) => n + r.requests, 0);
    const directRps = median(d.map((r) => r.rps));
    const gatewayRps = median(p.map((r) => r.rps));
    const directP50 = median(d.map((r) => r.p50));
    const gatewayP50 = median(p.map((r) => r.p50));
    const directP99 = median(d.map((r) => r.p99));
    const gatewayP99 = median(p.map((r) => r.p99));
    results.push({
      connections,
      directRps,
      gatewayRps,
      ratio: gatewayRps / directRps,
      directP50,
      gatewayP50,
      directP99,
      gatewayP99,
      addedP50: gatewayP50 - directP50,
      addedP99: gatewayP99 - directP99,
      gatewayCpuCores: median(cpu),
      gatewayPeakRssMiB: peakRssMiB(gatewayPid),
      responseBytes: { direct: d[0].bytesPerResponse, gateway: p[0].bytesPerResponse },
      proxiedRequests: requests,
      warmUpRequests: warmUp.requests,
      /** Gateway CPU per proxied request by thread, in microseconds. */
      cpuPerRequestUs: Object.fromEntries(
        Object.entries(threads)
          .filter(([, t]) => t > 0)
          .map(([name, t]) => [name, Math.round((t * 1e6) / requests)]),
      ),
      errors: [...d, ...p].reduce((n, r) => n + r.errors, 0),
    });
  }
  return results;
}

/** The table for docs/benchmarks.md, from `{ results, events, what }` of a suite's run. */
export function toMarkdown({ results, events, what }) {
  const f = (n, digits = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const lines = [
    '| clients | direct req/s | via gateway req/s | ratio | p50 direct → gateway (ms) | added p50 (ms) | p99 direct → gateway (ms) | added p99 (ms) | gateway CPU (cores) | gateway peak RSS (MiB) | errors |',
    '| ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.connections} | ${f(r.directRps)} | ${f(r.gatewayRps)} | ${f(r.ratio, 2)}× | ${f(r.directP50, 2)} → ${f(r.gatewayP50, 2)} | ${f(r.addedP50, 2)} | ${f(r.directP99, 2)} → ${f(r.gatewayP99, 2)} | ${f(r.addedP99, 2)} | ${f(r.gatewayCpuCores, 2)} | ${f(r.gatewayPeakRssMiB)} | ${r.errors} |`,
    );
  }
  const requests = results.reduce((n, r) => n + r.proxiedRequests, 0) + (results[0]?.warmUpRequests ?? 0);
  const sizes = results[0]?.responseBytes;
  lines.push(
    '',
    `Request: ${what}; ${f(sizes?.direct ?? 0)} bytes direct, ${f(sizes?.gateway ?? 0)} through the gateway (masked). ` +
      `Session log: ${f(events / requests, 1)} events per proxied request. ` +
      `Gateway CPU per proxied request (µs, main thread / other threads): ${results
        .map(
          (r) =>
            `${r.connections} client${r.connections === 1 ? '' : 's'}: ${f(r.cpuPerRequestUs.main ?? 0)} / ${f(r.cpuPerRequestUs.other ?? 0)}`,
        )
        .join('; ')}.`,
  );
  return lines.join('\n');
}
