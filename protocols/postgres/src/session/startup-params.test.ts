import { describe, expect, it } from 'vitest';
import { checkStartupParameters, parseOptionsParameter, type StartupRules } from './startup-params.js';

const RULES: StartupRules = {
  upstreamUser: 'orders',
  upstreamDatabase: 'shop',
  users: undefined,
  databases: undefined,
  settings: [],
};

const p = (entries: Record<string, string>) =>
  Object.entries(entries).map(([name, value]) => ({ name, value }));

describe('checkStartupParameters', () => {
  it('accepts the configured user and database, passing safe settings and forcing UTF8', () => {
    const d = checkStartupParameters(
      p({
        user: 'orders',
        database: 'shop',
        application_name: 'agent',
        DateStyle: 'ISO',
        client_encoding: 'UTF8',
      }),
      RULES,
    );
    expect(d).toEqual({
      ok: true,
      user: 'orders',
      database: 'shop',
      settings: [
        { name: 'application_name', value: 'agent' },
        { name: 'DateStyle', value: 'ISO' },
        { name: 'client_encoding', value: 'UTF8' },
      ],
      applicationName: 'agent',
      unsupportedOptions: [],
    });
  });

  it('reads a database named like the user (libpq default) as the configured one', () => {
    const d = checkStartupParameters(p({ user: 'orders', database: 'orders' }), RULES);
    expect(d.ok && d.database).toBe('shop');
    const none = checkStartupParameters(p({ user: 'orders' }), RULES);
    expect(none.ok && none.database).toBe('shop');
  });

  it('refuses other databases and roles unless listed', () => {
    expect(checkStartupParameters(p({ user: 'orders', database: 'postgres' }), RULES)).toMatchObject({
      ok: false,
      code: '3D000',
    });
    expect(checkStartupParameters(p({ user: 'postgres', database: 'shop' }), RULES)).toMatchObject({
      ok: false,
      code: '28000',
    });
    expect(checkStartupParameters(p({ database: 'shop' }), RULES)).toMatchObject({
      ok: false,
      code: '28000',
    });
    const wider = { ...RULES, users: ['orders', 'reporting'], databases: ['shop', 'analytics'] };
    expect(checkStartupParameters(p({ user: 'reporting', database: 'analytics' }), wider)).toMatchObject({
      ok: true,
    });
    const any = { ...RULES, users: ['*'], databases: ['*'] };
    expect(checkStartupParameters(p({ user: 'x', database: 'y' }), any)).toMatchObject({
      ok: true,
      user: 'x',
      database: 'y',
    });
  });

  it('lets the client choose the database when the upstream names none', () => {
    const rules = { ...RULES, upstreamDatabase: undefined };
    expect(checkStartupParameters(p({ user: 'orders', database: 'other' }), rules)).toMatchObject({
      ok: true,
      database: 'other',
    });
  });

  it('refuses replication, role changes, string-escape and encoding changes', () => {
    const refused = (params: Record<string, string>, code: string) =>
      expect(checkStartupParameters(p({ user: 'orders', ...params }), RULES)).toMatchObject({
        ok: false,
        code,
      });
    refused({ replication: 'database' }, '0A000');
    refused({ replication: 'true' }, '0A000');
    refused({ role: 'postgres' }, '0A000');
    refused({ session_authorization: 'postgres' }, '0A000');
    refused({ standard_conforming_strings: 'off' }, '0A000');
    refused({ client_encoding: 'SJIS' }, '22023');
    refused({ search_path: 'evil,public' }, '0A000');
    refused({ 'myapp.tenant': '7' }, '0A000');
    expect(checkStartupParameters(p({ user: 'orders', replication: 'false' }), RULES)).toMatchObject({
      ok: true,
    });
    expect(checkStartupParameters(p({ user: 'orders', client_encoding: 'SQL_ASCII' }), RULES)).toMatchObject({
      ok: true,
    });
  });

  it('allows settings listed in options.settings, but never the forbidden ones', () => {
    const rules = { ...RULES, settings: ['search_path', 'role'] };
    expect(checkStartupParameters(p({ user: 'orders', search_path: 'app' }), rules)).toMatchObject({
      ok: true,
    });
    expect(checkStartupParameters(p({ user: 'orders', role: 'admin' }), rules)).toMatchObject({ ok: false });
  });

  it('filters the options parameter like other settings', () => {
    expect(
      checkStartupParameters(
        p({ user: 'orders', options: '-c statement_timeout=5s --lock-timeout=1s' }),
        RULES,
      ),
    ).toMatchObject({
      ok: true,
      settings: [
        { name: 'statement_timeout', value: '5s' },
        { name: 'lock_timeout', value: '1s' },
        { name: 'client_encoding', value: 'UTF8' },
      ],
    });
    expect(checkStartupParameters(p({ user: 'orders', options: '-c role=postgres' }), RULES)).toMatchObject({
      ok: false,
    });
    expect(checkStartupParameters(p({ user: 'orders', options: '-P' }), RULES)).toMatchObject({ ok: false });
  });

  it('lists _pq_ protocol options for NegotiateProtocolVersion', () => {
    const d = checkStartupParameters(p({ user: 'orders', '_pq_.something': '1' }), RULES);
    expect(d).toMatchObject({ ok: true, unsupportedOptions: ['_pq_.something'] });
  });
});

describe('parseOptionsParameter', () => {
  it('splits on spaces with backslash escapes', () => {
    expect(parseOptionsParameter('-c application_name=my\\ app -cDateStyle=ISO')).toEqual({
      ok: true,
      settings: [
        { name: 'application_name', value: 'my app' },
        { name: 'DateStyle', value: 'ISO' },
      ],
    });
    expect(parseOptionsParameter('')).toEqual({ ok: true, settings: [] });
    expect(parseOptionsParameter('-c')).toMatchObject({ ok: false });
    expect(parseOptionsParameter('-c noequals')).toMatchObject({ ok: false });
    expect(parseOptionsParameter('-d 5')).toMatchObject({ ok: false });
  });
});
