import { ConfigError, parseDuration } from '@gatehouse/core';
import { HostKeyPin } from './keys/host-key-pin.js';
import { type PublicKeyInfo, parsePublicKeyLine } from './keys/public-key.js';

/** A client public key the connection binds to an identity (`options.publicKeys[]`). */
export interface PublicKeyBinding {
  readonly key: PublicKeyInfo;
  readonly subject: string;
  readonly groups: readonly string[];
}

/** Per-connection settings from `connection.options`; every one has a safe default. */
export interface SshOptions {
  /** The client must finish the SSH handshake and authenticate within this. */
  readonly handshakeTimeoutMs: number;
  /** Failed authentication attempts (token or key signature) before the gateway disconnects. */
  readonly maxAuthAttempts: number;
  /**
   * Login names a client may ask for; the login name then selects the upstream account. Unset: the
   * login name is recorded but the upstream account is always `upstream.user`.
   */
  readonly allowedUsers: readonly string[] | undefined;
  readonly publicKeys: readonly PublicKeyBinding[];
  /** Keepalive towards the client and towards the upstream; 0 turns it off. */
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
  /** Connecting to and authenticating with the upstream must finish within this. */
  readonly upstreamTimeoutMs: number;
  /**
   * Record what the client types into a pty (shell and exec with `-t`) as `stdin` output events. Off by
   * default: terminal input carries passwords typed at no-echo prompts (sudo, su, ssh), which must
   * not land in the log; what the terminal shows is recorded anyway. Input of channels without a pty
   * (data piped into exec) is always recorded.
   */
  readonly recordTerminalInput: boolean;
  /** Longest interactive line judged; longer lines are refused. */
  readonly maxLineChars: number;
  /**
   * Bytes of each shell/exec channel recorded as output events; past it bytes are only counted
   * (and the truncation noted). `undefined`: no limit (`recordLimitBytes: false`).
   */
  readonly recordLimitBytes: number | undefined;
  /** Leave chacha20-poly1305 and -etm MACs out of the offer (clients without strict kex). */
  readonly terrapinSafeOnly: boolean;
}

export const DEFAULT_SSH_OPTIONS: Omit<SshOptions, 'allowedUsers' | 'publicKeys'> = {
  handshakeTimeoutMs: 10_000,
  maxAuthAttempts: 3,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
  upstreamTimeoutMs: 10_000,
  recordTerminalInput: false,
  maxLineChars: 64 * 1024,
  recordLimitBytes: 4 * 1024 * 1024,
  terrapinSafeOnly: false,
};

const KNOWN_OPTIONS = new Set([
  'handshakeTimeout',
  'handshakeTimeoutMs',
  'maxAuthAttempts',
  'allowedUsers',
  'publicKeys',
  'keepaliveInterval',
  'keepaliveIntervalMs',
  'keepaliveCountMax',
  'upstreamTimeout',
  'upstreamTimeoutMs',
  'recordTerminalInput',
  'maxLineChars',
  'recordLimitBytes',
  'terrapinSafeOnly',
]);

const LOGIN_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads `connection.options`. Settings that decide who gets in (allowedUsers, publicKeys) are
 * checked strictly and a mistake fails the connection with a ConfigError; a bad timeout falls back
 * to its default, since the config loader validates those already.
 */
export function parseSshOptions(options: Readonly<Record<string, unknown>>): SshOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new ConfigError(`options.${key}: unknown SSH option`, { path: `options.${key}` });
    }
  }
  // The text form first: the gateway fills `handshakeTimeoutMs` from `limits.handshakeTimeout`, and
  // a connection's own `handshakeTimeout: 3s` must win over that.
  const ms = (
    key: 'handshakeTimeout' | 'keepaliveInterval' | 'upstreamTimeout',
    allowZero = false,
  ): number => {
    const ok = (v: unknown): v is number =>
      typeof v === 'number' && Number.isFinite(v) && (v > 0 || (allowZero && v === 0));
    const text = options[key];
    const parsed = typeof text === 'string' ? parseDuration(text) : undefined;
    if (ok(parsed)) return parsed;
    const n = options[`${key}Ms`];
    if (ok(n)) return n;
    return DEFAULT_SSH_OPTIONS[`${key}Ms`];
  };
  const int = (key: 'maxAuthAttempts' | 'keepaliveCountMax' | 'maxLineChars', min: number): number => {
    const n = options[key];
    return typeof n === 'number' && Number.isInteger(n) && n >= min ? n : DEFAULT_SSH_OPTIONS[key];
  };
  const bool = (key: 'recordTerminalInput' | 'terrapinSafeOnly'): boolean => {
    const v = options[key];
    return typeof v === 'boolean' ? v : DEFAULT_SSH_OPTIONS[key];
  };
  return {
    handshakeTimeoutMs: ms('handshakeTimeout'),
    maxAuthAttempts: int('maxAuthAttempts', 1),
    allowedUsers: parseAllowedUsers(options['allowedUsers']),
    publicKeys: parsePublicKeys(options['publicKeys']),
    keepaliveIntervalMs: ms('keepaliveInterval', true),
    keepaliveCountMax: int('keepaliveCountMax', 1),
    upstreamTimeoutMs: ms('upstreamTimeout'),
    recordTerminalInput: bool('recordTerminalInput'),
    maxLineChars: int('maxLineChars', 16),
    recordLimitBytes: recordLimit(options['recordLimitBytes']),
    terrapinSafeOnly: bool('terrapinSafeOnly'),
  };
}

