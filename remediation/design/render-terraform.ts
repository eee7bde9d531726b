import type { DesignPlan, DesignPolicyRef } from './design-types.js';
import { memberNames, newPolicyKeys, planIdentifiers, policyPath, shortHash } from './render-names.js';

/**
 * A quoted HCL string. Besides JSON's escapes, HCL reads `${` and `%{` as template sequences: IAM's
 * `${aws:username}` must be written `$${aws:username}`, or Terraform would try to evaluate it.
 *
 * @see https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences
 */
export function hclString(text: string): string {
  const escaped = [...text]
    .map((c) => {
      if (c === '\\') return '\\\\';
      if (c === '"') return '\\"';
      if (c === '\n') return '\\n';
      if (c === '\r') return '\\r';
      if (c === '\t') return '\\t';
      const code = c.codePointAt(0) ?? 0;
      return code < 0x20 ? `\\u${code.toString(16).padStart(4, '0')}` : c;
    })
    .join('');
  return `"${escapeTemplate(escaped)}"`;
}

/** Escapes HCL template sequences; the only escape a heredoc has (it keeps backslashes as they are). */
function escapeTemplate(text: string): string {
  // A function, not a replacement string: in one, `$$` itself means a single `$`.
  return text.replaceAll('${', () => '$${').replaceAll('%{', () => '%%{');
}

/**
 * A policy document as an HCL heredoc of pretty-printed JSON: reviewable in a diff, and the text the
 * provider sends is exactly the reviewed one. The delimiter is chosen so that no document line equals it.
 */
function heredoc(document: string): string {
  let text: string;
  try {
    text = JSON.stringify(JSON.parse(document), null, 2);
  } catch {
    text = document;
  }
  const lines = text.split('\n');
  let delimiter = 'POLICY';
  while (lines.some((l) => l.trim() === delimiter)) delimiter = `${delimiter}_`;
  return `<<${delimiter}\n${escapeTemplate(text)}\n${delimiter}`;
}

const block = (header: string, body: readonly string[]) =>
  [`${header} {`, ...body.map((l) => `  ${l}`), '}', ''].join('\n');

/**
 * Renders a group design as Terraform (HCL, Terraform >= 1.5 for `import` blocks, AWS provider):
 * `aws_iam_group` for every group of the design, `aws_iam_policy` for the policies it creates,
 * `aws_iam_group_policy_attachment` for each group's policies, one `aws_iam_user_group_membership` per member
 * (non-exclusive: it manages only the design's groups, never the user's other ones), and `import` blocks for
 * what exists already (the reused groups, their attachments and the memberships users already have), so that
 * a first `terraform plan` shows only what the design adds. The removal of users' direct policies is listed in
 * comments: Terraform does not manage them, and removing them belongs after the new grants are verified.
 * Deterministic: the same plan gives the same text.
 *
 * @see https://developer.hashicorp.com/terraform/language/import
 * @see https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_user_group_membership
 */
