/** The demo's configuration, written next to its data so the CLI's reading commands can use it. */
export function demoConfigYaml(ports: { http: number; admin: number; upstream: number }): string {
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
`;
}
