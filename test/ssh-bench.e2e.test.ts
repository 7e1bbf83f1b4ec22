/**
 * A benchmark, not a test: excluded from `pnpm test`, run by `pnpm bench ssh`. OpenSSH `ssh` to a
 * real sshd, directly and through the gateway (strict SQLite session log, recording on with its
 * default per-channel limit), alternating in one run: 200 MiB into `cat > /dev/null` and out of
 * `cat`, with the same cipher on both legs, and session set-up (`ssh … true`). Prints a table;
 * asserts only that every transfer completed.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { openSessionLog } from '@gatehouse/session-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshGateway, startSshGateway } from './support/ssh-gateway.js';

const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env['GATEHOUSE_SSH_BENCH_MIB'] ?? '200');
const ROUNDS = Number(process.env['GATEHOUSE_SSH_BENCH_ROUNDS'] ?? '3');
const SETUPS = Number(process.env['GATEHOUSE_SSH_BENCH_SETUPS'] ?? '10');
/** The first cipher the gateway's ssh2 client offers, so sshd picks it on the upstream leg too. */
const CIPHER = 'aes256-gcm@openssh.com';
/** A file to write a CPU profile of this process (the gateway's) to, for the whole run. */
const PROFILE = process.env['GATEHOUSE_SSH_BENCH_PROFILE'];

let gw: SshGateway;
let log: ReturnType<typeof openSessionLog>;
let keyFile: string;
let bigFile: string;

type Target = 'direct' | 'gateway';

function sshArgs(target: Target): string[] {
  // OpenSSH 9 prefers sntrup761x25519 key exchange, which the gateway does not offer and which
  // costs ~100 ms here: the direct path gets curve25519 too, so set-up compares like with like.
  const common = ['-c', CIPHER, '-o', 'Compression=no', '-o', 'KexAlgorithms=curve25519-sha256'];
  if (target === 'gateway')
    return [...gw.clientOptions(), ...common, '-p', String(gw.port), 'deploy@127.0.0.1'];
  return [
    '-F',
    '/dev/null',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-i',
    keyFile,
    ...common,
    '-p',
    String(gw.sshd.port),
    `${gw.sshd.user}@127.0.0.1`,
  ];
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}
const CORES = readFileSync('/proc/stat', 'utf8')
  .split('\n')
  .filter((l) => /^cpu\d/.test(l)).length;

/**
 * Samples the CPU time of the ssh client and of sshd's per-connection processes (its descendants)
 * while a transfer runs; processes are read until they exit, so the last sample is close to their
 * total. Ticks are 1/100 s on Linux. It runs in a process of its own: scanning /proc every 50 ms on
 * this one would take the gateway's event loop away from it (about a tenth of its time).
 */
const SAMPLER = `
const { readdirSync, readFileSync } = require('node:fs');
const sshdPid = Number(process.argv[1]);
let client = -1;
const seen = new Map();
function processTicks() {
  const out = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync('/proc/' + entry + '/stat', 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {}
  }
  return out;
}
function sample() {
  const all = processTicks();
  const isUnder = (pid, root) => {
    for (let p = all.get(pid)?.ppid, hops = 0; p !== undefined && hops < 10; p = all.get(p)?.ppid, hops++) {
      if (p === root) return true;
    }
    return false;
  };
  for (const [pid, info] of all) {
    const group = pid === client ? 'client' : isUnder(pid, sshdPid) ? 'sshd' : undefined;
    if (group !== undefined) seen.set(pid, { group, ticks: info.ticks });
  }
}
const timer = setInterval(sample, 50);
let input = '';
process.stdin.on('data', (d) => {
  input += d;
  for (let nl = input.indexOf('\\n'); nl >= 0; nl = input.indexOf('\\n')) {
    const line = input.slice(0, nl);
    input = input.slice(nl + 1);
    if (line.startsWith('client ')) client = Number(line.slice(7));
    if (line === 'stop') {
      clearInterval(timer);
      sample();
      const sum = (g) => [...seen.values()].filter((v) => v.group === g).reduce((n, v) => n + v.ticks, 0);
      process.stdout.write(JSON.stringify({ clientMs: sum('client') * 10, sshdMs: sum('sshd') * 10 }));
      process.exit(0);
    }
  }
});
`;

