import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defaultQuotasFor,
  parseAuthorizationDetails,
} from '../remediation/design/authorization-details-file.js';

const fixture = readFileSync(
  join(import.meta.dirname, 'fixtures', 'design', 'authorization-details.json'),
  'utf8',
);
const withUsers = (users: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ UserDetailList: users, ...extra });
const bob = (document: unknown) => ({
  UserName: 'bob',
  UserId: 'AIDAEXAMPLEBOB000000',
  Arn: 'arn:aws:iam::123456789012:user/bob',
  UserPolicyList: [{ PolicyName: 'p', PolicyDocument: document }],
});

describe('parseAuthorizationDetails: the saved answer of get-account-authorization-details', () => {
  it('reads users with tags and decoded documents, groups with members, customer policies only', () => {
    const snapshot = parseAuthorizationDetails(fixture, 'fixture.json');
    expect(snapshot.users).toHaveLength(10);
    expect(snapshot.users.find((u) => u.userName === 'bob')?.tags).toEqual({ team: 'payments' });
    expect(
      JSON.parse(snapshot.users.find((u) => u.userName === 'bob')?.inlinePolicies[0]?.document ?? ''),
    ).toMatchObject({
      Version: '2012-10-17',
    });
    expect(snapshot.groups.find((g) => g.groupName === 'developers')?.memberNames).toEqual(['alice', 'dave']);
    // ReadOnlyAccess (AWS managed) is listed in Policies by the CLI; the design refers to it by ARN only.
    expect(snapshot.customerPolicies.map((p) => p.policyName)).toEqual(['payments-deploy']);
    expect(defaultQuotasFor(snapshot)).toMatchObject({
      attachedPoliciesPerGroup: 10,
      groups: 2,
      policies: 1,
    });
  });

  it('takes a document as a JSON object, JSON text, or URL-encoded JSON text, all the same', () => {
    const doc = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/100%/*' }],
    };
    const read = (d: unknown) =>
      parseAuthorizationDetails(withUsers([bob(d)]), 'f.json').users[0]?.inlinePolicies[0]?.document;
    const expected = JSON.stringify(doc);
    expect(read(doc)).toBe(expected);
    expect(read(JSON.stringify(doc))).toBe(expected);
    expect(read(encodeURIComponent(JSON.stringify(doc)))).toBe(expected);
  });

  const bad: [string, string, RegExp][] = [
    ['not JSON', '{"UserDetailList": [', /^f\.json is not valid JSON/],
    ['no UserDetailList', '{"Users": []}', /is malformed: UserDetailList/],
    [
      'a user without UserId',
      withUsers([{ UserName: 'x', Arn: 'arn:aws:iam::1:user/x' }]),
      /UserDetailList\.0\.UserId/,
    ],
    ['a truncated page', withUsers([], { IsTruncated: true, Marker: 'm' }), /truncated answer/],
    [
      'a document that is neither JSON nor URL-encoded JSON',
      withUsers([bob('%E0%A4%A')]),
      /user bob inline policy p: the policy document is neither JSON/,
    ],
  ];
  for (const [name, text, message] of bad) {
    it(`refuses ${name}, naming the file and field`, () => {
      expect(() => parseAuthorizationDetails(text, 'f.json')).toThrow(message);
    });
  }
});
