// Closed-loop HTTP load from its own process: `concurrency` keep-alive clients, each sending the
// next request when the previous answer has arrived, for `durationMs`. Prints JSON results.
import { Agent, request } from 'node:http';

const [url, concurrency = '8', durationMs = '3000', token = ''] = process.argv.slice(2);
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const headers = token === '' ? {} : { authorization: `Bearer ${token}` };
const latencies = [];
let errors = 0;
const deadline = Date.now() + Number(durationMs);

function once() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname, agent, headers },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

async function worker() {
  while (Date.now() < deadline) await once();
}

const started = Date.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const elapsed = (Date.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, errors, rps: latencies.length / elapsed, p50: pct(50), p99: pct(99) })}\n`,
);
agent.destroy();
