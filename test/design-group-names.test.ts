import { describe, expect, it } from 'vitest';
import {
  GROUP_NAME_MAX_LENGTH,
  type GroupToName,
  nameGroups,
  policyPart,
  policySlug,
} from '../remediation/design/group-names.js';
import { IAM_GROUP_NAME } from '../rule/parameters.js';

const group = (policyNames: string[], memberTags: Record<string, string>[] = [{}]): GroupToName => ({
  grantKeys: policyNames.map((n) => `arn:arn:aws:iam::aws:policy/${n}`),
  policyNames,
  memberTags,
});

describe('policySlug and policyPart: what a group grants, shortened', () => {
  const slugs: [string, string][] = [
    ['AmazonS3ReadOnlyAccess', 's3-read'],
    ['AmazonDynamoDBFullAccess', 'dynamo-db-full'],
    ['AWSLambda_ReadOnlyAccess', 'lambda-read'],
    ['CloudWatchReadOnlyAccess', 'cloud-watch-read'],
    ['payments-s3-write', 'payments-s3-write'],
    ['inline-0123abcd', 'inline-0123abcd'],
    ['Access', 'access'],
  ];
  for (const [name, slug] of slugs) it(`${name} -> ${slug}`, () => expect(policySlug(name)).toBe(slug));

  it('joins slugs with "+", sorted, a shared prefix written once', () => {
    expect(policyPart(['AmazonS3ReadOnlyAccess', 'AmazonDynamoDBFullAccess'])).toBe('dynamo-db-full+s3-read');
    expect(policyPart(['s3-write', 's3-read'])).toBe('s3-read+write');
  });

  it('a long list is cut, saying how many more', () => {
    const part = policyPart(Array.from({ length: 10 }, (_, i) => `TeamPolicyNumber${i}WithALongName`));
    expect(part.length).toBeLessThanOrEqual(60);
    expect(part).toMatch(/\+\d+-more$/);
  });
});

describe('nameGroups', () => {
  it('names a group after its policies', () => {
    expect(nameGroups([group(['AmazonS3ReadOnlyAccess'])], [])).toEqual([
      { name: 's3-read', reason: 'policies AmazonS3ReadOnlyAccess' },
    ]);
  });

  it('a team tag every member shares leads the name; one member without it drops it', () => {
    const shared = group(['AmazonS3ReadOnlyAccess'], [{ team: 'payments' }, { Team: 'payments' }]);
    expect(nameGroups([shared], [])[0]?.name).toBe('payments_s3-read');
    const costCenter = group(
      ['AmazonS3ReadOnlyAccess'],
      [{ 'cost-center': 'CC 42' }, { 'cost-center': 'CC 42' }],
    );
    expect(nameGroups([costCenter], [])[0]?.name).toBe('CC-42_s3-read');
    const mixed = group(['AmazonS3ReadOnlyAccess'], [{ team: 'payments' }, {}]);
    expect(nameGroups([mixed], [])[0]?.name).toBe('s3-read');
  });

  it('a name taken by an existing group (any case) gets a hash of the grants', () => {
    const [choice] = nameGroups([group(['AmazonS3ReadOnlyAccess'])], ['S3-Read']);
    expect(choice?.name).toMatch(/^s3-read-[0-9a-f]{6}$/);
  });

  it('groups that would share a name both get hashes, whatever their order', () => {
    const a = { ...group(['AmazonS3ReadOnlyAccess']), grantKeys: ['k1'] };
    const b = { ...group(['AmazonS3ReadOnlyAccess']), grantKeys: ['k2'] };
    const forward = nameGroups([a, b], []).map((c) => c.name);
    const backward = nameGroups([b, a], []).map((c) => c.name);
    expect(forward[0]).not.toBe(forward[1]);
    expect(backward).toEqual([forward[1], forward[0]]);
    expect(forward.every((n) => /^s3-read-[0-9a-f]{6}$/.test(n))).toBe(true);
  });

  it('every name is a valid IAM group name of at most 128 characters', () => {
    const long = group(['x'.repeat(200)], [{ team: `t${'é'.repeat(200)}` }]);
    for (const { name } of nameGroups([long, group(['a b/c:d'])], [])) {
      expect(name.length).toBeLessThanOrEqual(GROUP_NAME_MAX_LENGTH);
      expect(name).toMatch(IAM_GROUP_NAME);
    }
  });

  it('the same input gives the same names (stable across re-plans)', () => {
    const input = [
      group(['AmazonS3ReadOnlyAccess']),
      group(['AmazonEC2ReadOnlyAccess', 'AmazonS3ReadOnlyAccess']),
    ];
    expect(nameGroups(input, ['admins'])).toEqual(nameGroups(input, ['admins']));
  });
});
