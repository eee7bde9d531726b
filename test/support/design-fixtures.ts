import { readFileSync } from 'node:fs';
import type { DesignPlan } from '../../remediation/design/design-types.js';

/** A hand-made plan file of test/fixtures/design/, read as `apply` would read it. */
export function loadDesignFixture(name: 'payments' | 'hostile'): DesignPlan {
  return JSON.parse(readFileSync(`test/fixtures/design/${name}.json`, 'utf8')) as DesignPlan;
}

/** IAM's policy variable for the requesting user's name, as text (it is no JavaScript placeholder). */
export const USERNAME_VARIABLE = ['$', '{aws:username}'].join('');
