/** The demo's PostgreSQL connection: the gateway's port and the throwaway cluster behind it. */
export interface DemoPostgresConnection {
  /** The gateway's PostgreSQL port on 127.0.0.1. */
  readonly listen: number;
  readonly upstreamPort: number;
  readonly database: string;
  readonly user: string;
  /** The upstream role's password file, relative to the config file's directory. */
  readonly passwordFile: string;
}

/** The demo's configuration, written next to its data so the CLI's reading commands can use it. */
export function demoConfigYaml(
  ports: { http: number; admin: number; upstream: number },
  postgres?: DemoPostgresConnection,
): string {
  return `# Written by \`gatehouse demo\`. Read it with: gatehouse sessions list --config <this file>
dataDir: .
identity:
  devIssuer: { enabled: true }
sessionLog:
  path: sessions.db
admin:
  listen: 127.0.0.1:${ports.admin}
  adminGroups: [gatehouse-admins]
approvals:
  approverGroups: [approvers]
  timeout: 5m
masking:
  rules:
    - name: personal-data
      columns: [email, card_number, ssn, phone]
      style: partial
policies:
  guard:
    rules:
      - id: no-deletes
        action: deny
        message: Deleting customers is not allowed through the gateway.
        http: { methods: [DELETE], paths: ["/customers/**"] }
      - id: refunds-need-approval
        action: review
        message: Refunds need a human's approval.
        http: { methods: [POST], paths: ["/refunds"] }
connections:
  - name: customers-api
    protocol: http
    listen: 127.0.0.1:${ports.http}
    access: { groups: [agents] }
    upstream:
      url: http://127.0.0.1:${ports.upstream}
    policy:
      use: [guard]
      defaultAction: allow
${postgres === undefined ? '' : postgresConnectionYaml(postgres)}`;
}

function postgresConnectionYaml(pg: DemoPostgresConnection): string {
  return `  - name: demo-db
    protocol: postgres
    listen: 127.0.0.1:${pg.listen}
    access: { groups: [agents] }
    upstream:
      host: 127.0.0.1
      port: ${pg.upstreamPort}
      database: ${pg.database}
      user: ${pg.user}
      password: \${file:${pg.passwordFile}}
    policy:
      rules:
        - id: no-drops
          action: deny
          message: Dropping or truncating tables is not allowed through the gateway.
          sql: { kinds: [drop, drop_database, truncate] }
        - id: unbounded-deletes
          action: review
          message: A DELETE without WHERE needs a human's approval.
          sql: { kinds: [delete], where: absent }
      defaultAction: allow
`;
}
