import { ProtocolError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import type { PasswordMessage } from './frontend-messages.js';
import { MessageWriter } from './message-writer.js';
import { readPasswordResponse, readSASLInitialResponse, readSASLResponse } from './password-message.js';

function p(data: Buffer): PasswordMessage {
  return { type: 'PasswordMessage', data, raw: Buffer.alloc(0) };
}

describe('password message interpretations', () => {
  it('reads a cleartext password', () => {
    expect(readPasswordResponse(p(Buffer.from('s3cret é\0')))).toBe('s3cret é');
  });

  it.each([
    ['no NUL', 'secret', /password is not NUL-terminated/],
    ['bytes after the NUL', 'secret\0x', /1 unexpected bytes/],
    ['an empty body', '', /not NUL-terminated/],
  ])('refuses a password with %s', (_name, body, pattern) => {
    expect(() => readPasswordResponse(p(Buffer.from(body)))).toThrow(ProtocolError);
    expect(() => readPasswordResponse(p(Buffer.from(body)))).toThrow(pattern);
  });

  it('reads a SASLInitialResponse with and without data', () => {
    const withData = new MessageWriter()
      .cstring('SCRAM-SHA-256', '')
      .int32(5)
      .bytes(Buffer.from('n,,n='))
      .finish();
    // The writer has no open message here, so these are bare bodies.
    const r = readSASLInitialResponse(p(withData));
    expect(r.mechanism).toBe('SCRAM-SHA-256');
    expect(r.data?.toString()).toBe('n,,n=');
    const none = new MessageWriter().cstring('SCRAM-SHA-256', '').int32(-1).finish();
    expect(readSASLInitialResponse(p(none))).toEqual({ mechanism: 'SCRAM-SHA-256', data: null });
  });

  it.each([
    [
      'a length longer than the data',
      new MessageWriter().cstring('M', '').int32(9).bytes(Buffer.from('ab')).finish(),
      /declares 9 bytes but the message holds 2/,
    ],
    [
      'a length shorter than the data',
      new MessageWriter().cstring('M', '').int32(1).bytes(Buffer.from('ab')).finish(),
      /declares 1 bytes/,
    ],
    ['a negative length', new MessageWriter().cstring('M', '').int32(-5).finish(), /negative length -5/],
    ['no length', new MessageWriter().cstring('M', '').finish(), /initial response length runs past/],
    ['an unterminated mechanism', Buffer.from('SCRAM'), /mechanism name is not NUL-terminated/],
  ])('refuses a SASLInitialResponse with %s', (_name, body, pattern) => {
    expect(() => readSASLInitialResponse(p(body))).toThrow(ProtocolError);
    expect(() => readSASLInitialResponse(p(body))).toThrow(pattern);
  });

  it('passes a SASLResponse through', () => {
    const data = Buffer.from('c=biws,r=abc,p=xyz');
    expect(readSASLResponse(p(data))).toBe(data);
  });
});
