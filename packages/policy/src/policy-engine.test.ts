import type { Command, Identity, PolicyEngine } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { httpRequest, kubernetesRequest, postgresQuery, sqlStatement, sshCommand } from './commands.js';
import type { RuleConfig, RuleSetConfig } from './config-schema.js';
import { compilePolicy, explainDecision } from './policy-engine.js';

const agent: Identity = { subject: 'agent-1', groups: ['agents'], issuer: 'test' };
const admin: Identity = { subject: 'alice', groups: ['admins', 'agents'], issuer: 'test' };
const stranger: Identity = { subject: 'mallory', groups: [], issuer: 'test' };

function engine(
  rules: RuleConfig[],
  defaultAction?: 'allow' | 'deny' | 'review',
  policies?: Record<string, RuleSetConfig>,
  use?: string[],
): PolicyEngine {
  return compilePolicy({
    ...(policies === undefined ? {} : { policies }),
    connections: [
      { name: 'c', policy: { rules, ...(defaultAction ? { defaultAction } : {}), ...(use ? { use } : {}) } },
    ],
  });
}

const decide = (e: PolicyEngine, command: Command, identity: Identity = agent) =>
  e.decide({ connection: 'c', identity, command });

const select = postgresQuery('SELECT * FROM orders', [sqlStatement('select', { tables: ['orders'] })]);
const drop = postgresQuery('DROP TABLE orders', [sqlStatement('drop', { tables: ['orders'] })]);
const ls = sshCommand('exec', 'ls', { channel: 'exec', commands: [['ls']] });
const getPods = kubernetesRequest('GET pods', {
  verb: 'list',
  apiGroup: '',
  apiVersion: 'v1',
  resource: 'pods',
  namespace: 'default',
});
const getApi = httpRequest('GET /api/x', { method: 'GET', path: '/api/x', headers: [] });

describe('rule order and defaults', () => {
  it('lets the first matching rule decide', () => {
    const e = engine([
      { action: 'deny', sql: { kinds: ['drop'] }, message: 'DROP is not allowed' },
      { action: 'allow', sql: { kinds: ['drop'] } },
    ]);
    expect(decide(e, drop)).toEqual({ action: 'deny', ruleId: 'c#0', message: 'DROP is not allowed' });
  });

  it('evaluates the used rule sets in order, then the connection rules', () => {
    const e = engine(
      [{ action: 'deny' }],
      'allow',
      {
        first: { rules: [{ action: 'review', sql: { kinds: ['drop'] } }] },
        second: { rules: [{ action: 'allow', sql: { kinds: ['read'] } }] },
      },
      ['first', 'second'],
    );
    expect(decide(e, drop).ruleId).toBe('first#0');
    expect(decide(e, select).ruleId).toBe('second#0');
    expect(decide(e, ls).ruleId).toBe('c#0');
  });

  it('falls back to the default action, allow unless configured', () => {
    expect(decide(engine([]), select)).toEqual({ action: 'allow', ruleId: undefined, message: undefined });
    expect(decide(engine([], 'deny'), select)).toMatchObject({ action: 'deny', ruleId: undefined });
    expect(decide(engine([], 'review'), select).action).toBe('review');
  });

  it('uses explicit rule ids and default messages', () => {
    const e = engine([{ id: 'no-drop', action: 'deny', sql: { kinds: ['drop'] } }]);
    expect(decide(e, drop)).toEqual({
      action: 'deny',
      ruleId: 'no-drop',
      message: 'command denied by policy',
    });
  });

  it('denies commands for a connection it does not know', () => {
    const d = engine([]).decide({ connection: 'other', identity: agent, command: select });
    expect(d.action).toBe('deny');
    expect(d.ruleId).toBe('builtin:unknown-connection');
  });
});

describe('protocol matchers', () => {
  const e = engine([
    { action: 'deny', id: 'sql', sql: {} },
    { action: 'review', id: 'ssh', shell: {} },
    { action: 'deny', id: 'k8s', kubernetes: { verbs: ['list'] } },
    { action: 'review', id: 'both', sql: { kinds: ['insert'] }, http: { methods: ['POST'] } },
    { action: 'allow', id: 'any' },
  ]);

  it('never matches a command of another protocol', () => {
    expect(decide(e, select).ruleId).toBe('sql');
    expect(decide(e, ls).ruleId).toBe('ssh');
    expect(decide(e, getPods).ruleId).toBe('k8s');
    expect(decide(e, getApi).ruleId).toBe('any');
  });

  it('lets a rule carry matchers for several protocols', () => {
    const post = httpRequest('POST /x', { method: 'POST', path: '/x', headers: [] });
    expect(decide(e, post).ruleId).toBe('both');
  });

  it('matches a rule without protocol matcher against any command, also of unknown protocols', () => {
    const custom: Command = { protocol: 'test', kind: 'x', text: 'x' };
    expect(decide(e, custom).ruleId).toBe('any');
  });
});

