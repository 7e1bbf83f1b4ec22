import { describe, expect, it } from 'vitest';
import { emailFinder } from './email-finder.js';

function found(text: string): string[] {
  const out: string[] = [];
  emailFinder.find(text, new Set(['email']), (_, s, e) => out.push(text.slice(s, e)));
  return out;
}

describe('email detector', () => {
  it.each([
    ['bob@example.com', ['bob@example.com']],
    ['Mixed case Bob.Smith@Example.COM here', ['Bob.Smith@Example.COM']],
    ['ops+alerts@mail.example.org, x', ['ops+alerts@mail.example.org']],
    ["SQL literal 'jane_doe@corp.example.co.uk'", ['jane_doe@corp.example.co.uk']],
    ['<a href="mailto:a.b-c@sub-domain.example.io">', ['a.b-c@sub-domain.example.io']],
    ['two: a@example.com;b@example.net', ['a@example.com', 'b@example.net']],
    ['end of sentence bob@example.com.', ['bob@example.com']],
    ['trailing numeric label bob@example.com.5', ['bob@example.com']],
    ['«josé@exemple.fr»', ['josé@exemple.fr']],
    ['{"email":"USER@EXAMPLE.ORG"}', ['USER@EXAMPLE.ORG']],
    ['leading dots ..bob@example.com', ['bob@example.com']],
  ])('finds emails in %j', (text, emails) => {
    expect(found(text)).toEqual(emails);
  });

  it.each([
    ['no TLD', 'root@localhost'],
    ['IP host', 'admin@10.0.0.1'],
    ['one-letter TLD', 'a@b.c'],
    ['bare at sign', 'meet @ noon'],
    ['handle', 'ping @alice about it'],
    ['empty local part', '@example.com'],
    ['decorator', '@Component({ selector: "x" })'],
    ['version pin', 'package@1.2.3'],
  ])('ignores %s', (_, text) => {
    expect(found(text)).toEqual([]);
  });
});
