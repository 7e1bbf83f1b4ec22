// Keep-alive load from its own process with autocannon: `connections` HTTP/1.1 connections, each
// sending its next request when the previous answer has arrived, for `durationMs`. autocannon's
// own latency histogram keeps whole milliseconds, too coarse for sub-millisecond added latency, so
// the latencies are taken from its per-response event (hrtime, fractional ms). Prints one JSON line.
import autocannon from 'autocannon';

const spec = JSON.parse(process.argv[2] ?? '{}');
const latencies = [];
const instance = autocannon(
  {
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationMs / 1000,
    headers: spec.headers ?? {},
    // Self-signed gateway and fixture certificates: autocannon does not verify them anyway.
    tlsOptions: { rejectUnauthorized: false },
  },
  (err, result) => {
    if (err) {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exit(1);
    }
    latencies.sort((a, b) => a - b);
    const pct = (p) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    const ok = result['2xx'];
    process.stdout.write(
      `${JSON.stringify({
        requests: ok,
        rps: ok / (result.duration || spec.durationMs / 1000),
        p50: pct(50),
        p99: pct(99),
        errors: result.errors + result.timeouts + result.non2xx,
        bytesPerResponse: ok > 0 ? Math.round(result.throughput.total / ok) : 0,
      })}\n`,
    );
  },
);
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
});
