import { describe, expect, it } from 'vitest';
import { ANNOTATION_MAX_LENGTH } from '../rule/annotation.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { evaluateUser } from '../rule/verdict.js';
import { ADMIN, CUSTOMER, S3_READ, user } from './support/users.js';

const defaults = parseRuleParameters({});

describe('evaluateUser: what makes a user compliant', () => {
  it.each([
    ['a user with no policies and no groups', user(), 'COMPLIANT'],
    ['a user whose permissions come only from groups', user({ groupNames: ['developers'] }), 'COMPLIANT'],
    ['a user with an attached managed policy', user({ managedPolicies: [S3_READ] }), 'NON_COMPLIANT'],
    ['a user with an inline policy', user({ inlinePolicyNames: ['s3-access'] }), 'NON_COMPLIANT'],
    ['a user with both', user({ managedPolicies: [ADMIN], inlinePolicyNames: ['x'] }), 'NON_COMPLIANT'],
    [
      'a user in groups that also carries a direct policy',
      user({ groupNames: ['g'], managedPolicies: [CUSTOMER] }),
      'NON_COMPLIANT',
    ],
  ])('%s is %s', (_name, subject, expected) => {
    expect(evaluateUser(subject, defaults).compliance).toBe(expected);
  });

  it('a permissions boundary is not a policy attachment', () => {
    // IamUser carries no boundary at all: the adapters drop it, so it can never count as a grant.
    const fromItem = user({ groupNames: ['g'] });
    expect(evaluateUser(fromItem, defaults)).toMatchObject({ compliance: 'COMPLIANT', directPolicies: [] });
  });

  it('names the offending policies, managed and inline, in the annotation', () => {
    const verdict = evaluateUser(
      user({ managedPolicies: [S3_READ], inlinePolicyNames: ['s3-access'] }),
      defaults,
    );
    expect(verdict.annotation).toBe(
      '2 policies attached directly: s3-access (inline), AmazonS3ReadOnlyAccess (managed). Grant them through groups.',
    );
  });

  it('puts privileged AWS managed policies first, then inline, customer managed, other AWS managed', () => {
    const verdict = evaluateUser(
      user({ managedPolicies: [S3_READ, CUSTOMER, ADMIN], inlinePolicyNames: ['zeta'] }),
      defaults,
    );
    expect(verdict.directPolicies.map((p) => p.name)).toEqual([
      'AdministratorAccess',
      'zeta',
      'deploy-app',
      'AmazonS3ReadOnlyAccess',
    ]);
  });

  it('a compliant user gets an annotation that says why', () => {
    expect(evaluateUser(user({ groupNames: ['g'] }), defaults).annotation).toBe(
      'No policies attached directly to the user.',
    );
  });
});

describe('evaluateUser: annotation length', () => {
  it('never exceeds 256 characters and ends with "(+N more)" when policies do not fit', () => {
    const managed = Array.from({ length: 20 }, (_, i) => ({
      policyName: `customer-policy-with-a-long-name-${String(i).padStart(2, '0')}`,
      policyArn: `arn:aws:iam::123456789012:policy/customer-policy-with-a-long-name-${i}`,
    }));
    const verdict = evaluateUser(
      user({ managedPolicies: managed, inlinePolicyNames: ['a', 'b', 'c'] }),
      defaults,
    );
    expect(verdict.annotation.length).toBeLessThanOrEqual(ANNOTATION_MAX_LENGTH);
    expect(verdict.annotation).toMatch(/\(\+\d+ more\)\. Grant them through groups\.$/);
    expect(verdict.annotation).toMatch(/^23 policies attached directly: a \(inline\), b \(inline\)/);
    const shown = verdict.annotation.match(/\(\+(\d+) more\)/)?.[1];
    const named = (verdict.annotation.match(/\((inline|managed)\)/g) ?? []).length;
    expect(named + Number(shown)).toBe(23);
  });

  it('stays within 256 characters for one policy with a 128-character name and a long required group', () => {
    const longName = 'p'.repeat(128);
    const params = parseRuleParameters({ requiredGroupName: 'g'.repeat(128) });
    const verdict = evaluateUser(user({ inlinePolicyNames: [longName, 'second'] }), params);
    expect(verdict.annotation.length).toBeLessThanOrEqual(ANNOTATION_MAX_LENGTH);
    expect(verdict.annotation).toContain('(+1 more)');
  });

  it('stays within 256 characters when an exemption tag carries a very long reason', () => {
    const params = parseRuleParameters({ exemptionTagKey: 'break-glass' });
    const verdict = evaluateUser(
      user({ tags: { 'break-glass': 'r'.repeat(256) }, managedPolicies: [ADMIN] }),
      params,
    );
    expect(verdict.compliance).toBe('COMPLIANT');
    expect(verdict.annotation.length).toBeLessThanOrEqual(ANNOTATION_MAX_LENGTH);
  });
});

