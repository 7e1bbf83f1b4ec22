import {
  type GatewaySession,
  type Identity,
  isGatewayError,
  type Logger,
  toGatewayError,
} from '@gatehouse/core';
import type { AuthContext, AuthenticationType, KeyboardAuthContext, PublicKeyAuthContext } from 'ssh2';
import { fingerprintOf } from './keys/public-key.js';
import { type PublicKeyBinding, type SshOptions, type SshUpstream, upstreamAccount } from './options.js';

/**
 * What the gateway session offers beyond token authentication, when it offers it. Publickey logins
 * need the session to take an identity that no token proves (the connection config binds the key
 * to it) and to log failures that are not token failures. Until the session implements these, keys
 * are not offered and such failures are logged as notes.
 */
export interface KeyAuthSession {
  authenticateKey(
    key: { readonly subject: string; readonly groups: readonly string[]; readonly fingerprint: string },
    details: { readonly method: 'publickey'; readonly user?: string },
  ): Promise<Identity>;
}
export interface AuthFailureSession {
  authFailed(details: {
    readonly method: string;
    readonly user?: string;
    readonly reason: string;
    readonly fingerprint?: string;
  }): Promise<void>;
}

export interface AuthSuccess {
  readonly identity: Identity;
  readonly method: 'password' | 'keyboard-interactive' | 'publickey';
  /** The login name the client gave. */
  readonly login: string;
  /** The upstream account the session runs as. */
  readonly upstreamUser: string;
}

export interface ClientAuthDeps {
  readonly session: GatewaySession;
  readonly options: SshOptions;
  readonly upstream: SshUpstream;
  readonly logger: Logger;
  /** Called once the attempts are used up (after the last failure was reported and logged). */
  readonly onExhausted: (reason: string) => void;
}

const TOKEN_PROMPT = 'Gatehouse token: ';
const TITLE = 'Gatehouse';
/** Every request counts here, also key offers and `none`; a client that keeps asking is cut off. */
const MAX_AUTH_REQUESTS = 40;

/**
 * Decides the client's SSH authentication requests. The token comes as the password or as the
 * answer to a keyboard-interactive prompt and is verified (and logged) by the gateway session;
 * public keys bound in the connection config authenticate only with a valid signature.
 */
export class ClientAuth {
  readonly #deps: ClientAuthDeps;
  #attempts = 0;
  #requests = 0;
  #done = false;
  #success: AuthSuccess | undefined;

  constructor(deps: ClientAuthDeps) {
    this.#deps = deps;
  }

  get success(): AuthSuccess | undefined {
    return this.#success;
  }

  get attempts(): number {
    return this.#attempts;
  }

  /** Methods the client may try; publickey only when the connection binds keys and the session can take them. */
  methods(): AuthenticationType[] {
    const methods: AuthenticationType[] = [];
    if (this.#deps.options.publicKeys.length > 0 && keyAuthOf(this.#deps.session) !== undefined) {
      methods.push('publickey');
    }
    methods.push('keyboard-interactive', 'password');
    return methods;
  }

