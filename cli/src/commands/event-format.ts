import type { StoredEvent } from '@gatehouse/core';
import { type Output, paint, printable, truncate } from '../output.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));

/** One human line per event for `sessions show`; the untrusted parts are made printable. */
export function describeEvent(out: Output, event: StoredEvent): string {
  const d = event.data;
  const label = paint(out, 'cyan', event.type.padEnd(13));
  switch (event.type) {
    case 'session.start':
      return `${label} ${printable(str(d['protocol']))} from ${printable(str(d['clientAddress']))}`;
    case 'auth': {
      const ok = d['outcome'] === 'success';
      const who = d['subject'] === undefined ? '' : ` ${printable(str(d['subject']))}`;
      const why = ok ? '' : `: ${printable(str(d['reason']))}`;
      return `${label} ${ok ? paint(out, 'green', 'success') : paint(out, 'red', 'failure')}${who} via ${printable(str(d['method']))}${why}`;
    }
    case 'command':
      return `${label} ${printable(truncate(str(d['text']), 160))}`;
    case 'decision': {
      const action = str(d['action']);
      const colour = action === 'allow' ? 'green' : action === 'deny' ? 'red' : 'yellow';
      const rule = d['rule'] === undefined ? '' : ` by ${printable(str(d['rule']))}`;
      const msg = d['message'] === undefined ? '' : `: ${printable(str(d['message']))}`;
      return `${label} ${paint(out, colour, action)}${rule}${msg}`;
    }
    case 'result': {
      const status = str(d['status']);
      const parts = [
        status === 'ok' ? paint(out, 'green', 'ok') : paint(out, 'red', status),
        d['summary'] === undefined ? '' : printable(str(d['summary'])),
        d['rows'] === undefined ? '' : `${str(d['rows'])} rows`,
        d['durationMs'] === undefined ? '' : `${str(d['durationMs'])} ms`,
      ].filter(Boolean);
      const error = d['error'] as { code?: string; message?: string } | undefined;
      const err =
        error === undefined
          ? ''
          : ` ${printable(str(error.code))}: ${printable(truncate(str(error.message), 120))}`;
      return `${label} ${parts.join(', ')}${err}`;
    }
    case 'approval': {
      const who = d['by'] ?? d['approver'];
      return `${label} ${printable(str(d['state']))}${who === undefined ? '' : ` by ${printable(str(who))}`}${d['reason'] === undefined ? '' : `: ${printable(str(d['reason']))}`}`;
    }
    case 'session.end':
      return `${label} ${printable(str(d['reason']))}${d['detail'] === undefined ? '' : `: ${printable(truncate(str(d['detail']), 160))}`}`;
    default:
      return `${label} ${printable(truncate(JSON.stringify(d), 160))}`;
  }
}
