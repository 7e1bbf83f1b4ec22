import { approvalsSchema, connectionPolicySchema, maskingSchema, ruleSetSchema } from '@gatehouse/policy';
import { ASYMMETRIC_ALGORITHMS, BUILTIN_PROTOCOLS, LOG_LEVELS } from './types.js';

/*
 * The JSON Schema of the config file. It serves two readers: editors (through the shipped
 * gatehouse.schema.json, so descriptions matter) and the loader (through Ajv). Checks that a
 * schema cannot express well (listen addresses, URL parsing, cross references, regexes) live in
 * code and report in the same format.
 */

export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$';
export const NAME_PATTERN = '^[a-z0-9][a-z0-9_-]*$';

type Schema = Record<string, unknown>;

/**
 * Message overrides for particular schema nodes, keyed by the node object Ajv reports. They get
 * the offending value already quoted (or replaced, when it holds a secret).
 */
export const schemaMessages = new WeakMap<object, (shown: string) => string>();

function withMessage<T extends Schema>(schema: T, message: (shown: string) => string): T {
  schemaMessages.set(schema, message);
  return schema;
}

const str = (description?: string): Schema => ({
  type: 'string',
  minLength: 1,
  ...(description === undefined ? {} : { description }),
});
const strList = (description: string): Schema => ({
  type: 'array',
  items: { type: 'string', minLength: 1 },
  description,
});

export const durationMessage = (shown: string) => `bad duration ${shown} (use e.g. 30s, 5m, 1h)`;

// The default goes in here rather than by spreading: the message table is keyed by this object.
const durationSchema = (description: string, fallback: string): Schema =>
  withMessage(
    {
      type: 'string',
      pattern: DURATION_PATTERN,
      default: fallback,
      description: `${description} A duration: 250ms, 30s, 5m, 1h30m, 2d.`,
    },
    durationMessage,
  );

const portSchema = (description: string, fallback?: number): Schema => ({
  type: 'integer',
  minimum: 1,
  maximum: 65535,
  description,
  ...(fallback === undefined ? {} : { default: fallback }),
});

const listenSchema = (description: string): Schema => ({
  type: ['string', 'integer'],
  minLength: 1,
  minimum: 0,
  maximum: 65535,
  description: `${description} host:port, [ipv6]:port, or a port alone (host 127.0.0.1).`,
});

const hostSchema = str('Upstream host name or IP address.');

const providerSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'audience'],
  description: 'An external OIDC issuer. Give exactly one of discovery, discoveryUrl, jwksUri, jwksFile.',
  properties: {
    issuer: str('Expected `iss` claim, compared exactly.'),
    audience: {
      type: ['string', 'array'],
      minLength: 1,
      minItems: 1,
      items: { type: 'string', minLength: 1 },
      description: 'Accepted `aud` value, or a list of them.',
    },
    discovery: {
      type: 'boolean',
      description: 'Find the JWKS through <issuer>/.well-known/openid-configuration.',
    },
    discoveryUrl: str('OIDC discovery document URL, when not under the issuer.'),
    jwksUri: str('JWKS URL.'),
    jwksFile: str('Local JWKS file, relative to this file.'),
    algorithms: {
      type: 'array',
      minItems: 1,
      items: withMessage(
        { enum: [...ASYMMETRIC_ALGORITHMS] },
        (shown) =>
          `algorithm ${shown} is not allowed: only asymmetric ones (${ASYMMETRIC_ALGORITHMS.join(', ')})`,
      ),
      description: 'Accepted signature algorithms; default: all asymmetric ones. HS* and none are refused.',
    },
    groupsClaim: str('Groups claim for this provider; default: identity.groupsClaim.'),
    allowInsecureHttp: {
      type: 'boolean',
      default: false,
      description: 'Allow plain-http discovery/JWKS URLs to non-loopback hosts.',
    },
  },
};

const devClientSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'secret'],
  description: 'A workload (an agent) that obtains development tokens with its client id and secret.',
  properties: {
    id: str('The client_id.'),
    secret: {
      type: 'string',
      minLength: 1,
      description: `The client_secret, at least 16 characters; use \${env:…} or \${file:…}.`,
    },
    subject: str('`sub` of the issued tokens; default: the client id.'),
    groups: strList('`groups` of the issued tokens.'),
    ttl: durationSchema('Lifetime of each token, at most 24h.', '15m'),
  },
};

const identitySchema: Schema = {
  type: 'object',
  additionalProperties: false,
  description: 'Who may connect: token issuers and how groups are read from tokens.',
  properties: {
    providers: { type: 'array', items: providerSchema, description: 'External OIDC issuers.' },
    groupsClaim: { ...str('Claim holding the groups list.'), default: 'groups' },
    clockTolerance: durationSchema('Allowed clock skew for exp/nbf, at most 5m.', '30s'),
    devIssuer: {
      type: 'object',
      additionalProperties: false,
      description: 'Built-in development issuer (`gatehouse token issue`); for demos and tests only.',
      properties: {
        enabled: { type: 'boolean', default: false },
        issuer: { ...str(), default: 'urn:gatehouse:dev' },
        audience: { ...str(), default: 'gatehouse' },
        clients: {
          type: 'array',
          items: devClientSchema,
          description:
            'OAuth 2.0 clients that may get tokens from the admin API (POST /oauth/token, client-credentials grant), standing in for an IdP locally.',
        },
      },
    },
  },
};

const sessionLogSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  description: 'The append-only SQLite session log.',
  properties: {
    path: str('SQLite file; default <dataDir>/sessions.db.'),
    strict: {
      type: 'boolean',
      default: true,
      description: 'Refuse a command when its event cannot be committed.',
    },
    synchronous: { enum: ['full', 'normal'], default: 'full', description: 'SQLite synchronous mode.' },
  },
};

const adminSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  description: 'Admin HTTP API: sessions, approvals, /healthz, /metrics.',
  properties: {
    enabled: { type: 'boolean', default: true },
    listen: { ...listenSchema('Admin API address.'), default: '127.0.0.1:9090' },
    adminGroups: strList('Groups allowed to use the admin API.'),
  },
};

const accessSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  description: 'Who may use this connection; both empty: any authenticated identity.',
  properties: {
    groups: strList('Any of these groups.'),
    subjects: strList('Any of these subjects (`sub`).'),
  },
};

const upstreamSchemas: Record<string, Schema> = {
  postgres: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'user'],
    properties: {
      host: hostSchema,
      port: portSchema('Upstream port.', 5432),
      database: str('Database to connect to; default: the one the client asks for.'),
      user: str('Role the gateway logs in as.'),
      password: { type: 'string', description: `Use \${env:…} or \${file:…}.` },
      tls: {
        type: 'object',
        additionalProperties: false,
        properties: {
          mode: { enum: ['disable', 'require', 'verify-full'], default: 'disable' },
          ca: str('CA bundle (PEM) for verify-full, relative to this file.'),
        },
      },
    },
  },
  ssh: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'hostKey'],
    properties: {
      host: hostSchema,
      port: portSchema('Upstream port.', 22),
      user: str('User the gateway logs in as; default: the user the client asked for.'),
      password: { type: 'string', description: `Use \${env:…} or \${file:…}.` },
      privateKey: str(`Private key: a path relative to this file, or PEM text via \${file:…}.`),
      hostKey: str('Upstream host key: a known_hosts line / public key, or a SHA256: fingerprint.'),
    },
  },
  kubernetes: {
    type: 'object',
    additionalProperties: false,
    required: ['kubeconfig'],
    properties: {
      kubeconfig: str('kubeconfig file with the gateway credentials, relative to this file.'),
      context: str('Context to use; default: the current context.'),
    },
  },
  http: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: str('Base URL of the upstream API (http or https).'),
      headers: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Headers added to every forwarded request (e.g. upstream credentials).',
      },
    },
  },
};

