/**
 * The real PostgreSQL parser (libpg-query 18, WebAssembly), owned by us rather than through
 * libpg-query's module-level wrapper, for one reason: a hostile statement can blow the JavaScript
 * stack inside the WASM code (a long `NOT NOT …` chain does it at ~7,000 levels). The exception
 * unwinds through the C code, so the parser's memory context is never released (~10 MB a time)
 * and, after a few dozen such statements, the module runs out of memory and aborts — taking the
 * gateway with it. libpg-query's wrapper keeps one instance for the life of the process; here an
 * instance that threw is thrown away and a standby instance takes over synchronously, while a new
 * standby is instantiated in the background from the already compiled module (~4 ms).
 *
 * The C entry points and struct layouts used below are those of libpg-query's own wrapper
 * (`wasm/index.js`) for the pinned major version; `loadPgParser` checks them with a probe.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** The part of the Emscripten module that we use. */
interface PgQueryModule {
  _malloc(size: number): number;
  _free(ptr: number): void;
  lengthBytesUTF8(text: string): number;
  stringToUTF8(text: string, ptr: number, maxBytes: number): void;
  UTF8ToString(ptr: number): string;
  getValue(ptr: number, type: 'i32'): number;
  _wasm_parse_query_raw(queryPtr: number): number;
  _wasm_free_parse_result(resultPtr: number): void;
  _wasm_scan(queryPtr: number): number;
  _wasm_free_string(ptr: number): void;
}

type ModuleFactory = (options: {
  instantiateWasm(imports: object, done: (instance: object, module: object) => void): object;
}) => Promise<PgQueryModule>;

/** The WebAssembly global, which @types/node does not declare. */
interface WasmGlobal {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => { exports: object };
}

export type RawParse =
  | { readonly ok: true; readonly tree: unknown }
  /** The parser rejected the text; `cursor` is a 1-based code-point position, 0 when unknown. */
  | { readonly ok: false; readonly reason: 'syntax'; readonly message: string; readonly cursor: number }
  /** The parser could not be run (instance lost and no standby yet, or output we could not read). */
  | { readonly ok: false; readonly reason: 'unavailable'; readonly message: string };

export interface ScanToken {
  /** Byte offsets into the UTF-8 encoding of the text. */
  readonly start: number;
  readonly end: number;
  readonly tokenType: number;
}

/** Scanner token types of the loaded parser (they are grammar numbers, so we measure them). */
export interface TokenTypes {
  /** `'…'`, `E'…'`, `$$…$$`, `$tag$…$tag$`. */
  readonly string: number;
  /** `U&'…'`. */
  readonly unicodeString: number;
  readonly uescape: number;
  readonly integer: number;
  readonly float: number;
  readonly bitString: number;
  readonly hexString: number;
  readonly lineComment: number;
  readonly blockComment: number;
}

const TOKEN_PROBE = "SELECT 'a', U&'b' UESCAPE '!', 1, 1.5, $$c$$, E'd', B'1', X'1' -- x\n/* y */";

export type RawScan =
  | { readonly ok: true; readonly tokens: readonly ScanToken[] }
  | { readonly ok: false; readonly message: string };

/**
 * libpg-query's scan output does not escape control characters other than \t, \n and \r, so
 * JSON.parse fails on it. Replacing them by spaces keeps every byte offset; the texts we scan
 * have already parsed, so such characters only occur inside literals, quoted names and comments,
 * where a space changes no token boundary.
 */
const UNESCAPED_IN_SCAN_JSON = /[\x00-\x08\x0b\x0c\x0e-\x1f]/g;

export class PgParser {
  private active: PgQueryModule | undefined;
  private standby: PgQueryModule | undefined;
  private refilling: Promise<void> | undefined;
  private restartCount = 0;
  private measuredTokens: TokenTypes | undefined;

  private constructor(
    private readonly factory: ModuleFactory,
    private readonly compiled: object,
    private readonly wasm: WasmGlobal,
  ) {}

  static async load(): Promise<PgParser> {
    const require = createRequire(import.meta.url);
    const factory = require('libpg-query/wasm/libpg-query.js') as ModuleFactory;
    const wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;
    const bytes = await readFile(require.resolve('libpg-query/wasm/libpg-query.wasm'));
    const parser = new PgParser(factory, await wasm.compile(bytes), wasm);
    parser.active = await parser.instantiate();
    parser.probe();
    parser.refill();
    return parser;
  }

  get tokenTypes(): TokenTypes {
    if (this.measuredTokens === undefined) throw new Error('parser not probed');
    return this.measuredTokens;
  }

  /** How many times an instance was discarded after it threw. */
  get restarts(): number {
    return this.restartCount;
  }

  parse(text: string): RawParse {
    const m = this.active;
    if (m === undefined) return { ok: false, reason: 'unavailable', message: 'the SQL parser is restarting' };
    let json: string;
    let failure: { message: string; cursor: number } | undefined;
    try {
      const queryPtr = toCString(m, text);
      let resultPtr = 0;
      try {
        resultPtr = m._wasm_parse_query_raw(queryPtr);
        if (resultPtr === 0) throw new Error('parser returned no result');
        const treePtr = m.getValue(resultPtr, 'i32');
        const errorPtr = m.getValue(resultPtr + 8, 'i32');
        if (errorPtr !== 0) {
          const messagePtr = m.getValue(errorPtr, 'i32');
          failure = {
            message: messagePtr === 0 ? 'syntax error' : m.UTF8ToString(messagePtr),
            cursor: Math.max(0, m.getValue(errorPtr + 16, 'i32')),
          };
        }
        json = failure === undefined && treePtr !== 0 ? m.UTF8ToString(treePtr) : '';
      } finally {
        m._free(queryPtr);
        if (resultPtr !== 0) m._wasm_free_parse_result(resultPtr);
      }
    } catch (err) {
      return this.discard(m, err);
    }
    if (failure !== undefined) return { ok: false, reason: 'syntax', ...failure };
    if (json === '')
      return { ok: false, reason: 'unavailable', message: 'the SQL parser produced no parse tree' };
    try {
      return { ok: true, tree: JSON.parse(json) };
    } catch {
      return {
        ok: false,
        reason: 'unavailable',
        message: 'the SQL parser produced an unreadable parse tree',
      };
    }
  }

