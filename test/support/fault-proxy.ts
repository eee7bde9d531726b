import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LEASE_PATH } from '../../remediation/lease.js';

/**
 * A small HTTP proxy in front of the emulator that answers one chosen IAM action with an error, so that tests
 * can fail a migration at any step and check the rollback. IAM speaks the AWS query protocol: the action is
 * the `Action` field of the form-encoded body.
 */
export interface FaultProxy {
  readonly endpoint: string;
  /**
   * Fails the `occurrence`-th call (1 = the next) of `action` from now on, once, with error `code` (default
   * INJECTED_ERROR_CODE; NoSuchEntity imitates a change IAM does not show yet). Faults add up.
   */
  failOnce(action: string, occurrence?: number, code?: string): void;
  /** Removes pending faults and forgets the calls seen. */
  clear(): void;
  /**
   * Every IAM action forwarded or failed since the last clear(), in order, except the calls that take, check
   * and release the migration's leases: those are in leaseActions, and faults do not count or hit them.
   */
  readonly actions: string[];
  readonly leaseActions: string[];
  /** The actions that were answered with the injected error. */
  readonly failed: string[];
  stop(): Promise<void>;
}

/** The error code the proxy answers with: a client error the SDK does not retry. */
export const INJECTED_ERROR_CODE = 'InjectedFault';

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let faults: { action: string; remaining: number; code: string }[] = [];
  const actions: string[] = [];
  const leaseActions: string[] = [];
  const failed: string[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const form = new URLSearchParams(body.toString('utf8'));
      const action = form.get('Action') ?? '';
      const isLeaseCall = [form.get('Path'), form.get('PathPrefix'), form.get('PolicyArn')].some((v) =>
        v?.includes(LEASE_PATH),
      );
      if (isLeaseCall) leaseActions.push(action);
      else if (action !== '') actions.push(action);
      let hit: string | undefined;
      if (!isLeaseCall) {
        for (const fault of faults) if (fault.action === action && --fault.remaining === 0) hit = fault.code;
      }
      faults = faults.filter((f) => f.remaining > 0);
      if (hit !== undefined) {
        failed.push(action);
        res.writeHead(hit === 'NoSuchEntity' ? 404 : 400, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>${hit}</Code><Message>fault injected into ${action}</Message></Error><RequestId>fault</RequestId></ErrorResponse>`,
        );
        return;
      }
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    failOnce(action, occurrence = 1, code = INJECTED_ERROR_CODE) {
      if (occurrence < 1) throw new Error('occurrence starts at 1');
      faults.push({ action, remaining: occurrence, code });
    },
    clear() {
      faults = [];
      actions.length = 0;
      leaseActions.length = 0;
      failed.length = 0;
    },
    actions,
    leaseActions,
    failed,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