describe('evaluateUser: exemptions stay visible', () => {
  const admin = { managedPolicies: [ADMIN] };

  it('a user named in exemptUserNames is COMPLIANT, matched without regard to case, and the annotation says so', () => {
    const verdict = evaluateUser(
      user({ userName: 'BreakGlass', ...admin }),
      parseRuleParameters({ exemptUserNames: 'breakglass' }),
    );
    expect(verdict).toMatchObject({ compliance: 'COMPLIANT', exemption: { kind: 'user-name' } });
    expect(verdict.annotation).toBe(
      'Exempt: user name listed in exemptUserNames. Direct policies: AdministratorAccess (managed)',
    );
  });

  it('a user under an exempt path prefix is COMPLIANT', () => {
    const verdict = evaluateUser(
      user({ path: '/break-glass/ops/', ...admin }),
      parseRuleParameters({ exemptPathPrefixes: '/break-glass/' }),
    );
    expect(verdict.compliance).toBe('COMPLIANT');
    expect(verdict.annotation).toContain('exemptPathPrefixes /break-glass/');
  });

  it('a path that only starts with the same letters is not exempt', () => {
    const verdict = evaluateUser(
      user({ path: '/break-glass-team/', ...admin }),
      parseRuleParameters({ exemptPathPrefixes: '/break-glass/' }),
    );
    expect(verdict.compliance).toBe('NON_COMPLIANT');
  });

  it('the exemption tag with a reason exempts, and the reason is in the annotation', () => {
    const verdict = evaluateUser(
      user({ tags: { 'compliance:exempt': 'CAB-1234 emergency access' }, ...admin }),
      parseRuleParameters({ exemptionTagKey: 'compliance:exempt' }),
    );
    expect(verdict.compliance).toBe('COMPLIANT');
    expect(verdict.annotation).toMatch(/^Exempt by tag compliance:exempt: CAB-1234 emergency access\./);
  });

  it.each([[''], ['   ']])('the exemption tag with an empty value (%j) exempts nothing', (value) => {
    const verdict = evaluateUser(
      user({ tags: { exempt: value }, ...admin }),
      parseRuleParameters({ exemptionTagKey: 'exempt' }),
    );
    expect(verdict.compliance).toBe('NON_COMPLIANT');
  });

  it('Amazon SES SMTP users are exempt by default and flagged when exemptSesSmtpUsers is "false"', () => {
    const ses = user({
      userName: 'ses-smtp-user.20231010-101010',
      inlinePolicyNames: ['AmazonSesSendingAccess'],
    });
    expect(evaluateUser(ses, defaults)).toMatchObject({
      compliance: 'COMPLIANT',
      exemption: { kind: 'ses-smtp-user' },
    });
    expect(evaluateUser(ses, parseRuleParameters({ exemptSesSmtpUsers: 'false' })).compliance).toBe(
      'NON_COMPLIANT',
    );
  });

  it('a user merely named like an SES user without the dot is not exempt', () => {
    expect(evaluateUser(user({ userName: 'ses-smtp-user', ...admin }), defaults).compliance).toBe(
      'NON_COMPLIANT',
    );
  });
});

describe('evaluateUser: which policies are checked', () => {
  it('checkManagedPolicies "false" ignores managed policies and says they were not checked', () => {
    const verdict = evaluateUser(
      user({ managedPolicies: [ADMIN] }),
      parseRuleParameters({ checkManagedPolicies: 'false' }),
    );
    expect(verdict).toMatchObject({
      compliance: 'COMPLIANT',
      annotation: 'No policies attached directly to the user. (1 managed not checked)',
    });
  });

  it('checkInlinePolicies "false" ignores inline policies but still flags managed ones', () => {
    const params = parseRuleParameters({ checkInlinePolicies: 'false' });
    expect(evaluateUser(user({ inlinePolicyNames: ['x'] }), params).compliance).toBe('COMPLIANT');
    const verdict = evaluateUser(user({ inlinePolicyNames: ['x'], managedPolicies: [S3_READ] }), params);
    expect(verdict.compliance).toBe('NON_COMPLIANT');
    expect(verdict.annotation).not.toContain('(inline)');
  });
});

describe('evaluateUser: requiredGroupName', () => {
  const params = parseRuleParameters({ requiredGroupName: 'all-staff' });

  it('a user outside the required group is NON_COMPLIANT even with no direct policies', () => {
    const verdict = evaluateUser(user({ groupNames: ['developers'] }), params);
    expect(verdict).toMatchObject({ compliance: 'NON_COMPLIANT', missingRequiredGroup: 'all-staff' });
    expect(verdict.annotation).toBe(
      'Not a member of required group all-staff. No policies attached directly.',
    );
  });

  it('a member of the required group (any letter case) with no direct policies is COMPLIANT', () => {
    expect(evaluateUser(user({ groupNames: ['All-Staff'] }), params).compliance).toBe('COMPLIANT');
  });

  it('both problems are named together', () => {
    const verdict = evaluateUser(user({ inlinePolicyNames: ['x'] }), params);
    expect(verdict.annotation).toBe(
      'Not a member of required group all-staff. 1 policy attached directly: x (inline). Grant them through groups.',
    );
  });
});

describe('evaluateUser is deterministic', () => {
  it('gives the same annotation whatever order the policies arrive in', () => {
    const a = evaluateUser(
      user({ managedPolicies: [S3_READ, CUSTOMER], inlinePolicyNames: ['b', 'a'] }),
      defaults,
    );
    const b = evaluateUser(
      user({ managedPolicies: [CUSTOMER, S3_READ], inlinePolicyNames: ['a', 'b'] }),
      defaults,
    );
    expect(a.annotation).toBe(b.annotation);
  });
});
