import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, STACK_NAMES } from '../infra/app.js';
import { closestKey, DEPLOYMENT_CONTEXT_KEYS, readSettings } from '../infra/settings.js';

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The error messages of each stack, as `cdk synth -c ...` would print them (and then fail), from one synthesis
 * without bundling: only the annotations matter here.
 */
function synthErrors(context: Record<string, unknown>): Map<string, string[]> {
  const outdir = mkdtempSync(join(tmpdir(), 'infra-settings-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const assembly = buildApp({ app, env: { account: '111111111111', region: 'eu-west-1' } }).synth();
  return new Map(
    Object.values(STACK_NAMES).map((name) => [
      name,
      assembly
        .getStackByName(name)
        .messages.filter((m) => m.level === 'error')
        .map((m) => String(m.entry.data)),
    ]),
  );
}

describe('strict settings: an unknown context key stops synthesis', () => {
  it('a misspelt rule parameter is an error on every stack, naming the key and the one meant', () => {
    const errors = synthErrors({ exemptUsernames: 'breakglass' });
    expect(errors.size).toBe(3);
    for (const [name, messages] of errors) {
      expect(messages, name).toEqual([
        expect.stringMatching(
          /^context "exemptUsernames": unknown setting; did you mean "exemptUserNames"\?/,
        ),
      ]);
    }
  });

  it('a misspelt setting with an edited letter is named too: requiredGroupname, perodicFrequency', () => {
    const read = readSettings(() => undefined, ['requiredGroupname', 'perodicFrequency']);
    expect(read.ok).toBe(false);
    expect(read.ok ? [] : read.problems).toEqual([
      expect.stringContaining(
        'context "requiredGroupname": unknown setting; did you mean "requiredGroupName"?',
      ),
      expect.stringContaining(
        'context "perodicFrequency": unknown setting; did you mean "periodicFrequency"?',
      ),
    ]);
    // Nothing of a misspelt deployment is kept: the stacks get the defaults and the errors.
    expect(read.settings.ruleParameters).toEqual({});
  });

  it('a key like no setting gets no guess, only the list of known ones', () => {
    const read = readSettings(() => undefined, ['colour']);
    expect(read.ok ? [] : read.problems).toEqual([
      `context "colour": unknown setting (known: ${DEPLOYMENT_CONTEXT_KEYS.join(', ')})`,
    ]);
  });

  it("the CDK's own context keys (feature flags, aws:cdk switches, lookups, notices) are allowed", () => {
    const errors = synthErrors({
      '@aws-cdk/core:newStyleStackSynthesis': true,
      'aws:cdk:enable-path-metadata': true,
      'aws-cdk:enableDiffNoFail': 'true',
      'availability-zones:account=111111111111:region=eu-west-1': ['eu-west-1a'],
      'acknowledged-issue-numbers': [34892],
      exemptUserNames: 'breakglass',
    });
    for (const [name, messages] of errors) expect(messages, name).toEqual([]);
  });

  it('closestKey prefers the same letters in another case over a nearer edit', () => {
    expect(closestKey('RULENAME', DEPLOYMENT_CONTEXT_KEYS)).toBe('ruleName');
    expect(closestKey('exemptUserName', DEPLOYMENT_CONTEXT_KEYS)).toBe('exemptUserNames');
    expect(closestKey('x', DEPLOYMENT_CONTEXT_KEYS)).toBeUndefined();
  });
});
