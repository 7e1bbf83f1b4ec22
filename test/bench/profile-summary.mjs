// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by source file, the
// idle share, and the inclusive time of functions whose name matches an optional pattern.
// Usage: node test/bench/profile-summary.mjs FILE.cpuprofile [TOP=25] [INCLUSIVE_PATTERN]
//   [--from=SECONDS] [--to=SECONDS]: only the samples in that window of the profile (the load
//   rounds, without start-up); --timeline prints busy and idle milliseconds per half second.
import { readFileSync } from 'node:fs';

const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--'))
    .map((a) => {
      const [k, v] = a.slice(2).split('=');
      return [k, v ?? 'true'];
    }),
);
const [file, top = '25', pattern] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const from = Number(flags.from ?? 0) * 1e6;
const to = flags.to === undefined ? Number.POSITIVE_INFINITY : Number(flags.to) * 1e6;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const timeline = new Map();
let at = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  const idle = byId.get(profile.samples[i]).callFrame.functionName === '(idle)';
  const bin = timeline.get(Math.floor(at / 5e5)) ?? [0, 0];
  bin[idle ? 1 : 0] += dt;
  timeline.set(Math.floor(at / 5e5), bin);
  if (at < from || at > to) continue;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
}
if (flags.timeline !== undefined) {
  for (const [bin, [busy, idle]] of timeline)
    console.log(
      `${(bin / 2).toFixed(1).padStart(6)} s  busy ${Math.round(busy / 1e3)} ms, idle ${Math.round(idle / 1e3)} ms`,
    );
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const short = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/.*\/(packages|protocols|gateway|cli)\//, '$1/');
const where = (cf) => `${cf.functionName || '(anonymous)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
const fns = new Map();
const files = new Map();
for (const [id, t] of self) {
  const cf = byId.get(id).callFrame;
  fns.set(where(cf), (fns.get(where(cf)) ?? 0) + t);
  const f = cf.url === '' ? cf.functionName : short(cf.url);
  files.set(f, (files.get(f) ?? 0) + t);
}
const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
const idle = fns.get('(idle) :0') ?? 0;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${pct(idle)} idle`);
console.log('\nself time by function');
for (const [k, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, Number(top)))
  console.log(`${pct(t)}  ${k}`);
console.log('\nself time by file');
for (const [k, t] of [...files].sort((a, b) => b[1] - a[1]).slice(0, Number(top)))
  console.log(`${pct(t)}  ${k}`);
if (pattern !== undefined) {
  const re = new RegExp(pattern);
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, t] of self) {
    const counted = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = where(byId.get(at).callFrame);
      if (re.test(key) && !counted.has(key)) {
        counted.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + t);
      }
    }
  }
  console.log(`\ninclusive time of functions matching ${re}`);
  for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(top)))
    console.log(`${pct(t)}  ${k}`);
}
