/**
 * The syntax tree the shell parser builds. It keeps only what the command finder needs: which
 * simple commands exist, how they are wired (pipes, redirections, here-documents) and where
 * nested command text hides inside words. List separators (`;`, `&&`, `||`, `&`) are dropped on
 * purpose: any command of a list may run, so the finder treats them all alike.
 */

/** One piece of a word, in source order. `quoted` parts take no part in splitting or globbing. */
export type WordPart =
  | {
      readonly type: 'literal';
      /** The text after quote removal and escape processing. */
      readonly text: string;
      readonly quoted: boolean;
    }
  | {
      /** `$name`, `${name…}`: the value is unknown, so the source text stands in for it. */
      readonly type: 'parameter';
      readonly text: string;
      readonly quoted: boolean;
      readonly name: string;
      /** Parts of the operand (`${x:-$(cmd)}`), searched for nested commands. */
      readonly inner: readonly WordPart[];
    }
  | {
      /** `$(…)` or a backquoted command; the inner script runs. */
      readonly type: 'command-substitution';
      readonly text: string;
      readonly quoted: boolean;
      readonly script: Script;
    }
  | {
      /** `$((…))` or `$[…]`. */
      readonly type: 'arithmetic';
      readonly text: string;
      readonly quoted: boolean;
      readonly inner: readonly WordPart[];
    }
  | {
      /** `<(…)` or `>(…)`; expands to a file name, and the inner script runs. */
      readonly type: 'process-substitution';
      readonly text: string;
      readonly script: Script;
    };

export interface Word {
  readonly parts: readonly WordPart[];
}

export type Redirect =
  | {
      /** `<`, `>`, `>>`, `>|`, `<>`, `<&`, `>&`, `&>`, `&>>`. */
      readonly type: 'file';
      readonly op: string;
      /** The explicit descriptor (`2>`) or `{name}` variable, when written. */
      readonly fd: string | undefined;
      readonly target: Word;
    }
  | {
      /** `<<<word`. */
      readonly type: 'here-string';
      readonly fd: string | undefined;
      readonly word: Word;
    }
  | HereDoc;

/** `<<DELIM` / `<<-DELIM`; the body is filled in when the parser reaches the end of the line. */
export interface HereDoc {
  readonly type: 'here-doc';
  readonly fd: string | undefined;
  readonly delimiter: string;
  readonly stripTabs: boolean;
  /** A quoted delimiter makes the body literal; otherwise it is expanded like a double-quoted word. */
  readonly quoted: boolean;
  body: string;
  /** The expanded body's parts (for an unquoted delimiter), searched for nested commands. */
  bodyParts: readonly WordPart[];
}

export interface Assignment {
  readonly name: string;
  /** One word for `x=v`, the elements for an array literal `x=(a b)`. */
  readonly values: readonly Word[];
}

export type CompoundKind =
  | 'subshell'
  | 'group'
  | 'if'
  | 'while'
  | 'until'
  | 'for'
  | 'select'
  | 'case'
  | 'conditional'
  | 'arithmetic'
  | 'coproc';

export type Command =
  | {
      readonly type: 'simple';
      readonly assignments: readonly Assignment[];
      readonly words: readonly Word[];
      /** Array literal elements after an argument such as `declare a=(…)`; searched, never argv. */
      readonly extraWords: readonly Word[];
      readonly redirects: readonly Redirect[];
    }
  | {
      readonly type: 'compound';
      readonly kind: CompoundKind;
      /** Words that are expanded but never run: loop lists, case subjects and patterns, `[[ … ]]`. */
      readonly words: readonly Word[];
      /** Arithmetic text parts (`(( … ))`, `for (( … ))`), searched for nested commands. */
      readonly arithmetic: readonly WordPart[];
      readonly bodies: readonly Script[];
      readonly redirects: readonly Redirect[];
    }
  | {
      readonly type: 'function';
      readonly name: string;
      readonly body: Command;
    };

/** Commands joined by `|` or `|&`: each one after the first reads the previous one's output. */
export interface Pipeline {
  readonly commands: readonly Command[];
}

export interface Script {
  readonly pipelines: readonly Pipeline[];
}

export const EMPTY_SCRIPT: Script = { pipelines: [] };
