import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** IAM's limit on the inline policy text of one user (characters, whitespace not counted). */
export const INLINE_CHARACTERS_PER_USER = 2_048;
/** IAM's limit on the inline policy text of one group. */
export const INLINE_CHARACTERS_PER_GROUP = 5_120;
/** IAM's limit on one managed policy document (PolicySizeQuota). */
export const MANAGED_POLICY_CHARACTERS = 6_144;
/** IAM keeps at most this many versions of a managed policy. */
export const VERSIONS_PER_POLICY = 5;
/** IAM's default quotas on groups and customer managed policies per account. */
export const GROUPS_QUOTA = 300;
export const POLICIES_QUOTA = 1_500;
const PAGE = 1_000;
const ACCOUNT = '123456789012';

/** An IAM policy document of exactly `characters` characters, URL-encoded as IAM returns it. */
function maximalDocument(characters: number, seed: string | number): string {
  const head = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b${seed}/`;
  const tail = '"}]}';
  return encodeURIComponent(head + 'x'.repeat(characters - head.length - tail.length) + tail);
}

/** What the stand-in account holds besides its users' own inline policies. */
export interface LargeAccount {
  /** Users, each with one inline policy of INLINE_CHARACTERS_PER_USER. */
  readonly users: number;
  /**
   * Groups, each with an inline policy of INLINE_CHARACTERS_PER_GROUP and one of the customer managed
   * policies attached; user i is in group i mod `groups`. @default 0
   */
  readonly groups?: number;
  /**
   * Customer managed policies, each with VERSIONS_PER_POLICY versions of MANAGED_POLICY_CHARACTERS (the last
   * is the default), as GetAccountAuthorizationDetails returns them: every version with its document.
   * @default 0
   */
  readonly customerPolicies?: number;
  /**
   * The user a migration is measured on: besides its inline policy, it has the last customer managed policy
   * and an AWS managed policy attached directly. @default none
   */
  readonly migratedUser?: number;
}

type Account = LargeAccount & { readonly groups: number; readonly customerPolicies: number };

/** The ID the stand-in gives user `i`: AIDA-shaped, as IAM's are. */
export function largeAccountUserId(i: number): string {
  return `AIDA${String(i).padStart(17, '0')}`;
}

const policyArn = (p: number) => `arn:aws:iam::${ACCOUNT}:policy/policy-${p}`;

function userMember(i: number, account: Account): string {
  const groupList =
    account.groups > 0
      ? `<GroupList><member>team-${i % account.groups}</member></GroupList>`
      : '<GroupList/>';
  const attached =
    i === account.migratedUser
      ? `<AttachedManagedPolicies><member><PolicyName>policy-${account.customerPolicies - 1}</PolicyName><PolicyArn>${policyArn(account.customerPolicies - 1)}</PolicyArn></member><member><PolicyName>ReadOnlyAccess</PolicyName><PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn></member></AttachedManagedPolicies>`
      : '<AttachedManagedPolicies/>';
  return `<member><Path>/</Path><UserName>user-${i}</UserName><UserId>${largeAccountUserId(i)}</UserId><Arn>arn:aws:iam::${ACCOUNT}:user/user-${i}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate>${groupList}${attached}<Tags/><UserPolicyList><member><PolicyName>own-${i}</PolicyName><PolicyDocument>${maximalDocument(INLINE_CHARACTERS_PER_USER, i)}</PolicyDocument></member></UserPolicyList></member>`;
}

function groupMember(g: number, customerPolicies: number): string {
  const attached =
    customerPolicies > 0
      ? `<AttachedManagedPolicies><member><PolicyName>policy-${g % customerPolicies}</PolicyName><PolicyArn>${policyArn(g % customerPolicies)}</PolicyArn></member></AttachedManagedPolicies>`
      : '<AttachedManagedPolicies/>';
  return `<member><Path>/</Path><GroupName>team-${g}</GroupName><GroupId>AGPA${String(g).padStart(17, '0')}</GroupId><Arn>arn:aws:iam::${ACCOUNT}:group/team-${g}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate><GroupPolicyList><member><PolicyName>team-${g}-inline</PolicyName><PolicyDocument>${maximalDocument(INLINE_CHARACTERS_PER_GROUP, `g${g}`)}</PolicyDocument></member></GroupPolicyList>${attached}</member>`;
}

function policyMember(p: number): string {
  const versions: string[] = [];
  for (let v = 1; v <= VERSIONS_PER_POLICY; v++) {
    versions.push(
      `<member><Document>${maximalDocument(MANAGED_POLICY_CHARACTERS, `p${p}v${v}`)}</Document><VersionId>v${v}</VersionId><IsDefaultVersion>${v === VERSIONS_PER_POLICY}</IsDefaultVersion><CreateDate>2024-01-01T00:00:00Z</CreateDate></member>`,
    );
  }
  return `<member><PolicyName>policy-${p}</PolicyName><PolicyId>ANPA${String(p).padStart(17, '0')}</PolicyId><Arn>${policyArn(p)}</Arn><Path>/</Path><DefaultVersionId>v${VERSIONS_PER_POLICY}</DefaultVersionId><AttachmentCount>1</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable><CreateDate>2024-01-01T00:00:00Z</CreateDate><UpdateDate>2024-01-01T00:00:00Z</UpdateDate><PolicyVersionList>${versions.join('')}</PolicyVersionList></member>`;
}

const list = (name: string, members: readonly string[]) =>
  members.length === 0 ? `<${name}/>` : `<${name}>${members.join('')}</${name}>`;

/** GetAccountAuthorizationDetails: users, then groups, then policies, of the types the filter names, 1,000 entries a page. */
function authorizationDetails(form: URLSearchParams, account: Account): string {
  const filter = new Set(
    [...form.entries()].filter(([k]) => k.startsWith('Filter.member.')).map(([, v]) => v),
  );
  const wants = (type: string) => filter.size === 0 || filter.has(type);
  const users = wants('User') ? account.users : 0;
  const groups = wants('Group') ? account.groups : 0;
  const policies = wants('LocalManagedPolicy') ? account.customerPolicies : 0;
  const start = Number(form.get('Marker') ?? '0');
  const end = Math.min(users + groups + policies, start + PAGE);
  const userMembers: string[] = [];
  const groupMembers: string[] = [];
  const policyMembers: string[] = [];
  for (let i = start; i < end; i++) {
    if (i < users) userMembers.push(userMember(i, account));
    else if (i < users + groups) groupMembers.push(groupMember(i - users, account.customerPolicies));
    else policyMembers.push(policyMember(i - users - groups));
  }
  const truncated = end < users + groups + policies;
  return `<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountAuthorizationDetailsResult><IsTruncated>${truncated}</IsTruncated>${truncated ? `<Marker>${end}</Marker>` : ''}${list('UserDetailList', userMembers)}${list('GroupDetailList', groupMembers)}<RoleDetailList/>${list('Policies', policyMembers)}</GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>`;
}

/** GetAccountSummary: the account's usage against IAM's default quotas. */
function accountSummary(account: Account): string {
  const entries = {
    Users: account.users,
    Groups: account.groups,
    GroupsQuota: GROUPS_QUOTA,
    Policies: account.customerPolicies,
    PoliciesQuota: POLICIES_QUOTA,
    GroupsPerUserQuota: 10,
    AttachedPoliciesPerGroupQuota: 10,
    AttachedPoliciesPerUserQuota: 10,
    PolicySizeQuota: MANAGED_POLICY_CHARACTERS,
    PolicyVersionsInUseQuota: 10_000,
  };
  const map = Object.entries(entries)
    .map(([key, value]) => `<entry><key>${key}</key><value>${value}</value></entry>`)
    .join('');
  return `<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountSummaryResult><SummaryMap>${map}</SummaryMap></GetAccountSummaryResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></GetAccountSummaryResponse>`;
}

/**
 * A stand-in for the IAM calls that read a large account (GetAccountAuthorizationDetails, paged by 1,000 as
 * IAM does and honouring its Filter, and GetAccountSummary), with every document at IAM's maximum size.
 * Pages are generated per request, so the server's own memory does not grow with the account (it runs in
 * the benchmark's process, not the measured one). Any other call is answered with an error naming it, so a
 * measured run that makes one fails instead of measuring less.
 */
export async function startLargeIam(shape: number | LargeAccount) {
  const given = typeof shape === 'number' ? { users: shape } : shape;
  const account: Account = { groups: 0, customerPolicies: 0, ...given };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const action = form.get('Action');
      const body =
        action === 'GetAccountAuthorizationDetails'
          ? authorizationDetails(form, account)
          : action === 'GetAccountSummary'
            ? accountSummary(account)
            : undefined;
      if (body === undefined) {
        response.writeHead(400, { 'content-type': 'text/xml' });
        response.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the benchmark's IAM stand-in does not answer ${action}</Message></Error><RequestId>bench</RequestId></ErrorResponse>`,
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(body);
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}
