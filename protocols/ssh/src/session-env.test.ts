import { describe, expect, it } from 'vitest';
import { acceptableTerm, envRefusal } from './session-env.js';

describe('envRefusal', () => {
  it.each(['C', 'C.UTF-8', 'en_US.UTF-8', 'de_DE.UTF-8@euro', 'POSIX', 'xterm-256color', ''])(
    'passes the locale or terminal name %j',
    (value) => {
      expect(envRefusal('LANG', value)).toBeUndefined();
      expect(envRefusal('LC_TIME', value)).toBeUndefined();
      expect(envRefusal('TERM', value)).toBeUndefined();
    },
  );

  it.each(['LD_PRELOAD', 'BASH_ENV', 'PATH', 'ENV', 'lc_all', 'LC_', 'LANGUAGE', 'TERMINFO'])(
    'refuses the variable %s',
    (key) => {
      expect(envRefusal(key, 'C')).toBe('only LANG, LC_* and TERM are passed');
    },
  );

  it.each([
    'a[$(rm -rf ~)]',
    'a[`id`]',
    '$(id)',
    'x y',
    "C'",
    'C;id',
    'C\nLC_ALL=x',
    'C\u001b[2J',
    '$' + '{x@P}',
  ])('refuses a value the upstream shell could read as code: %j', (value) => {
    expect(envRefusal('LC_X', value)).toBe('the value is not a locale or terminal name');
  });

  it('refuses values that are not text or too long', () => {
    expect(envRefusal('LANG', 42)).toBe('the value is not text');
    expect(envRefusal('LANG', 'C'.repeat(1025))).toMatch(/longer than 1024/);
  });
});

describe('acceptableTerm', () => {
  it('takes terminal names and refuses anything else', () => {
    expect(acceptableTerm('xterm-256color')).toBe(true);
    expect(acceptableTerm('a[$(id)]')).toBe(false);
    expect(acceptableTerm(undefined)).toBe(false);
  });
});
