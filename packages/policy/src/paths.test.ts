import { describe, expect, it } from 'vitest';
import { filePathForms, httpPathForms, normalizePath } from './paths.js';

describe('normalizePath', () => {
  it.each([
    ['/a/b', '/a/b'],
    ['//a///b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['relative/x', '/relative/x'],
    ['/a/', '/a/'],
    ['/a/..', '/'],
    ['', '/'],
  ])('%j → %j', (raw, normal) => {
    expect(normalizePath(raw)).toBe(normal);
  });
});

describe('path forms', () => {
  it('decode percent escapes and drop the query', () => {
    expect(httpPathForms('/%61dmin?x=1', false)).toEqual(['/%61dmin', '/admin']);
  });

  it('survive invalid escapes', () => {
    expect(httpPathForms('/a%ZZ/%61%FF', false)).toContain('/a%ZZ/a%FF');
  });

  it('add lenient forms for deny rules', () => {
    expect(httpPathForms('/admin\\x/', true)).toEqual(
      expect.arrayContaining(['/admin\\x/', '/admin/x', '/admin\\x']),
    );
    expect(filePathForms('/etc/', true)).toEqual(['/etc/', '/etc']);
  });
});
