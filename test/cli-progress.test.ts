import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EMULATOR_CLI_ENV, runCli } from './support/cli.js';

/**
 * moto returns every user in one page whatever MaxItems says, so a large account is served here: a minimal
 * IAM query-API endpoint answering GetAccountAuthorizationDetails with 2,500 users in pages of 1,000,
 * following Marker as IAM does. Every other user carries a direct managed policy.
 */
const USERS = 2500;
const PAGE = 1000;
let server: Server;
let endpoint: string;
const markersSeen: (string | null)[] = [];

function userXml(i: number): string {
  const policy =
    i % 2 === 0
      ? '<member><PolicyName>AmazonS3ReadOnlyAccess</PolicyName><PolicyArn>arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess</PolicyArn></member>'
      : '';
  return `<member><Path>/</Path><UserName>user-${i}</UserName><UserId>AIDA${String(i).padStart(17, '0')}</UserId><Arn>arn:aws:iam::123456789012:user/user-${i}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate><UserPolicyList/><GroupList/><AttachedManagedPolicies>${policy}</AttachedManagedPolicies><Tags/></member>`;
}

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const form = new URLSearchParams(body);
      if (form.get('Action') !== 'GetAccountAuthorizationDetails') {
        response.writeHead(400).end();
        return;
      }
      const marker = form.get('Marker');
      markersSeen.push(marker);
      const start = marker === null ? 0 : Number(marker);
      const end = Math.min(start + PAGE, USERS);
      const users = Array.from({ length: end - start }, (_, k) => userXml(start + k)).join('');
      const more = end < USERS;
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(
        `<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountAuthorizationDetailsResult><IsTruncated>${more}</IsTruncated>${more ? `<Marker>${end}</Marker>` : ''}<UserDetailList>${users}</UserDetailList><GroupDetailList/><RoleDetailList/><Policies/></GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>`,
      );
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((closed) => server.close(closed));
});

it('a large account is read page by page with progress on stderr, and every user is judged', async () => {
  const run = await runCli(['--endpoint', endpoint, 'scan', '--format', 'json'], EMULATOR_CLI_ENV);
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(
    [
      'Read 1000 IAM users so far (page 1), reading more...',
      'Read 2000 IAM users so far (page 2), reading more...',
      'Read 2500 IAM users in 3 pages.',
      '2500 users: 1250 NON_COMPLIANT, 1250 COMPLIANT',
      '',
    ].join('\n'),
  );
  expect(markersSeen).toEqual([null, '1000', '2000']);
  const report = JSON.parse(run.stdout);
  expect(report.users).toHaveLength(USERS);
});