export function renderTerraform(plan: DesignPlan): string {
  const ids = planIdentifiers(plan);
  const out: string[] = [
    `# IAM group design for account ${plan.accountId}, planned ${plan.createdAt}.`,
    '# Generated: edit the plan file and render again rather than editing this file.',
    '',
    block('terraform', [
      'required_version = ">= 1.5.0"',
      'required_providers {',
      '  aws = {',
      '    source = "hashicorp/aws"',
      '  }',
      '}',
    ]),
  ];
  const policyRef = (key: string, ref: DesignPolicyRef | undefined): string => {
    if (ref === undefined) throw new Error(`the plan's groups name policy ${key}, which plan.policies lacks`);
    return ref.kind === 'new-managed'
      ? `aws_iam_policy.${ids.tfPolicy.get(key)}.arn`
      : hclString(ref.policyArn);
  };

  for (const key of newPolicyKeys(plan)) {
    const ref = plan.policies[key];
    if (ref?.kind !== 'new-managed') continue;
    out.push(
      block(`resource "aws_iam_policy" ${hclString(ids.tfPolicy.get(key) ?? '')}`, [
        `name   = ${hclString(ref.policyName)}`,
        `path   = ${hclString(policyPath(ref))}`,
        `policy = ${heredoc(ref.document)}`,
      ]),
    );
  }

  const attachments = new Set<string>();
  const sortedGroups = [...plan.groups].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const group of sortedGroups) {
    const g = ids.tfGroup.get(group.name) ?? '';
    out.push(
      `# ${group.status === 'new' ? 'New group' : 'Existing group, imported'}${group.nameReason !== undefined ? `: ${oneLine(group.nameReason)}` : ''}`,
      block(`resource "aws_iam_group" ${hclString(g)}`, [
        `name = ${hclString(group.name)}`,
        `path = ${hclString(group.path)}`,
      ]),
    );
    if (group.status === 'existing') out.push(importBlock(`aws_iam_group.${g}`, group.name));
    for (const key of [...group.policies].sort()) {
      const ref = plan.policies[key];
      let attachment = `${g}__${ids.tfPolicy.get(key) ?? key}`;
      // `_` may stand in either half (group x with policy y__z, group x__y with policy z): keep them apart.
      if (attachments.has(attachment)) attachment = `${attachment}_${shortHash(`${group.name}/${key}`)}`;
      attachments.add(attachment);
      out.push(
        block(`resource "aws_iam_group_policy_attachment" ${hclString(attachment)}`, [
          `group      = aws_iam_group.${g}.name`,
          `policy_arn = ${policyRef(key, ref)}`,
        ]),
      );
      // The design reuses existing groups as they are: what they attach is attached already.
      if (group.status === 'existing' && ref !== undefined) {
        out.push(
          importBlock(`aws_iam_group_policy_attachment.${attachment}`, `${group.name}/${ref.policyArn}`),
        );
      }
    }
  }

  const joins = new Map(plan.users.map((u) => [u.userName, new Set(u.joins)]));
  // Sets, not includes(): a 5,000-user design would otherwise scan every member list once per user.
  const membersOf = new Map(sortedGroups.map((g) => [g, new Set(g.members)]));
  for (const user of memberNames(plan)) {
    const u = ids.tfUser.get(user) ?? '';
    const groups = sortedGroups.filter((g) => membersOf.get(g)?.has(user));
    const existing = groups.filter((g) => !(joins.get(user)?.has(g.name) ?? false));
    out.push(
      block(`resource "aws_iam_user_group_membership" ${hclString(u)}`, [
        `user = ${hclString(user)}`,
        'groups = [',
        ...groups.map((g) => `  aws_iam_group.${ids.tfGroup.get(g.name)}.name,`),
        ']',
      ]),
    );
    if (existing.length > 0) {
      // The provider's import ID is the user and the groups it already belongs to, slash-separated.
      out.push(
        importBlock(`aws_iam_user_group_membership.${u}`, [user, ...existing.map((g) => g.name)].join('/')),
      );
    }
  }

  const removals = plan.users.filter((u) => u.detachManaged.length > 0 || u.deleteInline.length > 0);
  if (removals.length > 0) {
    out.push(
      '# Direct policies to remove once the memberships above are applied and verified (Terraform does not',
      "# manage them; the project's `apply` removes them, skipping any user whose state changed since the plan):",
      ...[...removals]
        .sort((a, b) => (a.userName < b.userName ? -1 : 1))
        .map(
          (u) =>
            `#   ${oneLine(u.userName)}: ${[
              ...u.detachManaged.map((arn) => `detach ${oneLine(arn)}`),
              ...u.deleteInline.map((name) => `delete inline ${oneLine(name)}`),
            ].join(', ')}`,
        ),
      '',
    );
  }
  return out.join('\n');
}

function importBlock(to: string, id: string): string {
  return block('import', [`to = ${to}`, `id = ${hclString(id)}`]);
}

/** A comment must stay on its line: a newline in a name would end it and start HCL. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