function cpuSampler(sshdPid: number) {
  const child = spawn(process.execPath, ['-e', SAMPLER, String(sshdPid)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<{ clientMs: number; sshdMs: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out) as { clientMs: number; sshdMs: number });
      } catch (err) {
        reject(err);
      }
    });
  });
  return {
    setClient: (pid: number | undefined) => {
      child.stdin.write(`client ${pid ?? -1}\n`);
    },
    stop: () => {
      child.stdin.write('stop\n');
      return done;
    },
  };
}

interface Timing {
  ms: number;
  /** This process's (the gateway's) CPU time. */
  cpuMs: number;
  /** Cores the whole machine kept busy on average. */
  machineCores: number;
  /** CPU time of the ssh client and of sshd's session processes (sampled, so a little low). */
  clientMs: number;
  sshdMs: number;
}

/** Runs ssh with the given stdin/stdout files and times it. */
function timed(target: Target, command: string, stdin: string, stdout: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const input = openSync(stdin, 'r');
    const output = openSync(stdout, 'w');
    const cpu = process.cpuUsage();
    const ticks = machineTicks();
    const sampler = cpuSampler(Number(readFileSync(join(gw.sshd.dir, 'sshd.pid'), 'utf8').trim()));
    const started = performance.now();
    const child = spawn('ssh', [...sshArgs(target), command], {
      env: gw.clientEnv(),
      stdio: [input, output, 'pipe'],
    });
    sampler.setClient(child.pid);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', async (code) => {
      const ms = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const after = machineTicks();
      const { clientMs, sshdMs } = await sampler.stop();
      const machineCores = ((after.busy - ticks.busy) / Math.max(1, after.total - ticks.total)) * CORES;
      closeSync(input);
      closeSync(output);
      if (code !== 0) reject(new Error(`ssh ${target} ${command} exited ${code}: ${stderr}`));
      else resolve({ ms, cpuMs: (used.user + used.system) / 1000, machineCores, clientMs, sshdMs });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

describe('ssh throughput and set-up: direct vs gateway', () => {
  beforeAll(async () => {
    const dir = `${process.env['TMPDIR'] ?? '/tmp'}`;
    log = openSessionLog({ path: join(dir, `gh-ssh-bench-${process.pid}.db`) });
    gw = await startSshGateway({ rules: [], log, sshd: { logLevel: 'DEBUG1' } });
    keyFile = join(gw.work, 'direct_ed25519');
    writeFileSync(keyFile, gw.sshd.clientKey, { mode: 0o600 });
    // The file `cat` sends: in the sshd fixture's directory, readable by the test user.
    bigFile = join(gw.sshd.dir, 'big.bin');
    const fd = openSync(bigFile, 'w', 0o644);
    const block = Buffer.alloc(MIB, 0x61);
    for (let i = 0; i < SIZE_MIB; i++) writeFileSync(fd, block);
    closeSync(fd);
  }, 120_000);

  afterAll(async () => {
    if (bigFile !== undefined) rmSync(bigFile, { force: true });
    await gw?.stop();
    await log?.close();
    for (const suffix of ['', '-wal', '-shm']) {
      rmSync(join(`${process.env['TMPDIR'] ?? '/tmp'}`, `gh-ssh-bench-${process.pid}.db${suffix}`), {
        force: true,
      });
    }
  });

  it('measures', async () => {
    const profiler = PROFILE === undefined ? undefined : new Session();
    if (profiler !== undefined) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const rates: Record<string, number[]> = {};
    const cpu: Record<string, number[]> = {};
    const machine: Record<string, number[]> = {};
    /** CPU ms per MiB moved, per process group. */
    const perMib: Record<string, number[]> = {};
    const push = (into: Record<string, number[]>, key: string, value: number) => {
      into[key] = [...(into[key] ?? []), value];
    };
    const add = (key: string, t: Timing) => {
      push(rates, key, SIZE_MIB / (t.ms / 1000));
      push(cpu, key, t.cpuMs / t.ms);
      push(machine, key, t.machineCores);
      push(perMib, `${key} client`, t.clientMs / SIZE_MIB);
      push(perMib, `${key} sshd`, t.sshdMs / SIZE_MIB);
      if (key.endsWith('gateway')) push(perMib, `${key} gw`, t.cpuMs / SIZE_MIB);
    };
    const setups: Record<Target, number[]> = { direct: [], gateway: [] };
    // Warm-up: host keys, the gateway's first upstream connection, page cache.
    for (const target of ['direct', 'gateway'] as const)
      await timed(target, 'true', '/dev/null', '/dev/null');
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of ['direct', 'gateway'] as const) {
        add(`up ${target}`, await timed(target, 'cat > /dev/null', bigFile, '/dev/null'));
        add(`down ${target}`, await timed(target, `cat ${bigFile}`, '/dev/null', '/dev/null'));
      }
      for (let i = 0; i < SETUPS; i++) {
        for (const target of ['direct', 'gateway'] as const) {
          setups[target].push((await timed(target, 'true', '/dev/null', '/dev/null')).ms);
        }
      }
    }
    if (profiler !== undefined && PROFILE !== undefined) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(PROFILE, JSON.stringify(profile));
      profiler.disconnect();
    }
    const ciphers = [...new Set(gw.sshd.log().match(/cipher: [\w@.-]+/g) ?? [])];
    const row = (label: string, key: string) => {
      const direct = median(rates[`${key} direct`] ?? []);
      const via = median(rates[`${key} gateway`] ?? []);
      const busy = (t: Target) => fmt(median(machine[`${key} ${t}`] ?? []), 2);
      return `| ${label} | ${fmt(direct)} | ${fmt(via)} | ${fmt(via / direct, 2)}× | ${fmt(median(cpu[`${key} gateway`] ?? []), 2)} | ${busy('direct')} → ${busy('gateway')} |`;
    };
    const costRow = (label: string, key: string) => {
      const m = (k: string) => fmt(median(perMib[k] ?? []), 1);
      return `| ${label} | ${m(`${key} direct client`)} + ${m(`${key} direct sshd`)} | ${m(`${key} gateway client`)} + ${m(`${key} gateway gw`)} + ${m(`${key} gateway sshd`)} |`;
    };
    const setupDirect = median(setups.direct);
    const setupGateway = median(setups.gateway);
    const table = [
      `${SIZE_MIB} MiB per transfer (wall time of the whole \`ssh\` command), ${ROUNDS} rounds alternating direct and gateway, medians; cipher ${CIPHER} and curve25519 on both legs (sshd saw: ${ciphers.join(', ')}).`,
      '',
      `| transfer | direct MiB/s | via gateway MiB/s | ratio | gateway CPU (cores) | machine busy, direct → gateway (cores of ${CORES}) |`,
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      row('into `cat > /dev/null` (upload)', 'up'),
      row('out of `cat FILE` (download)', 'down'),
      '',
      '| CPU ms per MiB | direct: ssh + sshd | via gateway: ssh + gateway + sshd |',
      '| --- | ---: | ---: |',
      costRow('upload', 'up'),
      costRow('download', 'down'),
      '',
      '| session set-up (`ssh … true`) | direct | via gateway | added |',
      '| --- | ---: | ---: | ---: |',
      `| median of ${setups.direct.length} | ${fmt(setupDirect)} ms | ${fmt(setupGateway)} ms | ${fmt(setupGateway - setupDirect)} ms |`,
    ].join('\n');
    console.log(`<<<ssh-bench\n${table}\nssh-bench>>>`);
    expect(rates['up gateway']?.length).toBe(ROUNDS);
  }, 900_000);
});