  /** Tokens of a text that has already parsed (see UNESCAPED_IN_SCAN_JSON). */
  scan(text: string): RawScan {
    const m = this.active;
    if (m === undefined) return { ok: false, message: 'the SQL parser is restarting' };
    let out: string;
    try {
      const queryPtr = toCString(m, text.replace(UNESCAPED_IN_SCAN_JSON, ' '));
      let resultPtr = 0;
      try {
        resultPtr = m._wasm_scan(queryPtr);
        out = m.UTF8ToString(resultPtr);
      } finally {
        m._free(queryPtr);
        if (resultPtr !== 0) m._wasm_free_string(resultPtr);
      }
    } catch (err) {
      const lost = this.discard(m, err);
      return { ok: false, message: lost.message };
    }
    if (!out.startsWith('{')) return { ok: false, message: out };
    try {
      const parsed = JSON.parse(out) as { tokens?: unknown };
      const tokens: ScanToken[] = [];
      for (const t of Array.isArray(parsed.tokens) ? parsed.tokens : []) {
        const { start, end, tokenType } = t as Record<string, unknown>;
        if (typeof start !== 'number' || typeof end !== 'number' || typeof tokenType !== 'number') {
          return { ok: false, message: 'unreadable scanner output' };
        }
        tokens.push({ start, end, tokenType });
      }
      return { ok: true, tokens };
    } catch {
      return { ok: false, message: 'unreadable scanner output' };
    }
  }

  /** Waits until a standby instance exists again (tests; a gateway never needs to wait). */
  async settled(): Promise<void> {
    while (this.refilling !== undefined) await this.refilling;
  }

  private discard(m: PgQueryModule, err: unknown): RawParse & { ok: false } {
    if (this.active === m) {
      this.restartCount++;
      this.active = this.standby;
      this.standby = undefined;
      this.refill();
    }
    const what = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: 'unavailable', message: `the SQL parser failed on this statement (${what})` };
  }

  private refill(): void {
    if (this.refilling !== undefined || (this.active !== undefined && this.standby !== undefined)) return;
    this.refilling = this.instantiate().then(
      (m) => {
        if (this.active === undefined) this.active = m;
        else this.standby = m;
        this.refilling = undefined;
        this.refill();
      },
      () => {
        // Instantiating from an already compiled module only fails when memory is short: retry
        // later, and meanwhile refuse statements rather than wave them through.
        this.refilling = undefined;
        setTimeout(() => this.refill(), 1000).unref();
      },
    );
  }

  private instantiate(): Promise<PgQueryModule> {
    return this.factory({
      instantiateWasm: (imports, done) => {
        const instance = new this.wasm.Instance(this.compiled, imports);
        done(instance, this.compiled);
        return instance.exports;
      },
    });
  }

  private probe(): void {
    const good = this.parse('SELECT 1');
    const bad = this.parse('SELEC 1');
    const scanned = this.scan(TOKEN_PROBE);
    const t = scanned.ok ? scanned.tokens.map((token) => token.tokenType) : [];
    const types: TokenTypes = {
      string: t[1] ?? -1,
      unicodeString: t[3] ?? -1,
      uescape: t[4] ?? -1,
      integer: t[7] ?? -1,
      float: t[9] ?? -1,
      bitString: t[15] ?? -1,
      hexString: t[17] ?? -1,
      lineComment: t[18] ?? -1,
      blockComment: t[19] ?? -1,
    };
    const distinct = new Set(Object.values(types));
    const stringsAgree = [t[5], t[11], t[13]].every((x) => x === types.string);
    if (!good.ok || bad.ok || bad.reason !== 'syntax' || bad.cursor !== 1) {
      throw new Error('libpg-query does not parse as this version of the analyzer expects');
    }
    if (t.length !== 20 || distinct.size !== 9 || !stringsAgree) {
      throw new Error('libpg-query does not scan as this version of the analyzer expects');
    }
    this.measuredTokens = types;
  }
}

function toCString(m: PgQueryModule, text: string): number {
  const size = m.lengthBytesUTF8(text) + 1;
  const ptr = m._malloc(size);
  if (ptr === 0) throw new Error('out of parser memory');
  m.stringToUTF8(text, ptr, size);
  return ptr;
}

let loaded: PgParser | undefined;
let loading: Promise<PgParser> | undefined;

/** Loads the parser once per process; later calls return the same instance. */
export function loadPgParser(): Promise<PgParser> {
  if (loaded !== undefined) return Promise.resolve(loaded);
  loading ??= PgParser.load().then(
    (p) => {
      loaded = p;
      return p;
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/** The loaded parser, or undefined before `loadPgParser` has finished. */
export function pgParser(): PgParser | undefined {
  return loaded;
}
