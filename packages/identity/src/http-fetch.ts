import { KeySourceError } from './key-source.js';

/** Discovery documents and key sets are small; anything bigger is refused rather than buffered. */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

export interface FetchDocumentOptions {
  /** What is being fetched, for messages: `JWKS`, `discovery document`. */
  readonly what: string;
  readonly timeoutMs: number;
  /** Extra abort reason besides the timeout (verifier closed, jose's own timeout). */
  readonly signals: readonly AbortSignal[];
  readonly headers?: Headers | Record<string, string> | undefined;
}

/**
 * GETs a JSON document. Redirects are not followed (a redirect could move key retrieval to a host
 * nobody configured) and every failure becomes a KeySourceError with a message an operator can act
 * on.
 */
export async function fetchJsonDocument(url: URL | string, options: FetchDocumentOptions): Promise<unknown> {
  const where = `${options.what} at ${displayUrl(url)}`;
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...options.signals]);
  let text: string;
  try {
    const response = await fetch(url, {
      method: 'GET',
      redirect: 'manual',
      signal,
      headers: options.headers ?? { accept: 'application/json' },
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new KeySourceError(`${where} answered HTTP ${response.status}`);
    }
    text = await readLimited(response, where);
  } catch (err) {
    if (err instanceof KeySourceError) throw err;
    if (signal.aborted) {
      const timedOut = (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
      throw new KeySourceError(
        timedOut ? `${where} timed out after ${options.timeoutMs} ms` : `${where}: aborted`,
        {
          cause: err,
        },
      );
    }
    throw new KeySourceError(`${where} unreachable (${networkReason(err)})`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new KeySourceError(`${where} is not valid JSON`, { cause });
  }
}

async function readLimited(response: Response, where: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel().catch(() => {});
    throw new KeySourceError(`${where} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      await response.body.cancel().catch(() => {});
      throw new KeySourceError(`${where} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : 'network error';
}

/** Query strings can carry credentials; messages show origin and path only. */
export function displayUrl(url: URL | string): string {
  try {
    const parsed = new URL(String(url));
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
