import { describe, expect, it } from 'vitest';
import { MAX_GROUPS_PER_USER, measureMessyDesign } from '../bench/messy-design.js';

// The benchmark's "Group design on generated messy accounts" section, counts only (times stay in the
// benchmark). The 300-user account takes about two seconds for every approach; the 3,000-user one takes
// over a minute (the per-user remediation run 2,943 times), so only `npm run bench` measures it.
const m = measureMessyDesign(300);
const byApproach = Object.fromEntries(m.shapes.map(({ ms: _, ...s }) => [s.approach, s]));
const design = byApproach['group design (designAccount)'];
const perTeam = byApproach['team core + one group per remaining policy'];

describe('group design on the generated 300-user messy account (seed 7)', () => {
  it('needs fewer groups than a team core plus one group per remaining policy', () => {
    expect(design?.groups).toBe(62);
    expect(perTeam?.groups).toBe(172);
    expect(design?.groups).toBeLessThan(perTeam?.groups ?? 0);
  });

  it('is exact and within the quotas, and no user ends in more than 10 groups', () => {
    expect(m.problems).toBe(0);
    expect(m.warnings).toEqual([]);
    expect(design?.groupsPerUserMax).toBe(10);
    expect(design?.groupsPerUserMax).toBeLessThanOrEqual(MAX_GROUPS_PER_USER);
  });

  it('every single-member group carries a grant its member alone keeps', () => {
    // The per-person home-folder documents (arn:aws:s3:::home/<name>/* and an s3:prefix of <name>/*)
    // become one ${aws:username} policy; the 16 users left alone in a group each keep a grant nobody
    // else keeps (a one-off document or policy).
    expect(m.rewrites).toBe(1);
    expect(m.soleHolders).toBe(16);
    expect(design?.singleMemberGroups).toBe(16);
    expect(m.justifiedSingleMemberGroups).toBe(design?.singleMemberGroups);
  });

  it('pins what each approach ends with', () => {
    const row = (approach: string) => {
      const s = byApproach[approach];
      return [
        s?.groups,
        s?.singleMemberGroups,
        s?.memberships,
        s?.usersChanged,
        s?.groupsPerUserMax,
        s?.usersLeft,
      ];
    };
    // groups, single-member groups, memberships added, users moved, most groups per user, users left
    expect(row('group design (designAccount)')).toEqual([62, 16, 1221, 293, 10, 0]);
    expect(row('one group per distinct direct set')).toEqual([232, 214, 293, 293, 4, 0]);
    expect(row('team core + one group per remaining policy')).toEqual([172, 119, 916, 293, 10, 0]);
    expect(row('per-user remediation, user after user')).toEqual([198, 141, 660, 293, 6, 0]);
    expect(design?.groupsPerUserMean).toBeCloseTo(4.69, 2);
    expect(m.shapes).toHaveLength(4);
  });
});
