import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULE_PARAMETERS,
  parseRuleParameters,
  RULE_PARAMETERS,
  RuleParameterError,
} from '../rule/parameters.js';

describe('rule parameters', () => {
  it('with none given, every default applies', () => {
    expect(parseRuleParameters('{}')).toEqual({
      exemptUserNames: [],
      exemptPathPrefixes: [],
      exemptionTagKey: undefined,
      checkManagedPolicies: true,
      checkInlinePolicies: true,
      requiredGroupName: undefined,
      exemptSesSmtpUsers: true,
    });
    expect(parseRuleParameters(undefined)).toEqual(DEFAULT_RULE_PARAMETERS);
    expect(parseRuleParameters('')).toEqual(DEFAULT_RULE_PARAMETERS);
  });

  it('the documented defaults parse to the defaults the rule applies', () => {
    const asStrings = Object.fromEntries(
      Object.entries(RULE_PARAMETERS).map(([name, p]) => [name, p.default]),
    );
    expect(parseRuleParameters(asStrings)).toEqual(DEFAULT_RULE_PARAMETERS);
  });

  it('comma lists are trimmed and empty entries dropped', () => {
    const p = parseRuleParameters(
      JSON.stringify({ exemptUserNames: ' break-glass , ops-admin,, ', exemptPathPrefixes: '/a/, /b/c/' }),
    );
    expect(p.exemptUserNames).toEqual(['break-glass', 'ops-admin']);
    expect(p.exemptPathPrefixes).toEqual(['/a/', '/b/c/']);
  });

  it('booleans accept "true"/"false" in any letter case', () => {
    expect(
      parseRuleParameters({ checkManagedPolicies: 'FALSE', checkInlinePolicies: ' True ' }),
    ).toMatchObject({
      checkManagedPolicies: false,
      checkInlinePolicies: true,
    });
  });

  it('blank optional names mean "not set"', () => {
    expect(parseRuleParameters({ exemptionTagKey: '  ', requiredGroupName: '' })).toMatchObject({
      exemptionTagKey: undefined,
      requiredGroupName: undefined,
    });
  });

  it.each([
    ['not JSON', '{exemptUserNames:', 'rule parameters are not valid JSON'],
    ['a JSON array', '[]', 'invalid rule parameters'],
    [
      'an unknown (misspelt) parameter',
      '{"exemptUsernames":"bob"}',
      'unknown parameter(s) "exemptUsernames"',
    ],
    ["the sample event's unknown parameter", '{"myParameterKey":"myParameterValue"}', '"myParameterKey"'],
    [
      'a boolean that is not true/false',
      '{"checkManagedPolicies":"yes"}',
      'checkManagedPolicies: must be "true" or "false"',
    ],
    ['a JSON boolean instead of a string', '{"checkInlinePolicies":false}', 'checkInlinePolicies'],
    ['a number instead of a string', '{"exemptUserNames":5}', 'exemptUserNames'],
    [
      'a user name IAM would not allow',
      '{"exemptUserNames":"ok,not ok"}',
      'exemptUserNames.1: each entry must be a valid IAM user name',
    ],
    ['a path prefix without the slashes', '{"exemptPathPrefixes":"break-glass"}', 'exemptPathPrefixes.0'],
    [
      'a path prefix without the trailing slash',
      '{"exemptPathPrefixes":"/break-glass"}',
      'exemptPathPrefixes.0',
    ],
    [
      'a group name with a space',
      '{"requiredGroupName":"all staff"}',
      'requiredGroupName: must be a valid IAM group name',
    ],
    [
      'a tag key with forbidden characters',
      '{"exemptionTagKey":"a*b"}',
      'exemptionTagKey: must be a valid tag key',
    ],
    [
      'both checks off with no required group',
      '{"checkManagedPolicies":"false","checkInlinePolicies":"false"}',
      'the rule would check nothing',
    ],
  ])('%s is an error that says what is wrong', (_name, input, message) => {
    expect(() => parseRuleParameters(input)).toThrow(RuleParameterError);
    expect(() => parseRuleParameters(input)).toThrow(message);
  });
});
