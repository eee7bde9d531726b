import { describe, expect, it } from 'vitest';
import {
  generaliseDocument,
  generaliseUsernames,
  type InlineUserPolicy,
  instantiateUsername,
  USERNAME_VARIABLE as V,
} from '../remediation/design/username-variable.js';

/** The variable in another case: IAM treats it as the same. */
const V_MIXED = V.replace('username', 'UserName');

import { canonicalDocument } from '../remediation/grants.js';

/** A one-statement identity policy. */
function doc(statement: Record<string, unknown>, version: string | null = '2012-10-17'): string {
  return JSON.stringify({ ...(version !== null ? { Version: version } : {}), Statement: [statement] });
}

const home = (name: string) =>
  doc({
    Effect: 'Allow',
    Action: 's3:*',
    Resource: [`arn:aws:s3:::home/${name}/*`, `arn:aws:s3:::home/${name}`],
  });

describe(`generaliseDocument: where the name becomes ${V}`, () => {
  const cases: { name: string; user: string; document: string; template: string | undefined }[] = [
    {
      name: 'a whole ARN path segment in Resource',
      user: 'alice',
      document: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/alice/*' }),
      template: doc({
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::home/${V}/*`,
      }),
    },
    {
      name: 'the segment at the end of an ARN, after "/"',
      user: 'alice',
      document: doc({
        Effect: 'Allow',
        Action: 'iam:ChangePassword',
        Resource: 'arn:aws:iam::123456789012:user/alice',
      }),
      template: doc({
        Effect: 'Allow',
        Action: 'iam:ChangePassword',
        Resource: `arn:aws:iam::123456789012:user/${V}`,
      }),
    },
    {
      name: 'the first segment of an S3 key prefix in a condition ("alice/*")',
      user: 'alice',
      document: doc({
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::home',
        Condition: { StringLike: { 's3:prefix': 'alice/*' } },
      }),
      template: doc({
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::home',
        Condition: { StringLike: { 's3:prefix': `${V}/*` } },
      }),
    },
    {
      name: 'a segment followed by "*"',
      user: 'bob',
      document: doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::logs/bob*' }),
      template: doc({ Effect: 'Allow', Action: 's3:*', Resource: `arn:aws:s3:::logs/${V}*` }),
    },
    {
      name: 'NotResource',
      user: 'bob',
      document: doc({ Effect: 'Deny', Action: 's3:*', NotResource: 'arn:aws:s3:::home/bob/*' }),
      template: doc({ Effect: 'Deny', Action: 's3:*', NotResource: `arn:aws:s3:::home/${V}/*` }),
    },
    {
      name: 'a whole Condition value and a path segment in a Condition value',
      user: 'carol',
      document: doc({
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::home',
        Condition: {
          StringLike: { 's3:prefix': ['home/carol/*'] },
          StringEquals: { 'aws:username': 'carol' },
        },
      }),
      template: doc({
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::home',
        Condition: {
          StringLike: { 's3:prefix': [`home/${V}/*`] },
          StringEquals: { 'aws:username': `${V}` },
        },
      }),
    },
    {
      name: 'a name with IAM punctuation (dots are not wildcards)',
      user: 'j.doe@corp',
      document: doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/j.doe@corp/*' }),
      template: doc({ Effect: 'Allow', Action: 's3:*', Resource: `arn:aws:s3:::home/${V}/*` }),
    },
  ];
  for (const c of cases) {
    it(`generalises ${c.name}`, () => {
      const template = generaliseDocument(c.document, c.user);
      expect(template).toBeDefined();
      expect(canonicalDocument(template as string)).toBe(canonicalDocument(c.template as string));
      expect(instantiateUsername(template as string, c.user)).toBe(canonicalDocument(c.document));
    });
  }

  const nearMisses: { name: string; user: string; document: string }[] = [
    {
      name: 'the name as part of a longer segment',
      user: 'alice',
      document: doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::alice-data/*' }),
    },
    {
      name: 'a segment with the name as a prefix',
      user: 'al',
      document: doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/alice/*' }),
    },
    {
      name: 'the name preceded by something other than "/" or ":"',
      user: 'alice',
      document: doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/x-alice/*' }),
    },
    {
      name: 'a 2008-10-17 document (no variables there)',
      user: 'alice',
      document: doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/alice/*' }, '2008-10-17'),
    },
    {
      name: 'a document without Version',
      user: 'alice',
      document: doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/alice/*' }, null),
    },
    {
      name: 'the name also in Sid',
      user: 'alice',
      document: doc({ Sid: 'alice', Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/alice/*' }),
    },
    {
      name: 'the name in Action',
      user: 'sqs',
      document: doc({
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: 'arn:aws:sqs:us-east-1:123456789012:q/sqs',
      }),
    },
    {
      name: 'the name in a condition key',
      user: 'alice',
      document: doc({
        Effect: 'Allow',
        Action: 's3:*',
        Resource: 'arn:aws:s3:::home/alice/*',
        Condition: { StringEquals: { 'aws:PrincipalTag/alice': 'yes' } },
      }),
    },
    {
      name: 'the name in another case than the user’s',
      user: 'alice',
      document: doc({
        Effect: 'Allow',
        Action: 's3:*',
        Resource: ['arn:aws:s3:::home/alice/*', 'arn:aws:s3:::home/Alice/*'],
      }),
    },
    {
      name: 'a document that already uses the variable',
      user: 'alice',
      document: doc({
        Effect: 'Allow',
        Action: 's3:*',
        Resource: ['arn:aws:s3:::home/alice/*', `arn:aws:s3:::home/${V}/*`],
      }),
    },
    {
      name: 'no occurrence of the name at all',
      user: 'alice',
      document: doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }),
    },
    { name: 'a document that is not JSON', user: 'alice', document: 'arn:aws:s3:::home/alice' },
  ];
  for (const c of nearMisses) {
    it(`does not generalise ${c.name}`, () => {
      expect(generaliseDocument(c.document, c.user)).toBeUndefined();
    });
  }
});

describe('generaliseUsernames: one template for two or more users', () => {
  const p = (userName: string, policyName: string, document: string): InlineUserPolicy => ({
    userName,
    policyName,
    document,
  });

  it('two users with the same home-folder policy share one template, naming both', () => {
    const result = generaliseUsernames([
      p('bob', 'home', home('bob')),
      p('alice', 'alice-home', home('alice')),
    ]);
    expect(result).toHaveLength(1);
    expect(result[0]?.replaces).toEqual([
      { userName: 'alice', policyName: 'alice-home' },
      { userName: 'bob', policyName: 'home' },
    ]);
    expect(JSON.parse(result[0]?.document ?? '')).toEqual(
      JSON.parse(generaliseDocument(home('alice'), 'alice') ?? ''),
    );
  });

  it('layout and key order do not matter', () => {
    const reordered = JSON.stringify(
      {
        Statement: [
          { Resource: ['arn:aws:s3:::home/bob/*', 'arn:aws:s3:::home/bob'], Action: 's3:*', Effect: 'Allow' },
        ],
        Version: '2012-10-17',
      },
      null,
      4,
    );
    expect(generaliseUsernames([p('alice', 'h', home('alice')), p('bob', 'h', reordered)])).toHaveLength(1);
  });

  it('one user alone is not generalised', () => {
    expect(generaliseUsernames([p('alice', 'home', home('alice'))])).toEqual([]);
  });

  it('documents that differ in anything but the name are not merged', () => {
    const other = doc({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: ['arn:aws:s3:::home/bob/*', 'arn:aws:s3:::home/bob'],
    });
    expect(generaliseUsernames([p('alice', 'home', home('alice')), p('bob', 'home', other)])).toEqual([]);
  });

  it('a longer-segment near miss in one user keeps both out', () => {
    const bob = doc({
      Effect: 'Allow',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::home/bob/*', 'arn:aws:s3:::home/bob-old'],
    });
    const alice = doc({
      Effect: 'Allow',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::home/alice/*', 'arn:aws:s3:::home/alice-old'],
    });
    expect(generaliseUsernames([p('alice', 'home', alice), p('bob', 'home', bob)])).toEqual([]);
  });

  it('2008-10-17 documents identical up to the name are not merged', () => {
    const old = (n: string) =>
      doc({ Effect: 'Allow', Action: 's3:*', Resource: `arn:aws:s3:::home/${n}/*` }, '2008-10-17');
    expect(generaliseUsernames([p('alice', 'home', old('alice')), p('bob', 'home', old('bob'))])).toEqual([]);
  });

  it('a template over the policy size quota is not made', () => {
    expect(
      generaliseUsernames([p('alice', 'h', home('alice')), p('bob', 'h', home('bob'))], {
        maxPolicySize: 50,
      }),
    ).toEqual([]);
  });

  it('the result does not depend on input order', () => {
    const input = [
      p('carol', 'home', home('carol')),
      p('alice', 'home', home('alice')),
      p('bob', 'home', home('bob')),
      p('dave', 'x', doc({ Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:us-east-1:1:dave' })),
      p('erin', 'x', doc({ Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:us-east-1:1:erin' })),
    ];
    expect(generaliseUsernames([...input].reverse())).toEqual(generaliseUsernames(input));
    expect(generaliseUsernames(input).map((g) => g.replaces.length)).toEqual([3, 2]);
  });
});

describe('instantiateUsername: what a document grants one user', () => {
  it('fills the variable only where IAM substitutes it', () => {
    const template = doc({
      Sid: 'x',
      Effect: 'Allow',
      Action: 's3:*',
      Resource: `arn:aws:s3:::home/${V_MIXED}/*`,
    });
    expect(instantiateUsername(template, 'alice')).toBe(
      canonicalDocument(
        doc({ Sid: 'x', Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/alice/*' }),
      ),
    );
  });

  it('leaves a 2008-10-17 document as it is', () => {
    const old = doc({ Effect: 'Allow', Action: 's3:*', Resource: `arn:aws:s3:::home/${V}/*` }, '2008-10-17');
    expect(instantiateUsername(old, 'alice')).toBe(canonicalDocument(old));
  });
});
