import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics, in a registry of its own (no global state). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly sessionsOpen = new Gauge({
    name: 'gatehouse_sessions_open',
    help: 'Client sessions currently open',
    labelNames: ['connection', 'protocol'] as const,
    registers: [this.registry],
  });
  readonly sessionsTotal = new Counter({
    name: 'gatehouse_sessions_total',
    help: 'Client sessions opened',
    labelNames: ['connection', 'protocol'] as const,
    registers: [this.registry],
  });
  readonly authTotal = new Counter({
    name: 'gatehouse_auth_total',
    help: 'Authentication attempts by outcome',
    labelNames: ['connection', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly commandsTotal = new Counter({
    name: 'gatehouse_commands_total',
    help: 'Commands judged, by decision',
    labelNames: ['connection', 'protocol', 'decision'] as const,
    registers: [this.registry],
  });
  readonly logCommitSeconds = new Histogram({
    name: 'gatehouse_log_commit_seconds',
    help: 'Time from appending an event to its durable commit in the session log',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly logFailuresTotal = new Counter({
    name: 'gatehouse_log_failures_total',
    help: 'Session log appends that failed',
    registers: [this.registry],
  });
  readonly connectionsRejected = new Counter({
    name: 'gatehouse_connections_rejected_total',
    help: 'Connections refused before reaching a protocol module',
    labelNames: ['connection', 'reason'] as const,
    registers: [this.registry],
  });
}
