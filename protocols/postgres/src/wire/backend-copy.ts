import { BackendCode, type FormatCode } from './codes.js';
import { MessageWriter } from './message-writer.js';

export interface CopyResponseOptions {
  /** 0: textual COPY (every column format must be 0); 1: binary COPY. */
  readonly format: FormatCode;
  /** One format code per column. */
  readonly columnFormats: readonly FormatCode[];
}

function copyResponse(code: number, o: CopyResponseOptions): Buffer {
  const w = new MessageWriter(8 + o.columnFormats.length * 2)
    .start(code)
    .byte(o.format)
    .uint16(o.columnFormats.length);
  for (const f of o.columnFormats) w.int16(f);
  return w.finish();
}

/** COPY ... FROM STDIN: the client sends CopyData, then CopyDone or CopyFail. */
export function copyInResponse(o: CopyResponseOptions): Buffer {
  return copyResponse(BackendCode.CopyInResponse, o);
}

/** COPY ... TO STDOUT: CopyData then CopyDone follow from the server. */
export function copyOutResponse(o: CopyResponseOptions): Buffer {
  return copyResponse(BackendCode.CopyOutResponse, o);
}

/** Streaming replication: CopyData flows both ways. */
export function copyBothResponse(o: CopyResponseOptions): Buffer {
  return copyResponse(BackendCode.CopyBothResponse, o);
}

export function copyData(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length);
  out[0] = BackendCode.CopyData;
  out.writeInt32BE(4 + data.length, 1);
  out.set(data, 5);
  return out;
}

const COPY_DONE = new MessageWriter(5).start(BackendCode.CopyDone).finish();

/** Shared buffer: never mutate it. */
export function copyDone(): Buffer {
  return COPY_DONE;
}
