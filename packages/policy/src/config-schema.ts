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
  /** Regex over the raw statement text: a last resort. */
  pattern?: string;
}

export interface ShellMatcherConfig {
  programs?: string[];
  /** Argument patterns (globs) that must all appear. */
  args?: string[];
  channels?: Array<'shell' | 'exec' | 'sftp' | 'port-forward' | 'agent-forward' | 'x11'>;
  pattern?: string;
}

export interface KubernetesMatcherConfig {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  subresources?: string[];
  namespaces?: string[];
  names?: string[];
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
}

export interface CustomDetectorConfig {
  name: string;
  pattern: string;
}

export interface MaskingConfig {
  /** Key for the `hash` style; a secret reference such as `${env:GATEHOUSE_MASK_KEY}`. */
  hashKey?: string;
  rules?: MaskingRuleConfig[];
  detectors?: CustomDetectorConfig[];
}

export interface ApprovalsConfig {
  approverGroups?: string[];
  timeout?: string;
  webhook?: { url: string; secret?: string; timeout?: string; retries?: number };
}

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

export const sqlMatcherSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kinds: stringList,
    tables: stringList,
    functions: stringList,
    where: { enum: ['absent'] },
    pattern: { type: 'string', minLength: 1 },
  },
} as const;

export const shellMatcherSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    programs: stringList,
    args: stringList,
    channels: {
      type: 'array',
      items: { enum: ['shell', 'exec', 'sftp', 'port-forward', 'agent-forward', 'x11'] },
    },
    pattern: { type: 'string', minLength: 1 },
  },
} as const;

export const kubernetesMatcherSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    verbs: stringList,
    apiGroups: { type: 'array', items: { type: 'string' } },
    resources: stringList,
    subresources: stringList,
    namespaces: stringList,
    names: stringList,
  },
} as const;

export const httpMatcherSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { methods: stringList, paths: stringList, headers: stringList },
} as const;

export const ruleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    id: { type: 'string', minLength: 1 },
    action: { enum: ['allow', 'deny', 'review'] },
    message: { type: 'string' },
    subjects: stringList,
    notSubjects: stringList,
    groups: stringList,
    notGroups: stringList,
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
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1 },
          columns: stringList,
          detectors: stringList,
          style: { enum: ['full', 'partial', 'hash'] },
        },
      },
    },
    detectors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'pattern'],
        properties: { name: { type: 'string', minLength: 1 }, pattern: { type: 'string', minLength: 1 } },
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
