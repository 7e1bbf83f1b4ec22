import type { Masker } from '@gatehouse/core';
import { JsonMasker } from '@gatehouse/http';
import { describe, expect, it } from 'vitest';
import {
  isLastAppliedField,
  isSecretValueField,
  maskLastApplied,
  SECRET_MASK,
  SecretMasker,
  writesMaskBack,
} from './secret-masker.js';

/** Masks "4111 1111 1111 1111" wherever it appears, so detector masking is visible. */
const detectors: Masker = {
  maskValue: (_c, t) => t.replaceAll('4111111111111111', '****'),
  maskText: (t) => t.replaceAll('4111111111111111', '****'),
};

function mask(doc: string, pieces = 7): string {
  const m = new JsonMasker(new SecretMasker(detectors));
  let out = '';
  for (let i = 0; i < doc.length; i += pieces) out += m.push(doc.slice(i, i + pieces));
  return out + m.end();
}

const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'db',
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration':
        '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"data":{"password":"aHVudGVy"},"stringData":{"x":"y"}}\n',
      note: 'card 4111111111111111',
    },
  },
  data: { password: 'aHVudGVy', 'tls.crt': 'Y2VydA==' },
  stringData: { token: 'plain' },
  type: 'Opaque',
};

describe('SecretMasker', () => {
  it('recognises value fields wherever a Secret sits in a response', () => {
    for (const f of [
      'data.password',
      'data.tls.crt',
      'stringData.x',
      'items.data.a',
      'object.data.a',
      'rows.object.data.a',
      'object.rows.object.data.a',
      'object.items.data.a',
    ]) {
      expect(isSecretValueField(f), f).toBe(true);
    }
    for (const f of [
      'metadata.name',
      'metadata.annotations.data.x',
      'type',
      'items.metadata.labels.data',
      'rows.cells',
    ]) {
      expect(isSecretValueField(f), f).toBe(false);
    }
    expect(isLastAppliedField('metadata.annotations.kubectl.kubernetes.io/last-applied-configuration')).toBe(
      true,
    );
    expect(
      isLastAppliedField('rows.object.metadata.annotations.kubectl.kubernetes.io/last-applied-configuration'),
    ).toBe(true);
    expect(isLastAppliedField('metadata.annotations.other')).toBe(false);
  });

  it('masks a single Secret, keeping keys and everything else byte for byte', () => {
    const out = JSON.parse(mask(JSON.stringify(secret)));
    expect(out.data).toEqual({ password: SECRET_MASK, 'tls.crt': SECRET_MASK });
    expect(out.stringData).toEqual({ token: SECRET_MASK });
    expect(out.type).toBe('Opaque');
    expect(out.metadata.annotations.note).toBe('card ****');
    const applied = JSON.parse(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    expect(applied).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db' },
      data: { password: SECRET_MASK },
      stringData: { x: SECRET_MASK },
    });
  });

  it('masks lists, watch events and Tables with row objects', () => {
    const list = mask(JSON.stringify({ kind: 'SecretList', items: [secret, secret] }));
    expect(list).not.toContain('aHVudGVy');
    const events = mask(
      `${JSON.stringify({ type: 'ADDED', object: secret })}\n${JSON.stringify({ type: 'MODIFIED', object: secret })}\n`,
      3,
    );
    expect(events).not.toContain('aHVudGVy');
    expect(events.split('\n')).toHaveLength(3);
    const table = mask(
      JSON.stringify({
        kind: 'Table',
        rows: [
          {
            cells: ['db', 'Opaque', 2, '5m'],
            object: { kind: 'PartialObjectMetadata', metadata: secret.metadata },
          },
          { cells: ['x'], object: secret },
        ],
      }),
    );
    expect(table).not.toContain('aHVudGVy');
    expect(JSON.parse(table).rows[0].cells).toEqual(['db', 'Opaque', 2, '5m']);
  });

  it('leaves bookkeeping fields alone, and Secret values when told to', () => {
    const doc = JSON.stringify({
      metadata: { resourceVersion: '4111111111111111', name: '4111111111111111' },
      data: { a: 'aHVudGVy' },
    });
    const m = new JsonMasker(new SecretMasker(detectors, { maskSecretValues: false }));
    expect(JSON.parse(m.push(doc) + m.end())).toEqual({
      metadata: { resourceVersion: '4111111111111111', name: '****' },
      data: { a: 'aHVudGVy' },
    });
  });

  it('replaces an unreadable annotation whole', () => {
    expect(maskLastApplied('{not json')).toBe(SECRET_MASK);
    expect(maskLastApplied('"a string"')).toBe(SECRET_MASK);
  });

  it('keeps the mask valid base64, so typed clients still decode the Secret', () => {
    expect(Buffer.from(SECRET_MASK, 'base64').toString('base64')).toBe(SECRET_MASK);
  });

  it('notices a masked copy being written back', () => {
    expect(writesMaskBack(Buffer.from(`{"data":{"a":"${SECRET_MASK}"}}`))).toBe(true);
    expect(writesMaskBack(Buffer.from(`{"data":{"a":"${SECRET_MASK.replaceAll('/', '\\/')}"}}`))).toBe(true);
    expect(writesMaskBack(Buffer.from('{"data":{"a":"aHVudGVy"}}'))).toBe(false);
  });
});