const hostPortUpstream: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port'],
  properties: { host: hostSchema, port: portSchema('Upstream port.') },
};

function connectionSchema(protocols: readonly string[], extra: readonly string[]): Schema {
  const byProtocol = [
    ...BUILTIN_PROTOCOLS.map((p) => ({
      if: { properties: { protocol: { const: p } }, required: ['protocol'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, never awaited
      then: { properties: { upstream: upstreamSchemas[p] } },
    })),
    ...(extra.length === 0
      ? []
      : [
          {
            if: { properties: { protocol: { enum: [...extra] } }, required: ['protocol'] },
            // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, never awaited
            then: { properties: { upstream: hostPortUpstream } },
          },
        ]),
  ];
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'protocol', 'listen', 'upstream'],
    properties: {
      name: withMessage(
        {
          type: 'string',
          pattern: NAME_PATTERN,
          maxLength: 63,
          description: 'Unique name: [a-z0-9][a-z0-9-_]*.',
        },
        () => 'a connection name must start with a-z or 0-9 and use only a-z, 0-9, "-" and "_"',
      ),
      protocol: withMessage(
        { type: 'string', enum: [...protocols], description: 'Wire protocol spoken on this port.' },
        (shown) => `unknown protocol ${shown} (valid: ${protocols.join(', ')})`,
      ),
      listen: listenSchema('Where the gateway listens for this connection.'),
      access: accessSchema,
      upstream: { type: 'object', description: 'The real server; shape depends on protocol.' },
      policy: connectionPolicySchema,
      options: { type: 'object', description: 'Protocol-specific options.' },
    },
    allOf: byProtocol,
  };
}

/** The full schema; `extraProtocols` adds protocols whose upstream is `{ host, port }`. */
export function buildConfigSchema(extraProtocols: readonly string[] = []): Schema {
  const extra = [...new Set(extraProtocols)].filter(
    (p) => !(BUILTIN_PROTOCOLS as readonly string[]).includes(p),
  );
  const protocols = [...BUILTIN_PROTOCOLS, ...extra];
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Gatehouse configuration',
    type: 'object',
    additionalProperties: false,
    // `x-…` keys are ignored, as in Compose files: a place to define YAML anchors once.
    patternProperties: { '^x-': {} },
    properties: {
      dataDir: {
        ...str('Directory for the session log, generated keys and certificates.'),
        default: '.gatehouse',
      },
      identity: identitySchema,
      sessionLog: sessionLogSchema,
      admin: adminSchema,
      approvals: { ...approvalsSchema, description: 'Just-in-time approvals; see docs/policy.md.' },
      policies: {
        type: 'object',
        additionalProperties: ruleSetSchema,
        propertyNames: withMessage(
          { pattern: NAME_PATTERN },
          () => 'rule set names use a-z, 0-9, "-" and "_"',
        ),
        description: 'Named global rule sets that connections `use`; see docs/policy.md.',
      },
      masking: { ...maskingSchema, description: 'Masking rules and detectors; see docs/policy.md.' },
      logging: {
        type: 'object',
        additionalProperties: false,
        properties: { level: { enum: [...LOG_LEVELS], default: 'info' } },
      },
      shutdown: {
        type: 'object',
        additionalProperties: false,
        properties: {
          drainTimeout: durationSchema('How long open sessions may finish on shutdown.', '10s'),
        },
      },
      limits: {
        type: 'object',
        additionalProperties: false,
        properties: {
          handshakeTimeout: durationSchema('Time a client has to authenticate.', '10s'),
          maxConnectionsPerSource: {
            type: 'integer',
            minimum: 0,
            default: 0,
            description: 'Open connections per client IP; 0 = unlimited.',
          },
        },
      },
      connections: {
        type: 'array',
        items: connectionSchema(protocols, extra),
        description: 'Gateway ports, one per upstream.',
      },
    },
  };
}

/** The schema for the built-in protocols, as shipped in gatehouse.schema.json. */
export const configSchema: Readonly<Record<string, unknown>> = buildConfigSchema();
