import { randomBytes } from 'node:crypto';
import {
  type Command,
  type CommandTicket,
  type GatewayError,
  ProtocolError,
  toGatewayError,
} from '@gatehouse/core';
import { type SqlStatementFacts, sqlStatement } from '@gatehouse/policy';
import { NO_EXTRAS, type SqlAnalysis, type SqlAnalyzer, type SqlExtras } from '../sql/index.js';
import {
  type Bind,
  type Close,
  type Describe,
  type Execute,
  encodeFrontendMessage,
  type FrontendMessage,
  type FunctionCall,
  type Parse,
  type Query,
} from '../wire/index.js';
import type { PostgresOptions } from './options.js';
import { boundParameters } from './parameters.js';
import { Queue, ResultRun } from './pending.js';
import { candidateFacts, type Portal, type PreparedCandidate } from './prepared.js';
import type { RelayState } from './relay-state.js';
import { analysisError, refusalError, SqlState, sqlError } from './sql-state.js';

export interface FrontendRelayDeps {
  readonly state: RelayState;
  readonly analyzer: SqlAnalyzer;
  readonly options: PostgresOptions;
  /** Aborts when the client is gone or the gateway stops serving: cancels held reviews. */
  readonly signal: AbortSignal;
  /** The client asked to end the session (Terminate). */
  readonly onTerminate: () => void;
  /** A failure that ends the connection. */
  readonly onFatal: (error: GatewayError) => void;
}

/** Queued client bytes above which the client socket is paused while a statement is held. */
const QUEUE_HIGH_WATER = 1024 * 1024;

/**
 * The client → upstream direction. Messages are handled strictly in order: a statement is judged
 * (and its command committed to the session log) before it is forwarded, and while a judgement is
 * pending — a log commit, a review — nothing after it moves. Messages that need no judgement are
 * forwarded as the bytes received, batched into one write per chunk.
 */
export class FrontendRelay {
  readonly #deps: FrontendRelayDeps;
  readonly #state: RelayState;
  readonly #queue = new Queue<FrontendMessage>();
  #queuedBytes = 0;
  #running = false;
  #stopped = false;
  /** After a refused extended-protocol message: drop everything until Sync, as PostgreSQL does. */
  #discarding = false;
  /** Something of the current extended-protocol batch (since the last Sync) went upstream. */
  #batchForwarded = false;
  #pausedForQueue = false;
  #pausedForUpstream = false;
  #lastRun: ResultRun | undefined;
  /** Sent upstream to make it fail a batch: a Parse that cannot parse, into a name nobody knows. */
  readonly #failBatch: Buffer;

