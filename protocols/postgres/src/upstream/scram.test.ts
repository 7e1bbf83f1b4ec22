import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScramClient, saslPrep } from './scram.js';
import { md5Password } from './upstream-connect.js';

// RFC 7677 section 3: user "user", password "pencil".
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL =
  'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('ScramClient', () => {
  it('reproduces the RFC 7677 exchange and verifies the server signature', () => {
    const scram = new ScramClient('pencil', { nonce: CLIENT_NONCE, user: 'user' });
    expect(scram.clientFirst()).toBe(`n,,n=user,r=${CLIENT_NONCE}`);
    expect(scram.clientFinal(SERVER_FIRST)).toBe(CLIENT_FINAL);
    scram.verifyServerFinal(SERVER_FINAL);
    expect(scram.verified).toBe(true);
  });

  it('refuses a server that cannot prove it knows the password', () => {
    const scram = new ScramClient('pencil', { nonce: CLIENT_NONCE, user: 'user' });
    scram.clientFirst();
    scram.clientFinal(SERVER_FIRST);
    expect(() => scram.verifyServerFinal('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toThrow(
      /does not verify/,
    );
    expect(scram.verified).toBe(false);
  });

  it('refuses a server error, a nonce that does not extend ours, and absurd iteration counts', () => {
    const start = () => {
      const s = new ScramClient('pencil', { nonce: CLIENT_NONCE });
      s.clientFirst();
      return s;
    };
    expect(() => start().clientFinal('r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).toThrow(/nonce/);
    expect(() => start().clientFinal(`r=${CLIENT_NONCE}x,s=W22Z,i=999999999`)).toThrow(/iterations/);
    expect(() => start().clientFinal(`r=${CLIENT_NONCE}x,s=,i=4096`)).toThrow(/salt/);
    const s = start();
    s.clientFinal(SERVER_FIRST);
    expect(() => s.verifyServerFinal('e=invalid-proof')).toThrow(/invalid-proof/);
  });

  it('matches a PostgreSQL-style exchange with an empty user name', () => {
    // What the server computes from the stored verifier, written out from RFC 5802.
    const password = 'app-secret';
    const salt = Buffer.from('0123456789abcdef');
    const scram = new ScramClient(password, { nonce: 'abc' });
    const first = scram.clientFirst();
    expect(first).toBe('n,,n=,r=abc');
    const serverFirst = `r=abcXYZ,s=${salt.toString('base64')},i=4096`;
    const final = scram.clientFinal(serverFirst);
    const salted = pbkdf2Sync(password, salt, 4096, 32, 'sha256');
    const authMessage = `n=,r=abc,${serverFirst},c=biws,r=abcXYZ`;
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    expect(final).toBe(`c=biws,r=abcXYZ,p=${proof.toString('base64')}`);
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    scram.verifyServerFinal(`v=${createHmac('sha256', serverKey).update(authMessage).digest('base64')}`);
    expect(scram.verified).toBe(true);
  });
});

describe('saslPrep', () => {
  it('leaves ASCII alone, maps non-ASCII spaces and drops mapped-to-nothing characters', () => {
    expect(saslPrep('pencil')).toBe('pencil');
    expect(saslPrep('a\u00A0b')).toBe('a b');
    expect(saslPrep('I\u00ADX')).toBe('IX');
    expect(saslPrep('\u2168')).toBe('IX');
  });

  it('uses the password as is when SASLprep refuses it, like PostgreSQL', () => {
    expect(saslPrep('a\u0007b')).toBe('a\u0007b');
  });
});

describe('md5Password', () => {
  it('hashes like PostgreSQL', () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    const inner = createHash('md5').update('secretalice').digest('hex');
    const expected = `md5${createHash('md5').update(inner).update(salt).digest('hex')}`;
    expect(md5Password('alice', 'secret', salt)).toBe(expected);
  });
});
