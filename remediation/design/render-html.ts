import type { DesignGroup, DesignPlan, DesignPolicyRef } from './design-types.js';
import { memberNames } from './render-names.js';

/**
 * Escapes text for HTML element content and quoted attribute values. Every string of a plan goes through
 * here: names come from IAM and from a plan file an operator may have edited, so none is trusted as markup.
 */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const e = escapeHtml;
/** The IAM policy variable the rewrites use: plain text here, never a template placeholder. */
const USERNAME_VARIABLE = ['$', '{aws:username}'].join('');
const n = (x: number) => x.toLocaleString('en-US');

// Inline only: the page is opened from disk or an attachment, often on a machine without network access,
// and a reviewer must be able to trust that it fetches nothing.
const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;max-width:80rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:.8rem;background:#ddf4ff;color:#0969da}
.badge.existing{background:#eee;color:#57606a}.badge.new-managed{background:#fff8c5;color:#7d4e00}
section.group{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
pre{background:#f6f8fa;padding:.75rem;overflow:auto}
.matrix th.col{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:normal}
.matrix td{text-align:center;min-width:1.2rem}.matrix td.mark{background:#2da44e;color:#fff}
.matrix td.mark.kept{background:#8c959f}.muted{color:#57606a}
`;

/**
 * Renders a group design as one self-contained HTML page for the IAM administrator who reviews it: the
 * summary, every group with its members and policies, the `${aws:username}` rewrites, the users left out and
 * why, a users-by-groups matrix, and each new policy document for review. No script, no external request;
 * every string escaped. Deterministic: the same plan gives the same bytes.
 */
export function renderHtml(plan: DesignPlan): string {
  const title = `IAM group design for account ${plan.accountId}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Forbids scripts and every fetch even if something unescaped slipped through.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${e(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${e(title)}</h1>`,
    `<p class="muted">Plan created ${e(plan.createdAt)}. Nothing has changed yet: this page shows what <code>apply</code> would do.</p>`,
    summarySection(plan),
    groupsSection(plan),
    matrixSection(plan),
    changesSection(plan),
    rewritesSection(plan),
    skippedSection(plan),
    documentsSection(plan),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function summarySection(plan: DesignPlan): string {
  const { before, after, newGroups, lowerBound } = plan.summary;
  const row = (label: string, b: number, a: number) =>
    `<tr><th scope="row">${e(label)}</th><td class="num">${n(b)}</td><td class="num">${n(a)}</td></tr>`;
  return [
    '<h2 id="summary">Summary</h2>',
    '<table class="summary"><thead><tr><th></th><th>Before</th><th>After</th></tr></thead><tbody>',
    row('Groups', before.groups, after.groups),
    row('Group memberships', before.memberships, after.memberships),
    row('Policies attached directly to users', before.directPolicies, after.directPolicies),
    '</tbody></table>',
    `<p>${n(newGroups)} new group${newGroups === 1 ? '' : 's'}, ${n(plan.groups.length - newGroups)} existing reused; ${n(plan.users.length)} user${plan.users.length === 1 ? '' : 's'} change, ${n(plan.skipped.length)} left out.${
      lowerBound !== undefined
        ? ` Any exact design needs at least ${n(lowerBound)} new group${lowerBound === 1 ? '' : 's'}.`
        : ''
    }</p>`,
  ].join('\n');
}

function policyLabel(key: string, ref: DesignPolicyRef | undefined): string {
  if (ref === undefined) return `<span class="badge existing">unknown</span> <code>${e(key)}</code>`;
  const badge =
    ref.kind === 'new-managed'
      ? `<span class="badge new-managed">new</span> `
      : ref.policyArn.startsWith('arn:aws:iam::aws:')
        ? `<span class="badge existing">AWS managed</span> `
        : '';
  const name = `<span title="${e(ref.policyArn)}">${e(ref.policyName)}</span>`;
  return ref.kind === 'new-managed' ? `${badge}<a href="#doc-${e(key)}">${name}</a>` : `${badge}${name}`;
}

function groupSection(plan: DesignPlan, group: DesignGroup): string {
  const policies = group.policies.map((k) => `<li>${policyLabel(k, plan.policies[k])}</li>`).join('');
  const members = group.members.map((m) => `<li>${e(m)}</li>`).join('');
  return [
    `<section class="group" data-group="${e(group.name)}">`,
    `<h3><span class="group-name">${e(group.name)}</span> <span class="badge ${group.status}">${group.status}</span> <code class="muted">${e(group.path)}</code></h3>`,
    group.nameReason !== undefined ? `<p class="muted">${e(group.nameReason)}</p>` : '',
    `<p>Policies (${n(group.policies.length)}):</p><ul class="policies">${policies}</ul>`,
    `<p>Members (${n(group.members.length)}):</p><ul class="members">${members}</ul>`,
    '</section>',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function groupsSection(plan: DesignPlan): string {
  return ['<h2 id="groups">Groups</h2>', ...plan.groups.map((g) => groupSection(plan, g))].join('\n');
}

/**
 * The users-by-groups picture. A green mark is a membership the plan adds; a grey one a membership the user
 * already has (a member of the group who joins nothing there).
 */
function matrixSection(plan: DesignPlan): string {
  const users = memberNames(plan);
  const joins = new Map(plan.users.map((u) => [u.userName, new Set(u.joins)]));
  const memberOf = plan.groups.map((g) => new Set(g.members));
  const head = plan.groups
    .map((g) => `<th class="col" scope="col" title="${e(g.name)}">${e(g.name)}</th>`)
    .join('');
  const rows = users.map((user) => {
    const cells = plan.groups.map((g, i) => {
      if (!memberOf[i]?.has(user)) return '<td></td>';
      const added = joins.get(user)?.has(g.name) ?? false;
      const what = added ? 'joins' : 'already a member of';
      return `<td class="mark ${added ? 'joins' : 'kept'}" title="${e(`${user} ${what} ${g.name}`)}">${added ? '●' : '○'}</td>`;
    });
    return `<tr><th scope="row">${e(user)}</th>${cells.join('')}</tr>`;
  });
  return [
    '<h2 id="matrix">Users and groups</h2>',
    '<p class="muted">● joins the group with this plan; ○ already a member.</p>',
    `<table class="matrix"><thead><tr><th>User</th>${head}</tr></thead><tbody>`,
    ...rows,
    '</tbody></table>',
  ].join('\n');
}

/** What apply does to each user: the groups it joins and the direct policies it then removes. */
function changesSection(plan: DesignPlan): string {
  if (plan.users.length === 0) return '';
  const list = (items: readonly string[]) =>
    items.length === 0
      ? '<span class="muted">none</span>'
      : `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`;
  const nameOf = new Map(Object.values(plan.policies).map((p) => [p.policyArn, p.policyName]));
  const rows = [...plan.users]
    .sort((a, b) => (a.userName < b.userName ? -1 : a.userName > b.userName ? 1 : 0))
    .map((u) => {
      const removes = [
        ...u.detachManaged.map(
          (arn) =>
            `<span title="${e(arn)}">${e(nameOf.get(arn) ?? arn.slice(arn.lastIndexOf('/') + 1))}</span> (managed)`,
        ),
        ...u.deleteInline.map((name) => `<code>${e(name)}</code> (inline)`),
      ];
      return `<tr><th scope="row">${e(u.userName)}</th><td>${list(u.joins.map(e))}</td><td>${list(removes)}</td></tr>`;
    });
  return [
    '<h2 id="changes">Changes per user</h2>',
    '<p class="muted">Direct policies are removed only after the user is in its groups, and a user whose policies or groups changed since this plan was made is skipped.</p>',
    '<table class="changes"><thead><tr><th>User</th><th>Joins</th><th>Direct policies removed</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
  ].join('\n');
}

function rewritesSection(plan: DesignPlan): string {
  if (plan.rewrites.length === 0) return '';
  const rows = plan.rewrites.map((r) => {
    const ref = plan.policies[r.policy];
    const replaced = r.replaces
      .map((x) => `<li>${e(x.userName)}: inline <code>${e(x.policyName)}</code></li>`)
      .join('');
    return `<tr><td>${policyLabel(r.policy, ref)}</td><td><ul>${replaced}</ul></td></tr>`;
  });
  return [
    `<h2 id="rewrites">Per-user documents made one with <code>${USERNAME_VARIABLE}</code></h2>`,
    `<p>These inline documents differed only by the user&#39;s own name; each user keeps exactly its own access, since <code>${USERNAME_VARIABLE}</code> resolves to the requesting user.</p>`,
    '<table class="rewrites"><thead><tr><th>New policy</th><th>Replaces</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
  ].join('\n');
}

function skippedSection(plan: DesignPlan): string {
  if (plan.skipped.length === 0) return '';
  const rows = plan.skipped.map((s) => `<tr><td>${e(s.userName)}</td><td>${e(s.reason)}</td></tr>`);
  return [
    '<h2 id="skipped">Users left out</h2>',
    '<table class="skipped"><thead><tr><th>User</th><th>Why</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
  ].join('\n');
}

/** Pretty-prints a document for review; one that is not JSON is shown as it is rather than hidden. */
function pretty(document: string): string {
  try {
    return JSON.stringify(JSON.parse(document), null, 2);
  } catch {
    return document;
  }
}

function documentsSection(plan: DesignPlan): string {
  const created = Object.entries(plan.policies)
    .filter(
      (entry): entry is [string, Extract<DesignPolicyRef, { kind: 'new-managed' }>] =>
        entry[1].kind === 'new-managed',
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (created.length === 0) return '';
  return [
    '<h2 id="documents">New policy documents (review before applying)</h2>',
    ...created.map(
      ([key, ref]) =>
        `<details id="doc-${e(key)}"><summary><span title="${e(ref.policyArn)}">${e(ref.policyName)}</span></summary><pre>${e(pretty(ref.document))}</pre></details>`,
    ),
  ].join('\n');
}
