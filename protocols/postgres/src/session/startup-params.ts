/**
 * What a client may ask for in its startup packet. The packet's parameters become settings of the
 * upstream session, so they are filtered like commands: a database and a role only within what the
 * connection allows, formatting and timeout settings, and nothing that changes what a backend is
 * (replication) or how it reads SQL (encoding, string escapes): the gateway judges SQL text with
 * its own parser, which assumes UTF-8 and standard-conforming strings, so a client must not be
 * able to make the server read the same bytes differently.
 */

export interface StartupParameter {
  readonly name: string;
  readonly value: string;
}

export interface StartupRules {
  /** The upstream's configured user and database. */
  readonly upstreamUser: string;
  readonly upstreamDatabase: string | undefined;
  /** Allowed roles/databases; `*` allows any. Undefined: see docs (upstream's own only). */
  readonly users: readonly string[] | undefined;
  readonly databases: readonly string[] | undefined;
  /** Settings allowed besides SAFE_SETTINGS (lower case or not). */
  readonly settings: readonly string[];
}

export type StartupDecision =
  | {
      readonly ok: true;
      readonly user: string;
      readonly database: string;
      /** Settings to pass upstream, in the client's order; client_encoding is always UTF8. */
      readonly settings: readonly StartupParameter[];
      readonly applicationName: string | undefined;
      /** `_pq_.` protocol options the gateway does not support (for NegotiateProtocolVersion). */
      readonly unsupportedOptions: readonly string[];
    }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly hint?: string };

/** Settings a client may give at startup: formatting, locale of messages, timeouts. */
export const SAFE_SETTINGS: ReadonlySet<string> = new Set([
  'application_name',
  'datestyle',
  'timezone',
  'intervalstyle',
  'extra_float_digits',
  'bytea_output',
  'lc_messages',
  'lc_monetary',
  'lc_numeric',
  'lc_time',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'idle_session_timeout',
  'default_transaction_isolation',
  'default_transaction_read_only',
  'default_transaction_deferrable',
  'geqo',
  'jit',
  'work_mem',
]);

/**
 * Settings refused even when `options.settings` lists them: they change who statements run as or
 * how the server reads SQL text (so that it would not run what the gateway judged).
 */
export const FORBIDDEN_SETTINGS: ReadonlySet<string> = new Set([
  'role',
  'session_authorization',
  'standard_conforming_strings',
  'backslash_quote',
  'session_replication_role',
  'replication',
  'is_superuser',
]);

const UTF8_NAMES = new Set(['utf8', 'unicode', 'sqlascii', 'auto']);

function utf8Equivalent(value: string): boolean {
  // SQL_ASCII and auto: the client treats bytes as bytes, so UTF-8 serves it unchanged.
  return UTF8_NAMES.has(value.toLowerCase().replace(/[-_\s]/g, ''));
}

export function checkStartupParameters(
  params: readonly StartupParameter[],
  rules: StartupRules,
): StartupDecision {
  const extra = new Set(rules.settings.map((s) => s.toLowerCase()));
  const settings: StartupParameter[] = [];
  const unsupportedOptions: string[] = [];
  let user: string | undefined;
  let database: string | undefined;
  let applicationName: string | undefined;
  const refuse = (code: string, message: string, hint?: string): StartupDecision =>
    hint === undefined ? { ok: false, code, message } : { ok: false, code, message, hint };

  const setting = (name: string, value: string, via: string): StartupDecision | undefined => {
    const key = name.toLowerCase();
    if (key === 'client_encoding') {
      if (!utf8Equivalent(value)) {
        return refuse('22023', `client_encoding "${value}" is not supported through the gateway`, 'use UTF8');
      }
      return undefined;
    }
    if (FORBIDDEN_SETTINGS.has(key)) {
      return refuse('0A000', `setting "${name}" cannot be given ${via} through the gateway`);
    }
    if (!SAFE_SETTINGS.has(key) && !extra.has(key)) {
      return refuse(
        '0A000',
        `setting "${name}" cannot be given ${via} through this connection`,
        "list it in the connection's options.settings to allow it",
      );
    }
    if (key === 'application_name') applicationName = value;
    settings.push({ name, value });
    return undefined;
  };

  for (const p of params) {
    const key = p.name.toLowerCase();
    if (p.name.startsWith('_pq_.')) {
      unsupportedOptions.push(p.name);
      continue;
    }
    if (key === 'user') user = p.value;
    else if (key === 'database') database = p.value;
    else if (key === 'replication') {
      if (!['false', 'off', '0', 'no'].includes(p.value.toLowerCase())) {
        return refuse('0A000', 'replication connections are not supported through the gateway');
      }
    } else if (key === 'options') {
      const parsed = parseOptionsParameter(p.value);
      if (!parsed.ok) return refuse('0A000', parsed.message);
      for (const s of parsed.settings) {
        const refused = setting(s.name, s.value, 'in the options parameter');
        if (refused !== undefined) return refused;
      }
    } else {
      const refused = setting(p.name, p.value, 'at startup');
      if (refused !== undefined) return refused;
    }
  }
  if (user === undefined || user === '') {
    return refuse('28000', 'no PostgreSQL user name specified in startup packet');
  }
  const users = rules.users ?? [rules.upstreamUser];
  if (!users.includes('*') && !users.includes(user)) {
    return refuse(
      '28000',
      `role "${user}" is not available through this connection`,
      `connect as user "${rules.upstreamUser}"`,
    );
  }
  const defaultDatabase = rules.upstreamDatabase ?? user;
  const databases =
    rules.databases ?? (rules.upstreamDatabase === undefined ? ['*'] : [rules.upstreamDatabase]);
  const allowed = (db: string) => databases.includes('*') || databases.includes(db);
  let chosen = database === undefined || database === '' ? defaultDatabase : database;
  // libpq sends the user name as the database when none is given: read that as "the default".
  if (!allowed(chosen) && database === user && allowed(defaultDatabase)) chosen = defaultDatabase;
  if (!allowed(chosen)) {
    return refuse(
      '3D000',
      `database "${chosen}" is not available through this connection`,
      rules.upstreamDatabase === undefined ? undefined : `connect to database "${rules.upstreamDatabase}"`,
    );
  }
  return {
    ok: true,
    user,
    database: chosen,
    settings: [...settings, { name: 'client_encoding', value: 'UTF8' }],
    applicationName,
    unsupportedOptions,
  };
}

/**
 * The `options` startup parameter holds server command-line switches, split on spaces with
 * backslash escapes. Only settings are accepted (`-c name=value`, `-cname=value`,
 * `--name=value`); any other switch (`-d`, `-P`, `-W`, …) is refused.
 */
export function parseOptionsParameter(
  value: string,
): { ok: true; settings: StartupParameter[] } | { ok: false; message: string } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      word += value[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  const settings: StartupParameter[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let assignment: string | undefined;
    if (w === '-c') assignment = words[++i];
    else if (w.startsWith('-c')) assignment = w.slice(2);
    else if (w.startsWith('--')) assignment = w.slice(2);
    else return { ok: false, message: `startup option "${w}" is not allowed through the gateway` };
    const eq = assignment?.indexOf('=') ?? -1;
    if (assignment === undefined || eq <= 0) {
      return { ok: false, message: `startup option "${w}" needs the form name=value` };
    }
    // The server reads dashes in setting names as underscores.
    settings.push({ name: assignment.slice(0, eq).replaceAll('-', '_'), value: assignment.slice(eq + 1) });
  }
  return { ok: true, settings };
}
