/**
 * The policy part of the configuration file: JSON Schema fragments (composed into the full config
 * schema by @gatehouse/config) and the matching TypeScript types. Owned here so that the rule model
 * and its validation live next to the engine that evaluates them.
 */
export type RuleAction = 'allow' | 'deny' | 'review';

export interface SqlMatcherConfig {
  /** Statement kinds as the PostgreSQL parser names them (`select`, `drop`, …) or aliases (`ddl`, `write`, `read`, `admin`). */
  kinds?: string[];
  /** Tables, schema-qualified or not. */
  tables?: string[];
  /** Functions called. */
  functions?: string[];
  /** `absent` matches UPDATE/DELETE without a WHERE clause. */
  where?: 'absent';
  /** Regex over the raw command text (case-insensitive): a last resort. */
  pattern?: string;
}

export interface ShellMatcherConfig {
  /** Matches only commands the shell parser could not fully see. */
  opaque?: true;
  programs?: string[];
  /** Argument patterns (globs) that must all appear. */
  args?: string[];
  channels?: Array<'shell' | 'exec' | 'sftp' | 'port-forward' | 'agent-forward' | 'x11'>;
  /** Port-forward destinations as `host:port` globs. */
  destinations?: string[];
  /** SFTP operations (`open`, `read`, `write`, `remove`, `rename`, `mkdir`, …). */
  sftpOps?: string[];
  /** SFTP paths: `*` matches within a segment, `**` across segments. */
  paths?: string[];
  /** Regex over the command text (case-sensitive). */
  pattern?: string;
}

export interface KubernetesMatcherConfig {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  subresources?: string[];
  namespaces?: string[];
  names?: string[];
  /** Non-resource URL globs such as `/healthz*` or `/version`. */
  nonResourcePaths?: string[];
}

export interface HttpMatcherConfig {
  methods?: string[];
  /** Path globs: `*` matches within a segment, `**` across segments. */
  paths?: string[];
  /** Header names that must be present. */
  headers?: string[];
}

export interface RuleConfig {
  id?: string;
  action: RuleAction;
  message?: string;
  subjects?: string[];
  notSubjects?: string[];
  groups?: string[];
  notGroups?: string[];
  sql?: SqlMatcherConfig;
  shell?: ShellMatcherConfig;
  kubernetes?: KubernetesMatcherConfig;
  http?: HttpMatcherConfig;
}

export interface RuleSetConfig {
  description?: string;
  rules: RuleConfig[];
}

/** A connection's policy: named global rule sets first, then its own rules, then the default. */
export interface ConnectionPolicyConfig {
  use?: string[];
  rules?: RuleConfig[];
  defaultAction?: RuleAction;
}

export type MaskStyle = 'full' | 'partial' | 'hash';

export interface MaskingRuleConfig {
  name: string;
  /** Column / JSON field name globs (case-insensitive). */
  columns?: string[];
  /** Built-in detector names or custom detector names. */
  detectors?: string[];
  style?: MaskStyle;
  /** Connection name globs the rule applies to; all connections when absent. */
  connections?: string[];
  /** Identities in any of these groups see the values this rule covers in clear. */
  exemptGroups?: string[];
  /** Subjects (globs) that see the values this rule covers in clear. */
  exemptSubjects?: string[];
}

export interface CustomDetectorConfig {
  name: string;
  pattern: string;
  ignoreCase?: boolean;
}

export interface MaskingConfig {
  /** Key for the `hash` style; a secret reference such as `${env:GATEHOUSE_MASK_KEY}`. */
  hashKey?: string;
  rules?: MaskingRuleConfig[];
  detectors?: CustomDetectorConfig[];
  /**
   * `all` (default): every built-in detector runs, in `full` style unless a rule names it.
   * `named`: only detectors named by a masking rule run.
   */
  builtinDetectors?: 'all' | 'named';
}

export interface ApprovalsConfig {
  approverGroups?: string[];
  timeout?: string;
  webhook?: { url: string; secret?: string; timeout?: string; retries?: number };
}

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;
/** Matcher lists: an empty list would silently match nothing, which hides mistakes. */
const matchList = { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } } as const;
const shellChannels = ['shell', 'exec', 'sftp', 'port-forward', 'agent-forward', 'x11'] as const;

export const sqlMatcherSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kinds: matchList,
    tables: matchList,
    functions: matchList,
    where: { enum: ['absent'] },
    pattern: { type: 'string', minLength: 1 },
  },
} as const;

export const shellMatcherSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    programs: matchList,
    args: matchList,
    channels: { type: 'array', minItems: 1, items: { enum: shellChannels } },
    destinations: matchList,
    sftpOps: matchList,
    paths: matchList,
    pattern: { type: 'string', minLength: 1 },
    opaque: { const: true },
  },
} as const;

export const kubernetesMatcherSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    verbs: matchList,
    /** `''` (or `core`) is the core API group. */
    apiGroups: { type: 'array', minItems: 1, items: { type: 'string' } },
    resources: matchList,
    subresources: matchList,
    namespaces: matchList,
    names: matchList,
    nonResourcePaths: matchList,
  },
} as const;

export const httpMatcherSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { methods: matchList, paths: matchList, headers: matchList },
} as const;

export const ruleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    id: { type: 'string', minLength: 1 },
    action: { enum: ['allow', 'deny', 'review'] },
    message: { type: 'string' },
    subjects: matchList,
    notSubjects: matchList,
    groups: matchList,
    notGroups: matchList,
    sql: sqlMatcherSchema,
    shell: shellMatcherSchema,
    kubernetes: kubernetesMatcherSchema,
    http: httpMatcherSchema,
  },
} as const;

export const ruleSetSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: { description: { type: 'string' }, rules: { type: 'array', items: ruleSchema } },
} as const;

export const connectionPolicySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    use: stringList,
    rules: { type: 'array', items: ruleSchema },
    defaultAction: { enum: ['allow', 'deny', 'review'] },
  },
} as const;

export const maskingSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    hashKey: { type: 'string', minLength: 1 },
    builtinDetectors: { enum: ['all', 'named'] },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1 },
          columns: matchList,
          detectors: matchList,
          style: { enum: ['full', 'partial', 'hash'] },
          connections: matchList,
          exemptGroups: matchList,
          exemptSubjects: matchList,
        },
      },
    },
    detectors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'pattern'],
        properties: {
          name: { type: 'string', minLength: 1 },
          pattern: { type: 'string', minLength: 1 },
          ignoreCase: { type: 'boolean' },
        },
      },
    },
  },
} as const;

export const approvalsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    approverGroups: stringList,
    timeout: { type: 'string' },
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', minLength: 1 },
        secret: { type: 'string' },
        timeout: { type: 'string' },
        retries: { type: 'integer', minimum: 0, maximum: 20 },
      },
    },
  },
} as const;