  constructor(deps: FrontendRelayDeps) {
    this.#deps = deps;
    this.#state = deps.state;
    this.#failBatch = encodeFrontendMessage({
      type: 'Parse',
      statement: `gatehouse_refused_${randomBytes(16).toString('hex')}`,
      query: 'gatehouse refused this statement',
      paramTypes: [],
    });
  }

  /** Messages decoded from one client chunk. */
  push(messages: readonly FrontendMessage[]): void {
    if (this.#stopped) return;
    for (const m of messages) {
      this.#queue.push(m);
      this.#queuedBytes += m.raw.length;
    }
    if (!this.#running) void this.#run();
    else if (this.#queuedBytes > QUEUE_HIGH_WATER && !this.#pausedForQueue) {
      this.#pausedForQueue = true;
      this.#state.client.pause();
    }
  }

  /** Stops handling client messages (the connection is closing). */
  stop(): void {
    this.#stopped = true;
    this.#queue.clear();
  }

  /** True while nothing is queued or being judged. */
  get idle(): boolean {
    return !this.#running && this.#queue.length === 0;
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      for (let m = this.#queue.shift(); m !== undefined && !this.#stopped; m = this.#queue.shift()) {
        this.#queuedBytes -= m.raw.length;
        const wait = this.#handle(m);
        if (wait !== undefined) {
          this.#flush();
          await wait;
        }
      }
    } catch (err) {
      this.#deps.onFatal(toGatewayError(err));
    } finally {
      this.#running = false;
      this.#flush();
      if (this.#pausedForQueue) {
        this.#pausedForQueue = false;
        this.#resumeClient();
      }
    }
  }

  #handle(m: FrontendMessage): Promise<void> | undefined {
    if (this.#discarding) {
      if (m.type === 'Sync') this.#endRefusedBatch();
      else if (m.type === 'Terminate') this.#terminate(m.raw);
      return undefined;
    }
    switch (m.type) {
      case 'Query':
        return this.#query(m);
      case 'Parse':
        return this.#parse(m);
      case 'Bind':
        this.#bind(m);
        return undefined;
      case 'Describe':
        this.#describe(m);
        return undefined;
      case 'Execute':
        return this.#execute(m);
      case 'Close':
        this.#close(m);
        return undefined;
      case 'Sync':
        this.#send(m.raw);
        this.#state.expect({ kind: 'sync' });
        this.#batchForwarded = false;
        return undefined;
      case 'Flush':
        this.#send(m.raw);
        return undefined;
      case 'CopyData':
      case 'CopyDone':
      case 'CopyFail':
        // PostgreSQL ignores these outside COPY FROM STDIN, so they need no state here.
        if (this.#lastRun !== undefined && m.type === 'CopyData') this.#lastRun.copyInBytes += m.data.length;
        this.#send(m.raw);
        return undefined;
      case 'FunctionCall':
        return this.#functionCall(m);
      case 'Terminate':
        this.#terminate(m.raw);
        return undefined;
      default:
        throw new ProtocolError(`unexpected ${m.type} message after the connection start`);
    }
  }

  // Simple Query --------------------------------------------------------------------------------

  #query(m: Query): Promise<void> | undefined {
    this.#batchForwarded = false;
    const analysis = this.#deps.analyzer.analyze(m.query);
    if (!analysis.ok) {
      this.#noteUnparsable(analysis);
      this.#refuseSimple(analysisError(analysis.code, analysis.error, analysis.position));
      return undefined;
    }
    const extras = analysis.extras ?? NO_EXTRAS;
    const plan = this.#plan(analysis, extras);
    if (typeof plan === 'string') {
      this.#refuseSimple(sqlError(SqlState.FeatureNotSupported, plan));
      return undefined;
    }
    const command = query(analysis.redactedText, plan.statements);
    return this.#judge(command, analysis.secrets).then(
      (ticket) => {
        const run = new ResultRun(
          ticket,
          analysis.redactedText,
          analysis.shape,
          plan.statements,
          extras,
          undefined,
        );
        run.preparedCandidates = this.#definePrepared(extras, plan.statements);
        this.#send(m.raw);
        // A simple Query destroys the unnamed prepared statement.
        this.#state.prepared.dropUnnamed();
        this.#expectRun({ kind: 'query', run });
      },
      (err: unknown) => this.#refuseSimple(refusalError(toGatewayError(err))),
    );
  }

  #refuseSimple(error: Buffer): void {
    this.#state.expect({ kind: 'reply', bytes: error });
    this.#state.expect({ kind: 'reply', bytes: 'ready' });
  }

  // Extended protocol ---------------------------------------------------------------------------

  #parse(m: Parse): Promise<void> | undefined {
    const analysis = this.#deps.analyzer.analyze(m.query);
    if (!analysis.ok) {
      this.#noteUnparsable(analysis);
      this.#refuseExtended(analysisError(analysis.code, analysis.error, analysis.position));
      return undefined;
    }
    const extras = analysis.extras ?? NO_EXTRAS;
    const plan = this.#plan(analysis, extras);
    if (typeof plan === 'string') {
      this.#refuseExtended(sqlError(SqlState.FeatureNotSupported, plan));
      return undefined;
    }
    const command = query(analysis.redactedText, plan.statements, {
      message: 'Parse',
      statement: m.statement,
    });
    return this.#judge(command, analysis.secrets).then(
      (ticket) => {
        const candidate: PreparedCandidate = {
          text: analysis.redactedText,
          shape: analysis.shape,
          statements: plan.statements,
          ticket,
          extras: extras === NO_EXTRAS ? undefined : extras,
        };
        this.#state.prepared.define(m.statement, candidate);
        this.#forwardBatch(m.raw);
        this.#state.expect({ kind: 'parse', name: m.statement, candidate });
      },
      (err: unknown) => this.#refuseExtended(refusalError(toGatewayError(err))),
    );
  }

  #bind(m: Bind): void {
    const portal: Portal = {
      name: m.portal,
      statement: m.statement,
      candidates: this.#state.prepared.lookup(m.statement),
      params: m.params,
      paramFormats: m.paramFormats,
      fields: undefined,
      ticket: undefined,
      described: false,
    };
    this.#state.portals.set(m.portal, portal);
    this.#forwardBatch(m.raw);
    this.#state.expect({ kind: 'bind' });
  }

  #describe(m: Describe): void {
    const portal = m.target === 'portal' ? this.#state.portals.get(m.name) : undefined;
    if (portal !== undefined) portal.described = true;
    this.#forwardBatch(m.raw);
    this.#state.expect({ kind: 'describe', portal, internal: false });
  }

  #close(m: Close): void {
    this.#forwardBatch(m.raw);
    this.#state.expect({ kind: 'close', target: m.target, name: m.name });
  }

  #execute(m: Execute): Promise<void> | undefined {
    const portal = this.#state.portals.get(m.portal);
    // Another Execute of a suspended portal fetches more rows of the same run.
    if (portal?.ticket !== undefined) {
      this.#forwardExecute(m, portal, portal.ticket);
      return undefined;
    }
    const candidates = portal?.candidates ?? [];
    const only = candidates.length === 1 ? candidates[0] : undefined;
    if (portal !== undefined && only?.ticket !== undefined) {
      // The first run of a statement is the one judged when it was parsed.
      portal.ticket = only.ticket;
      only.ticket = undefined;
      this.#forwardExecute(m, portal, portal.ticket);
      return undefined;
    }
    // Run again later, under a name: judged again, as strictly as the first time.
    const known = candidates.length > 0;
    const statements = known ? candidateFacts(candidates) : [sqlStatement('fetch')];
    const text = known
      ? [...new Set(candidates.map((c) => c.text))].join(';\n')
      : `FETCH ALL FROM "${m.portal}"`;
    const command = query(text, statements, {
      message: 'Execute',
      portal: m.portal,
      ...(portal === undefined ? {} : { statement: portal.statement }),
    });
    return this.#judge(command, []).then(
      (ticket) => {
        if (portal !== undefined) portal.ticket = ticket;
        this.#forwardExecute(m, portal, ticket);
      },
      (err: unknown) => this.#refuseExtended(refusalError(toGatewayError(err))),
    );
  }

  #forwardExecute(m: Execute, portal: Portal | undefined, ticket: CommandTicket): void {
    const candidate = portal?.candidates.length === 1 ? portal.candidates[0] : undefined;
    const data =
      portal === undefined
        ? { portal: m.portal }
        : {
            statement: portal.statement,
            portal: portal.name,
            ...(portal.params.length === 0
              ? {}
              : { params: boundParameters(portal.params, portal.paramFormats, this.#state.session) }),
          };
    const run = new ResultRun(
      ticket,
      candidate?.text,
      candidate?.shape,
      candidate?.statements,
      candidate?.extras,
      data,
    );
    if (candidate?.extras !== undefined) {
      run.preparedCandidates = this.#definePrepared(candidate.extras, candidate.statements);
    }
    if (portal !== undefined && !portal.described) {
      // The result filter must know the columns (and their formats) of what it relays.
      portal.described = true;
      this.#forwardBatch(encodeFrontendMessage({ type: 'Describe', target: 'portal', name: portal.name }));
      this.#state.expect({ kind: 'describe', portal, internal: true });
    }
    this.#forwardBatch(m.raw);
    this.#expectRun({ kind: 'execute', run, portal });
  }

  /**
   * Refuses a message of an extended-protocol batch. When nothing of the batch went upstream the
   * gateway answers alone; otherwise the upstream is made to fail the batch too (a Parse that
   * cannot parse), so that what already ran in it is rolled back exactly as an error would, and
   * its error is replaced by the refusal. Then everything up to Sync is dropped.
   */
  #refuseExtended(error: Buffer): void {
    if (this.#batchForwarded) {
      this.#send(this.#failBatch);
      this.#state.expect({ kind: 'swallow-error', replacement: error });
    } else {
      this.#state.expect({ kind: 'reply', bytes: error });
    }
    this.#discarding = true;
  }

  #endRefusedBatch(): void {
    this.#discarding = false;
    if (this.#batchForwarded) {
      this.#send(encodeFrontendMessage({ type: 'Sync' }));
      this.#state.expect({ kind: 'sync' });
    } else {
      this.#state.expect({ kind: 'reply', bytes: 'ready' });
    }
    this.#batchForwarded = false;
  }

  // Other messages ------------------------------------------------------------------------------

  #functionCall(m: FunctionCall): Promise<void> | undefined {
    this.#batchForwarded = false;
    if (!this.#deps.options.allowFunctionCall) {
      this.#state.session
        .annotate({ refused: 'function-call', functionOid: m.functionOid })
        .catch(() => undefined);
      this.#refuseSimple(
        sqlError(
          SqlState.InsufficientPrivilege,
          'FunctionCall messages (the fast-path interface) are not allowed through the gateway',
          { hint: 'call the function in a SQL statement instead' },
        ),
      );
      return undefined;
    }
    const statements = [sqlStatement('unknown', { functions: [`oid:${m.functionOid}`] })];
    const command: Command = {
      protocol: 'postgres',
      kind: 'function-call',
      text: `FunctionCall oid ${m.functionOid}`,
      attributes: { statements, functionOid: m.functionOid },
    };
    return this.#judge(command, []).then(
      (ticket) => {
        this.#send(m.raw);
        this.#expectRun({
          kind: 'query',
          run: new ResultRun(ticket, undefined, undefined, statements, undefined, undefined),
        });
      },
      (err: unknown) => this.#refuseSimple(refusalError(toGatewayError(err))),
    );
  }

  #terminate(raw: Buffer): void {
    this.#send(raw);
    this.#flush();
    this.stop();
    this.#deps.onTerminate();
  }

  // Helpers ---------------------------------------------------------------------------------------

  #judge(command: Command, secrets: readonly string[]): Promise<CommandTicket> {
    const { session } = this.#state;
    return session.execute(command, secrets, this.#deps.signal);
  }

  /**
   * The statements to judge: EXECUTE of a prepared statement carries what that statement may be
   * (nested, judged on its own). A string is a refusal.
   */
  #plan(
    analysis: SqlAnalysis & { ok: true },
    extras: SqlExtras,
  ): { statements: readonly SqlStatementFacts[] } | string {
    if (extras.refusal !== undefined) return extras.refusal;
    if (extras.executes.length === 0) return { statements: analysis.statements };
    const statements = [...analysis.statements];
    for (const { index, names } of extras.executes) {
      const target = statements[index];
      if (target === undefined) continue;
      const nested: SqlStatementFacts[] = [...(target.nested ?? [])];
      for (const name of names) {
        const local = extras.prepares
          .filter((p) => p.name === name)
          .flatMap((p) => preparedFacts(analysis.statements[p.index]));
        const known = candidateFacts(this.#state.prepared.lookup(name));
        if (local.length === 0 && known.length === 0) {
          return `prepared statement "${name}" was not prepared through the gateway, so it cannot be judged`;
        }
        nested.push(...local, ...known);
      }
      statements[index] = { ...target, nested };
    }
    return { statements };
  }

  /** Records the definitions of SQL PREPAREs that are about to run. */
  #definePrepared(
    extras: SqlExtras | undefined,
    statements: readonly SqlStatementFacts[],
  ): Map<number, PreparedCandidate> | undefined {
    if (extras === undefined || extras.prepares.length === 0) return undefined;
    const out = new Map<number, PreparedCandidate>();
    for (const p of extras.prepares) {
      const facts = preparedFacts(statements[p.index]);
      const candidate: PreparedCandidate = {
        text: `(PREPARE ${p.name})`,
        shape: undefined,
        statements: facts,
        ticket: undefined,
        extras: undefined,
      };
      this.#state.prepared.define(p.name, candidate);
      out.set(p.index, candidate);
    }
    return out;
  }

  #noteUnparsable(analysis: SqlAnalysis & { ok: false }): void {
    // The text itself is not logged: it could not be searched for secrets.
    this.#state.session
      .annotate({ refused: 'unparsable-statement', code: analysis.code, error: analysis.error })
      .catch(() => undefined);
  }

  #expectRun(
    item: { kind: 'query'; run: ResultRun } | { kind: 'execute'; run: ResultRun; portal: Portal | undefined },
  ): void {
    this.#lastRun = item.run;
    this.#state.expect(item);
  }

  #forwardBatch(raw: Buffer): void {
    this.#batchForwarded = true;
    this.#send(raw);
  }

  #send(raw: Buffer): void {
    this.#state.upstreamOut.push(raw);
  }

  #flush(): void {
    const state = this.#state;
    if (!state.upstreamOut.empty && !state.upstreamOut.flush(state.upstream) && !this.#pausedForUpstream) {
      this.#pausedForUpstream = true;
      state.client.pause();
      state.upstream.once('drain', () => {
        this.#pausedForUpstream = false;
        this.#resumeClient();
      });
    }
    state.flushClient();
  }

  #resumeClient(): void {
    if (!this.#pausedForQueue && !this.#pausedForUpstream && !this.#stopped) this.#state.client.resume();
  }
}

function query(
  text: string,
  statements: readonly SqlStatementFacts[],
  extra?: Record<string, unknown>,
): Command {
  return {
    protocol: 'postgres',
    kind: 'query',
    text,
    attributes: extra === undefined ? { statements } : { statements, ...extra },
  };
}

/** The statement a PREPARE defines (the analyzer nests it), or an unknown one if it could not. */
function preparedFacts(prepare: SqlStatementFacts | undefined): SqlStatementFacts[] {
  const nested = prepare?.nested ?? [];
  return nested.length > 0 ? [...nested] : [sqlStatement('unknown')];
}
