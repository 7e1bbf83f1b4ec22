import { createServer, type Server } from 'node:http';

/** Sample records with personal data, so that masking has something to do in the demo. */
const CUSTOMERS = [
  {
    id: 1,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    phone: '+44 20 7946 0958',
    card_number: '4111 1111 1111 1111',
    ssn: '078-05-1120',
    note: 'VIP; prefers email at Ada.Lovelace@Example.org',
  },
  {
    id: 2,
    name: 'Alan Turing',
    email: 'alan@example.com',
    phone: '(555) 123-4567',
    card_number: '5500-0000-0000-0004',
    ssn: '219-09-9999',
    note: 'order #4111111111111112 shipped',
  },
  {
    id: 3,
    name: 'Grace Hopper',
    email: 'grace@example.com',
    phone: '+1 202 555 0143',
    card_number: '3400 000000 00009',
    ssn: '457-55-5462',
    note: 'API key on file: AKIAIOSFODNN7EXAMPLE',
  },
];

/**
 * The demo's internal API: a tiny JSON service standing in for the HTTP APIs agents call. It
 * answers honestly, personal data included; the gateway in front decides what leaves.
 */
export async function startDemoUpstream(
  port: number,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const send = (status: number, body: unknown) => {
      const text = `${JSON.stringify(body, null, 2)}\n`;
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const byId = /^\/customers\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/customers') return send(200, { customers: CUSTOMERS });
    if (req.method === 'GET' && byId) {
      const customer = CUSTOMERS.find((c) => c.id === Number(byId[1]));
      return customer ? send(200, customer) : send(404, { error: 'no such customer' });
    }
    if (req.method === 'DELETE' && byId) return send(200, { deleted: Number(byId[1]) });
    if (req.method === 'POST' && url.pathname === '/refunds') {
      req.resume();
      return send(201, { refund: 'created', id: Math.floor(Math.random() * 1e6) });
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    server,
    port: bound,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