function recordLimit(raw: unknown): number | undefined {
  if (raw === false) return undefined;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return raw;
  return DEFAULT_SSH_OPTIONS.recordLimitBytes;
}

function parseAllowedUsers(raw: unknown): readonly string[] | undefined {
  if (raw === undefined) return undefined;
  const path = 'options.allowedUsers';
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(`${path}: expected a non-empty list of login names`, { path });
  }
  return raw.map((name, i) => {
    if (typeof name !== 'string' || !LOGIN_NAME.test(name)) {
      throw new ConfigError(`${path}[${i}]: ${JSON.stringify(name)} is not a valid login name`, {
        path: `${path}[${i}]`,
      });
    }
    return name;
  });
}

function parsePublicKeys(raw: unknown): readonly PublicKeyBinding[] {
  if (raw === undefined) return [];
  const path = 'options.publicKeys';
  if (!Array.isArray(raw)) throw new ConfigError(`${path}: expected a list`, { path });
  const seen = new Set<string>();
  return raw.map((entry: unknown, i): PublicKeyBinding => {
    const at = `${path}[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`${at}: expected { key, subject, groups }`, { path: at });
    }
    const { key, subject, groups, ...rest } = entry as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new ConfigError(`${at}.${extra}: unknown key`, { path: `${at}.${extra}` });
    if (typeof key !== 'string') throw new ConfigError(`${at}.key: expected a public key line`, { path: at });
    const parsed = parsePublicKeyLine(key);
    if (typeof parsed === 'string') throw new ConfigError(`${at}.key: ${parsed}`, { path: `${at}.key` });
    if (seen.has(parsed.fingerprint)) {
      throw new ConfigError(`${at}.key: the key ${parsed.fingerprint} is bound twice`, { path: `${at}.key` });
    }
    seen.add(parsed.fingerprint);
    if (typeof subject !== 'string' || subject.trim() === '') {
      throw new ConfigError(`${at}.subject: expected the subject the key stands for`, {
        path: `${at}.subject`,
      });
    }
    if (groups !== undefined && (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string'))) {
      throw new ConfigError(`${at}.groups: expected a list of group names`, { path: `${at}.groups` });
    }
    return { key: parsed, subject, groups: (groups as string[] | undefined) ?? [] };
  });
}

/** The upstream sshd and the gateway-held credential for it. */
export interface SshUpstream {
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly privateKey: string | undefined;
  readonly hostKey: HostKeyPin;
}

export function parseSshUpstream(upstream: Readonly<Record<string, unknown>>): SshUpstream {
  const { host, port, user, password, privateKey, hostKey } = upstream;
  if (typeof host !== 'string' || host === '') {
    throw new ConfigError('upstream.host: expected a host name or address', { path: 'upstream.host' });
  }
  const portNumber = port ?? 22;
  if (
    typeof portNumber !== 'number' ||
    !Number.isInteger(portNumber) ||
    portNumber < 1 ||
    portNumber > 65535
  ) {
    throw new ConfigError('upstream.port: expected a port number', { path: 'upstream.port' });
  }
  const optionalString = (value: unknown, key: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value === '') {
      throw new ConfigError(`upstream.${key}: expected a non-empty string`, { path: `upstream.${key}` });
    }
    return value;
  };
  const pw = optionalString(password, 'password');
  const key = optionalString(privateKey, 'privateKey');
  if (pw === undefined && key === undefined) {
    throw new ConfigError('upstream: the gateway needs a privateKey or a password for the upstream', {
      path: 'upstream',
    });
  }
  if (typeof hostKey !== 'string') {
    throw new ConfigError('upstream.hostKey: the upstream host key must be pinned', {
      path: 'upstream.hostKey',
    });
  }
  return {
    host,
    port: portNumber,
    user: optionalString(user, 'user'),
    password: pw,
    privateKey: key,
    hostKey: HostKeyPin.parse(hostKey),
  };
}

/**
 * Which upstream account a login name maps to. With `allowedUsers`, the login name must be one of
 * them and is used as is; without, the login name only labels the session and `upstream.user` is
 * always used. Returns a reason when the login is refused.
 */
export function upstreamAccount(
  login: string,
  options: Pick<SshOptions, 'allowedUsers'>,
  upstream: Pick<SshUpstream, 'user'>,
): { user: string } | { refused: string } {
  if (options.allowedUsers !== undefined) {
    if (options.allowedUsers.includes(login)) return { user: login };
    return { refused: `login name "${login}" is not allowed on this connection` };
  }
  if (upstream.user !== undefined) return { user: upstream.user };
  return { refused: 'the connection names no upstream user (set upstream.user or options.allowedUsers)' };
}

/**
 * Checks an ssh connection's `options` and `upstream` as the module will read them, so that the
 * gateway can fail at start (naming the key) rather than at the first client. Throws a ConfigError.
 */
export function checkSshConnection(settings: {
  readonly options: Readonly<Record<string, unknown>>;
  readonly upstream: Readonly<Record<string, unknown>>;
}): void {
  parseSshOptions(settings.options);
  parseSshUpstream(settings.upstream);
}