  handle(ctx: AuthContext): void {
    if (this.#done) {
      ctx.reject();
      return;
    }
    this.#requests++;
    if (this.#requests > MAX_AUTH_REQUESTS) {
      this.#exhaust(ctx, `more than ${MAX_AUTH_REQUESTS} authentication requests`);
      return;
    }
    this.#dispatch(ctx).catch((err: unknown) => {
      this.#deps.logger.error({ err: toGatewayError(err).message }, 'ssh authentication handling failed');
      ctx.reject(this.methods());
    });
  }

  async #dispatch(ctx: AuthContext): Promise<void> {
    switch (ctx.method) {
      case 'password':
        await this.#token(ctx, ctx.password, 'password');
        return;
      case 'keyboard-interactive':
        await this.#keyboard(ctx);
        return;
      case 'publickey':
        await this.#publicKey(ctx);
        return;
      default:
        ctx.reject(this.methods());
    }
  }

  async #keyboard(ctx: KeyboardAuthContext): Promise<void> {
    // Quiet on the first round (clients print the title and instructions); reasons on later ones.
    let title = '';
    let instructions = '';
    for (;;) {
      const answers = await new Promise<string[] | Error>((resolve) =>
        ctx.prompt([{ prompt: TOKEN_PROMPT, echo: false }], title, instructions, (a) =>
          resolve(a as string[] | Error),
        ),
      );
      // Aborted: the client moved on to another request, which ssh2 hands us separately.
      if (answers instanceof Error) return;
      const outcome = await this.#verify(ctx, answers[0] ?? '', 'keyboard-interactive');
      if (outcome === undefined) return;
      if (this.#done) {
        // Out of attempts: say why (shown by the client), then refuse.
        ctx.prompt([], TITLE, `Authentication failed: ${outcome}. No attempts left.`, () =>
          this.#finish(ctx, outcome),
        );
        return;
      }
      title = TITLE;
      instructions = `Authentication failed: ${outcome}. Try again.`;
    }
  }

  async #token(ctx: AuthContext, token: string, method: 'password'): Promise<void> {
    const outcome = await this.#verify(ctx, token, method);
    if (outcome === undefined) return;
    if (this.#done) this.#finish(ctx, outcome);
    else ctx.reject(this.methods());
  }

  /** Resolves undefined when the context was accepted, or the failure reason. */
  async #verify(
    ctx: AuthContext,
    token: string,
    method: 'password' | 'keyboard-interactive',
  ): Promise<string | undefined> {
    const { session } = this.#deps;
    const account = upstreamAccount(ctx.username, this.#deps.options, this.#deps.upstream);
    if ('refused' in account) {
      await this.#logFailure({ method, user: ctx.username, reason: account.refused });
      return this.#failed(account.refused);
    }
    try {
      const identity = await session.authenticate(token, { method, user: ctx.username });
      this.#succeed(ctx, { identity, method, login: ctx.username, upstreamUser: account.user });
      return undefined;
    } catch (err) {
      // Logged by the session (without the token).
      const reason = isGatewayError(err) ? err.message : 'token verification failed';
      // OpenSSH's askpass and password prompts send nothing at all for input over 1022 characters.
      const hint =
        token === '' ? ' (no token arrived; OpenSSH drops tokens longer than 1022 characters)' : '';
      return this.#failed(`${reason}${hint}`);
    }
  }

  async #publicKey(ctx: PublicKeyAuthContext): Promise<void> {
    const keyAuth = keyAuthOf(this.#deps.session);
    const binding = keyAuth === undefined ? undefined : this.#binding(ctx.key.data);
    if (keyAuth === undefined) {
      ctx.reject(this.methods());
      return;
    }
    if (binding === undefined) {
      // An unknown key is an ordinary miss (clients offer every key they have): no attempt used,
      // but logged with its fingerprint, as sshd logs "Failed publickey".
      await this.#logFailure({
        method: 'publickey',
        user: ctx.username,
        reason: 'the key is not bound on this connection',
        fingerprint: fingerprintOf(ctx.key.data),
      });
      ctx.reject(this.methods());
      return;
    }
    const fingerprint = binding.key.fingerprint;
    if (ctx.signature === undefined || ctx.blob === undefined) {
      // "Would this key do?" — yes; nobody is authenticated until a signature proves possession.
      ctx.accept();
      return;
    }
    const account = upstreamAccount(ctx.username, this.#deps.options, this.#deps.upstream);
    let reason: string | undefined;
    if ('refused' in account) reason = account.refused;
    else if (binding.key.type === 'ssh-rsa' && ctx.key.algo === 'ssh-rsa') {
      reason = 'RSA signatures with SHA-1 (ssh-rsa) are not accepted';
    } else if (!verifySignature(binding, ctx)) reason = `the signature for key ${fingerprint} is not valid`;
    if (reason !== undefined || 'refused' in account) {
      const why = reason ?? 'refused';
      await this.#logFailure({ method: 'publickey', user: ctx.username, reason: why, fingerprint });
      const outcome = this.#failed(why);
      if (this.#done) this.#finish(ctx, outcome);
      else ctx.reject(this.methods());
      return;
    }
    try {
      const identity = await keyAuth.authenticateKey(
        { subject: binding.subject, groups: binding.groups, fingerprint },
        { method: 'publickey', user: ctx.username },
      );
      this.#succeed(ctx, { identity, method: 'publickey', login: ctx.username, upstreamUser: account.user });
    } catch (err) {
      const outcome = this.#failed(isGatewayError(err) ? err.message : 'key authentication failed');
      if (this.#done) this.#finish(ctx, outcome);
      else ctx.reject(this.methods());
    }
  }

  #binding(blob: Buffer): PublicKeyBinding | undefined {
    return this.#deps.options.publicKeys.find((b) => b.key.blob.equals(blob));
  }

  #succeed(ctx: AuthContext, success: AuthSuccess): void {
    if (this.#done) {
      ctx.reject();
      return;
    }
    this.#done = true;
    this.#success = success;
    ctx.accept();
  }

  /** Counts a failed attempt; returns the reason. Marks the authenticator done when none are left. */
  #failed(reason: string): string {
    this.#attempts++;
    if (this.#attempts >= this.#deps.options.maxAuthAttempts) this.#done = true;
    return reason;
  }

  #finish(ctx: AuthContext, reason: string): void {
    ctx.reject([]);
    this.#deps.onExhausted(`authentication failed ${this.#attempts} times; last reason: ${reason}`);
  }

  #exhaust(ctx: AuthContext, reason: string): void {
    this.#done = true;
    ctx.reject([]);
    this.#deps.onExhausted(reason);
  }

  async #logFailure(details: Parameters<AuthFailureSession['authFailed']>[0]): Promise<void> {
    const session = this.#deps.session as GatewaySession & Partial<AuthFailureSession>;
    try {
      if (typeof session.authFailed === 'function') await session.authFailed(details);
      else await session.annotate({ auth: 'failure', ...details });
    } catch (err) {
      this.#deps.logger.warn({ err: toGatewayError(err).message }, 'ssh auth failure could not be logged');
    }
  }
}

function keyAuthOf(session: GatewaySession): KeyAuthSession | undefined {
  const candidate = session as GatewaySession & Partial<KeyAuthSession>;
  return typeof candidate.authenticateKey === 'function'
    ? (candidate as unknown as KeyAuthSession)
    : undefined;
}

function verifySignature(binding: PublicKeyBinding, ctx: PublicKeyAuthContext): boolean {
  if (ctx.signature === undefined || ctx.blob === undefined) return false;
  try {
    return binding.key.parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
  } catch {
    return false;
  }
}
