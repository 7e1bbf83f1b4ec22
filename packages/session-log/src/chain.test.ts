import { createHash } from 'node:crypto';
import { EventType, LogWriteError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { chainEvent, chainText, eventHash, GENESIS_HASH, prepareEvent } from './chain.js';

describe('hash chain encoding', () => {
  it('hashes the canonical JSON array [seq, ts, session_id, type, data, prev_hash]', () => {
    const text = chainText(7, 1700000000000, 'sess-"1"', 'command', '{"a":1}', GENESIS_HASH);
    expect(text).toBe(`[7,1700000000000,"sess-\\"1\\"","command",{"a":1},"${GENESIS_HASH}"]`);
    expect(JSON.parse(text)).toEqual([7, 1700000000000, 'sess-"1"', 'command', { a: 1 }, GENESIS_HASH]);
    expect(eventHash(7, 1700000000000, 'sess-"1"', 'command', '{"a":1}', GENESIS_HASH)).toBe(
      createHash('sha256').update(text).digest('hex'),
    );
  });

  it('links each event to the one before', () => {
    const prepared = prepareEvent(
      { sessionId: 's', type: EventType.Note, data: { b: 2, a: 1 } },
      5,
      undefined,
    );
    expect(prepared.dataJson).toBe('{"a":1,"b":2}');
    const first = chainEvent(prepared, 1, GENESIS_HASH);
    const second = chainEvent(prepared, 2, first.hash);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(second.prevHash).toBe(first.hash);
    expect(second.hash).not.toBe(first.hash);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses events it cannot record, naming why', () => {
    const bad = (input: Parameters<typeof prepareEvent>[0]) => () => prepareEvent(input, 1, undefined);
    expect(bad({ sessionId: '', type: EventType.Note, data: {} })).toThrow(LogWriteError);
    expect(bad({ sessionId: 's', type: 'bogus' as EventType, data: {} })).toThrow(
      /unknown event type "bogus"/,
    );
    const loop: Record<string, unknown> = {};
    loop['loop'] = loop;
    expect(bad({ sessionId: 's', type: EventType.Note, data: loop })).toThrow(
      /cannot record note event: .*circular/,
    );
    expect(() =>
      prepareEvent({ sessionId: 's', type: EventType.Note, data: {} }, Number.NaN, undefined),
    ).toThrow(/clock/);
  });

  it('applies the redact hook before removing secrets', () => {
    const prepared = prepareEvent(
      { sessionId: 's', type: EventType.Command, data: { text: 'x', extra: 'tok' }, secrets: ['tok'] },
      1,
      (data) => ({ ...data, text: `hooked ${String(data['extra'])}` }),
    );
    expect(prepared.data).toEqual({ extra: '[REDACTED]', text: 'hooked [REDACTED]' });
  });
});
