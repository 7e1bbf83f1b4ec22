export type ProtocolName = 'postgres' | 'ssh' | 'kubernetes' | 'http' | 'test';

/**
 * A protocol-neutral command. Protocol modules decode wire messages into Commands; the policy engine
 * and the session log only ever see these, never bytes.
 */
export interface Command {
  readonly protocol: ProtocolName;
  /** What kind of command within the protocol, e.g. `query`, `exec`, `shell-line`, `request`. */
  readonly kind: string;
  /** Human-readable text of the command, as logged (already redacted of secrets). */
  readonly text: string;
  /** Structured, protocol-specific facts for matchers (statement kinds, verb, resource, argv…). */
  readonly attributes?: Readonly<Record<string, unknown>>;
}

export type Action = 'allow' | 'deny' | 'review';

export interface Decision {
  readonly action: Action;
  /** Id (or index path) of the rule that decided; undefined when the default action applied. */
  readonly ruleId?: string | undefined;
  /** Message shown to the client on deny/review. */
  readonly message?: string | undefined;
}
