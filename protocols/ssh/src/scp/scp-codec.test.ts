import { ProtocolError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { type ScpItem, ScpStreamReader } from './scp-codec.js';
import { recognizeLegacyScp, sourcePath } from './scp-command.js';

/** Reads everything, accepting or refusing file records in turn. */
function readAll(reader: ScpStreamReader, decisions: boolean[] = []): ScpItem[] {
  const items: ScpItem[] = [];
  for (;;) {
    const item = reader.next();
    if (item !== undefined) {
      items.push(item);
      continue;
    }
    if (!reader.deciding) return items;
    reader.decide(decisions.shift() ?? true);
  }
}

const summary = (items: ScpItem[]) =>
  items.map((i) =>
    i.kind === 'record' ? i.record : i.kind === 'data' ? `data:${i.bytes.toString()}` : `end:${i.ok}`,
  );

describe('ScpStreamReader', () => {
  const stream = Buffer.from(
    'T1700000000 0 1700000000 0\nD0755 0 dir\nC0644 5 a.txt\nhello\0C0600 0 empty\n\0E\n\u0001scp: b: Permission denied\n',
  );

  it('reads records, content and status bytes, whole or split at every byte', () => {
    const expected = [
      { type: 'times' },
      { type: 'directory', mode: '0755', name: 'dir' },
      { type: 'file', mode: '0644', size: 5, name: 'a.txt' },
      'data:hello',
      'end:true',
      { type: 'file', mode: '0600', size: 0, name: 'empty' },
      'end:true',
      { type: 'end-directory' },
      { type: 'error', fatal: false, message: 'scp: b: Permission denied' },
    ];
    const whole = new ScpStreamReader();
    whole.push(stream);
    expect(summary(readAll(whole))).toEqual(expected);

    const split = new ScpStreamReader();
    const items: ScpItem[] = [];
    for (const byte of stream) {
      split.push(Buffer.from([byte]));
      items.push(...readAll(split));
    }
    const merged = summary(items).filter((x) => !(typeof x === 'string' && x.startsWith('data:')));
    expect(merged).toEqual(expected.filter((x) => x !== 'data:hello'));
    expect(
      items
        .filter((i) => i.kind === 'data')
        .map((i) => (i.kind === 'data' ? i.bytes.toString() : ''))
        .join(''),
    ).toBe('hello');
  });

  it('expects no content after a refused file', () => {
    const reader = new ScpStreamReader();
    reader.push(Buffer.from('C0644 5 secret\nC0644 2 ok\nhi\0'));
    expect(summary(readAll(reader, [false, true]))).toEqual([
      { type: 'file', mode: '0644', size: 5, name: 'secret' },
      { type: 'file', mode: '0644', size: 2, name: 'ok' },
      'data:hi',
      'end:true',
    ]);
  });

  it('reports a read failure after the content as a failed file end', () => {
    const reader = new ScpStreamReader();
    reader.push(Buffer.from('C0644 1 x\nZ\u0001scp: x: read error\n'));
    const items = readAll(reader);
    expect(summary(items).slice(-1)).toEqual(['end:false']);
    const last = items.at(-1);
    expect(last?.kind === 'file-end' ? last.raw.toString() : undefined).toBe('\u0001scp: x: read error\n');
  });

  it('refuses names that could leave the directory, garbage and endless lines with one ProtocolError', () => {
    for (const bad of ['C0644 1 ../x\n', 'C0644 1 a/b\n', 'D0755 0 ..\n', 'X\n', 'C0644 x name\n', '\n']) {
      const reader = new ScpStreamReader();
      reader.push(Buffer.from(bad));
      expect(() => readAll(reader), bad).toThrow(ProtocolError);
    }
    const long = new ScpStreamReader();
    long.push(Buffer.alloc(9000, 0x41));
    expect(() => long.next()).toThrow(ProtocolError);
  });
});

const parse = (commands: string[][], opaque = false) => ({ commands, opaque, reasons: [] });

describe('recognizeLegacyScp', () => {
  it('reads the remote ends that scp clients start', () => {
    expect(recognizeLegacyScp(parse([['scp', '-t', '/srv/up']]))).toEqual({
      kind: 'scp',
      scp: { mode: 'sink', target: '/srv/up', recursive: false, targetIsDirectory: false },
    });
    expect(recognizeLegacyScp(parse([['scp', '-r', '-d', '-t', '--', '-odd']]))).toEqual({
      kind: 'scp',
      scp: { mode: 'sink', target: '-odd', recursive: true, targetIsDirectory: true },
    });
    expect(recognizeLegacyScp(parse([['/usr/bin/scp', '-pf', 'a', '/etc/*.conf']]))).toEqual({
      kind: 'scp',
      scp: { mode: 'source', paths: ['a', '/etc/*.conf'], recursive: false },
    });
    expect(recognizeLegacyScp(parse([['scp', 'a', 'b']]))).toEqual({ kind: 'none' });
    expect(recognizeLegacyScp(parse([['ls', '-t']]))).toEqual({ kind: 'none' });
  });

  it('refuses remote-mode scp it cannot follow', () => {
    for (const commands of [
      [
        ['cd', '/etc'],
        ['scp', '-t', '.'],
      ],
      [['scp', '-t', 'a', 'b']],
      [['scp', '-t', '-f', 'a']],
      [['scp', '-S', 'prog', '-t', 'a']],
      [['scp', '-t']],
    ]) {
      expect(recognizeLegacyScp(parse(commands)).kind, JSON.stringify(commands)).toBe('unsupported');
    }
    expect(recognizeLegacyScp(parse([['scp', '-t', '$HOME']], true)).kind).toBe('unsupported');
  });

  it('places a top-level entry a source sends at the path it came from', () => {
    expect(sourcePath(['/etc/hosts'], 'hosts')).toEqual({ path: '/etc/hosts', judged: true });
    expect(sourcePath(['/var/log/'], 'log')).toEqual({ path: '/var/log/', judged: true });
    expect(sourcePath(['/etc/hosts', '/etc/*.conf'], 'a.conf')).toEqual({
      path: '/etc/a.conf',
      judged: false,
    });
    expect(sourcePath(['notes'], 'other')).toEqual({ path: 'other', judged: false });
  });
});