describe('identity conditions', () => {
  const e = engine([
    { id: 'subjects', action: 'deny', subjects: ['mallory', 'eve-*'] },
    { id: 'admins-not-agent-1', action: 'review', groups: ['admins'], notSubjects: ['agent-1'] },
    { id: 'agents-not-admins', action: 'allow', groups: ['agents'], notGroups: ['admins'] },
    { id: 'and', action: 'allow', subjects: ['bob'], groups: ['ops'] },
  ]);
  const who = (subject: string, groups: string[]): Identity => ({ subject, groups, issuer: 't' });

  it.each([
    [stranger, 'subjects'],
    [who('eve-2', ['agents']), 'subjects'],
    [admin, 'admins-not-agent-1'],
    [agent, 'agents-not-admins'],
    [who('agent-1', ['admins', 'agents']), undefined],
    [who('bob', ['ops']), 'and'],
    [who('bob', []), undefined],
    [who('carol', ['ops']), undefined],
  ])('%j → %s', (identity, ruleId) => {
    expect(decide(e, select, identity).ruleId).toBe(ruleId);
  });

  it('matches group globs', () => {
    const g = engine([{ action: 'deny', groups: ['team-*'] }]);
    expect(decide(g, select, who('x', ['team-red'])).action).toBe('deny');
    expect(decide(g, select, who('x', ['teams'])).action).toBe('allow');
  });
});

describe('ssh forwarding', () => {
  const forward = sshCommand('channel', 'direct-tcpip db:5432', {
    channel: 'port-forward',
    destination: 'db:5432',
  });
  const agentFwd = sshCommand('channel', 'agent', { channel: 'agent-forward' });

  it('is denied by default even when the default action is allow', () => {
    const d = decide(engine([{ action: 'allow', groups: ['agents'] }]), forward);
    expect(d).toMatchObject({ action: 'deny', ruleId: 'builtin:ssh-forwarding' });
  });

  it('is allowed by a rule that names the channel', () => {
    const e = engine([
      { action: 'allow', shell: { channels: ['port-forward'], destinations: ['db:5432', '*.internal:443'] } },
    ]);
    expect(decide(e, forward).action).toBe('allow');
    expect(decide(e, agentFwd).ruleId).toBe('builtin:ssh-forwarding');
    const other = sshCommand('channel', 'x', { channel: 'port-forward', destination: 'evil.example:22' });
    expect(decide(e, other).ruleId).toBe('builtin:ssh-forwarding');
  });

  it('is still subject to deny rules without a channel', () => {
    expect(decide(engine([{ action: 'review', subjects: ['agent-1'] }]), forward).action).toBe('review');
  });
});

describe('explainDecision', () => {
  it.each([
    [
      { action: 'deny', ruleId: 'guard#0', message: 'DROP is not allowed' },
      'deny by rule guard#0: DROP is not allowed',
    ],
    [{ action: 'allow', ruleId: undefined, message: undefined }, 'allow by default action'],
    [
      { action: 'deny', ruleId: undefined, message: 'command denied by policy' },
      'deny by default action: command denied by policy',
    ],
    [
      { action: 'deny', ruleId: 'builtin:ssh-forwarding', message: 'no' },
      'deny by built-in rule ssh-forwarding: no',
    ],
  ] as const)('%j', (decision, text) => {
    expect(explainDecision(decision)).toBe(text);
  });
});

describe('robustness', () => {
  it('fails closed when attributes are hostile', () => {
    const hostile = {
      get statements(): never {
        throw new Error('boom');
      },
    };
    const d = decide(engine([]), { protocol: 'postgres', kind: 'query', text: 'x', attributes: hostile });
    expect(d).toMatchObject({ action: 'deny', ruleId: 'builtin:evaluation-failed' });
  });

  it('fails closed on statements nested deeper than it follows', () => {
    let s = sqlStatement('select');
    for (let i = 0; i < 40; i++) s = sqlStatement('select', { nested: [s] });
    expect(decide(engine([]), postgresQuery('x', [s])).ruleId).toBe('builtin:nesting-limit');
  });
});
