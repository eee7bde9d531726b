import { z } from 'zod';
import { InputError } from '../rule/schemas/config-rule-event.js';
import { sameIamName } from '../rule/user.js';
import { type IacAttachment, type IacUserCandidate, policyNameFromArn } from './candidate.js';

/**
 * The parts of `terraform show -json <plan>` this check reads: each resource change with its planned `after`
 * values and `after_unknown` (values known only after apply), and the configuration's references, which tell
 * which user or policy an unknown value comes from.
 *
 * @see https://developer.hashicorp.com/terraform/internals/json-format#plan-representation
 */
const ResourceChangeSchema = z
  .object({
    address: z.string().min(1),
    mode: z.string().optional(),
    type: z.string().min(1),
    change: z
      .object({
        actions: z.array(z.string()).min(1),
        after: z.record(z.string(), z.unknown()).nullish(),
        after_unknown: z.record(z.string(), z.unknown()).nullish(),
      })
      .loose(),
  })
  .loose();

interface ConfigModule {
  resources?: { address: string; expressions?: Record<string, unknown> }[];
  module_calls?: Record<string, { module?: ConfigModule }>;
}

/**
 * The parts of `terraform show -json` output this reads: the planned resource changes and the configuration
 * (to trace values known only after apply to the resource they come from). Tolerant of everything else.
 *
 * @see https://developer.hashicorp.com/terraform/internals/json-format#plan-representation
 */
export const TerraformPlanSchema = z
  .object({
    format_version: z.string(),
    resource_changes: z.array(ResourceChangeSchema).default([]),
    configuration: z.object({ root_module: z.unknown().optional() }).loose().optional(),
  })
  .loose();

type ResourceChange = z.infer<typeof ResourceChangeSchema>;

/**
 * Finds the IAM users a Terraform plan creates or updates and the policies it newly attaches to users, for the
 * AWS provider's aws_iam_user_policy_attachment, aws_iam_user_policy and aws_iam_policy_attachment (its
 * `users`). Only resources being created or updated count ("create" or "update" among the actions); a
 * "no-op", "read" or "delete" does not. Group memberships (aws_iam_user_group_membership,
 * aws_iam_group_membership) are added for requiredGroupName. aws_iam_user has no inline policy argument.
 *
 * @see https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_user
 * @see https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_user_policy_attachment
 * @see https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_policy_attachment
 */
export function terraformCandidates(file: string, rawPlan: unknown): IacUserCandidate[] {
  const parsed = TerraformPlanSchema.safeParse(rawPlan);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `${file}: not a valid Terraform plan: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'malformed'}`,
    );
  }
  const plan = parsed.data;
  const managed = plan.resource_changes.filter((r) => (r.mode ?? 'managed') === 'managed');
  const byAddress = new Map(managed.map((r) => [r.address, r]));
  const expressions = configurationExpressions(plan.configuration?.root_module as ConfigModule | undefined);

  const users = new Map<string, Builder>();
  for (const r of managed) {
    if (r.type !== 'aws_iam_user' || isDeleteOnly(r)) continue;
    const after = r.change.after ?? {};
    const notes: string[] = [];
    const known = (key: string) => (isUnknown(r, key) ? undefined : after[key]);
    const name = typeof known('name') === 'string' ? (known('name') as string) : r.address;
    if (typeof known('name') !== 'string') notes.push('the user name is known only after apply');
    const tags = (known('tags_all') ?? known('tags') ?? {}) as Record<string, unknown>;
    if (isUnknown(r, 'tags_all') && isUnknown(r, 'tags')) notes.push('the tags are known only after apply');
    users.set(r.address, {
      address: r.address,
      changes: counts(r),
      name,
      path: typeof known('path') === 'string' ? (known('path') as string) : '/',
      tags: Object.fromEntries(
        Object.entries(tags ?? {}).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
      ),
      groups: [],
      attachments: [],
      notes,
    });
  }

  const userFor = (r: ResourceChange, attribute: string, value: unknown, byReference = true): Builder => {
    const referenced = byReference
      ? referencedAddress(expressions, r.address, attribute, users.keys())
      : undefined;
    if (referenced !== undefined) return users.get(referenced) as Builder;
    if (typeof value === 'string' && (!byReference || !isUnknown(r, attribute))) {
      for (const u of users.values()) if (sameIamName(u.name, value)) return u;
      return external(users, `name:${value.toLowerCase()}`, value, [
        `user ${value} is not created or changed by this plan: its other policies, path and tags are not known here`,
      ]);
    }
    return external(users, `unknown:${r.address}`, `(user of ${r.address}, known only after apply)`, [
      `the user of ${r.address} is known only after apply`,
    ]);
  };

  const policyFrom = (r: ResourceChange): { name: string; arn: string } => {
    const after = r.change.after ?? {};
    if (!isUnknown(r, 'policy_arn') && typeof after.policy_arn === 'string') {
      return { name: policyNameFromArn(after.policy_arn), arn: after.policy_arn };
    }
    const policy = referencedAddress(expressions, r.address, 'policy_arn', byAddress.keys());
    const policyAfter = policy !== undefined ? byAddress.get(policy)?.change.after : undefined;
    if (policy !== undefined && typeof policyAfter?.name === 'string') {
      return { name: policyAfter.name, arn: `(arn of ${policy}, known after apply)` };
    }
    return {
      name: `(policy of ${policy ?? r.address}: known only after apply)`,
      arn: '(known after apply)',
    };
  };

  for (const r of managed) {
    if (!counts(r)) continue;
    const after = r.change.after ?? {};
    switch (r.type) {
      case 'aws_iam_user_policy_attachment': {
        const policy = policyFrom(r);
        userFor(r, 'user', after.user).attachments.push({
          kind: 'managed',
          name: policy.name,
          arn: policy.arn,
          from: r.address,
        });
        break;
      }
      case 'aws_iam_policy_attachment': {
        const policy = policyFrom(r);
        for (const target of listTargets(r, 'users', expressions, users)) {
          const u = typeof target === 'string' ? userFor(r, 'users', target, false) : target;
          u.attachments.push({ kind: 'managed', name: policy.name, arn: policy.arn, from: r.address });
        }
        break;
      }
      case 'aws_iam_user_policy': {
        const name =
          !isUnknown(r, 'name') && typeof after.name === 'string'
            ? after.name
            : `${typeof after.name_prefix === 'string' ? after.name_prefix : ''}(name generated at apply)`;
        userFor(r, 'user', after.user).attachments.push({ kind: 'inline', name, from: r.address });
        break;
      }
      case 'aws_iam_user_group_membership': {
        const u = userFor(r, 'user', after.user);
        for (const g of Array.isArray(after.groups) ? after.groups : [])
          if (typeof g === 'string') u.groups.push(g);
        break;
      }
      case 'aws_iam_group_membership': {
        if (typeof after.group !== 'string') break;
        for (const target of listTargets(r, 'users', expressions, users)) {
          (typeof target === 'string' ? userFor(r, 'users', target, false) : target).groups.push(after.group);
        }
        break;
      }
    }
  }

  return [...users.values()]
    .filter((u) => u.changes || u.attachments.length > 0)
    .map((u) => ({
      source: 'terraform' as const,
      file,
      address: u.address,
      user: {
        userId: u.address ?? u.name,
        userName: u.name,
        path: u.path,
        groupNames: [...new Set(u.groups)],
        tags: u.tags,
      },
      otherNames: [],
      attachments: u.attachments,
      notes: [...new Set(u.notes)],
      suppressed: false,
    }));
}

interface Builder {
  readonly address: string | undefined;
  readonly changes: boolean;
  readonly name: string;
  readonly path: string;
  readonly tags: Record<string, string>;
  readonly groups: string[];
  readonly attachments: IacAttachment[];
  readonly notes: string[];
}

function external(users: Map<string, Builder>, key: string, name: string, notes: string[]): Builder {
  const existing = users.get(key);
  if (existing !== undefined) return existing;
  const b: Builder = {
    address: undefined,
    changes: false,
    name,
    path: '/',
    tags: {},
    groups: [],
    attachments: [],
    notes,
  };
  users.set(key, b);
  return b;
}

/** "create" or "update" among the actions: a replacement (delete and create) counts, a no-op does not. */
function counts(r: ResourceChange): boolean {
  return r.change.actions.includes('create') || r.change.actions.includes('update');
}

function isDeleteOnly(r: ResourceChange): boolean {
  return r.change.actions.length === 1 && r.change.actions[0] === 'delete';
}

function isUnknown(r: ResourceChange, attribute: string): boolean {
  return r.change.after_unknown?.[attribute] === true;
}

/** Entries of a list attribute (aws_iam_policy_attachment.users): known names, or users found by reference. */
function listTargets(
  r: ResourceChange,
  attribute: string,
  expressions: Map<string, Record<string, unknown>>,
  users: Map<string, Builder>,
): (string | Builder)[] {
  const values = r.change.after?.[attribute];
  const unknownFlags = r.change.after_unknown?.[attribute];
  const known = Array.isArray(values)
    ? values.filter(
        (v, i): v is string =>
          typeof v === 'string' && !(Array.isArray(unknownFlags) && unknownFlags[i] === true),
      )
    : [];
  const addresses = [...users.keys()];
  const referenced = referencedAddresses(expressions, r.address, attribute)
    .flatMap((ref) => addresses.filter((a) => a === ref || withoutIndexes(a) === withoutIndexes(ref)))
    .map((a) => users.get(a) as Builder)
    .filter((u) => !known.some((k) => sameIamName(k, u.name)));
  if (unknownFlags === true || (Array.isArray(unknownFlags) && unknownFlags.includes(true))) {
    return [...known, ...referenced];
  }
  return known;
}

/** Module-prefixed resource address (without count/for_each index) to its configuration expressions. */
function configurationExpressions(root: ConfigModule | undefined): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const walk = (module: ConfigModule | undefined, prefix: string, depth: number): void => {
    if (module === undefined || depth > 20) return;
    for (const r of module.resources ?? []) out.set(`${prefix}${r.address}`, r.expressions ?? {});
    for (const [name, call] of Object.entries(module.module_calls ?? {})) {
      walk(call.module, `${prefix}module.${name}.`, depth + 1);
    }
  };
  walk(root, '', 0);
  return out;
}

/** Splits `module.a["x"].aws_iam_user.b[0]` into its module instance prefix and the resource part. */
function splitAddress(address: string): { modulePrefix: string; resource: string } {
  const match = /^((?:module\.[^.[]+(?:\[[^\]]*\])?\.)*)(.*)$/.exec(address);
  return { modulePrefix: match?.[1] ?? '', resource: match?.[2] ?? address };
}

const withoutIndexes = (address: string): string => address.replace(/\[[^\]]*\]/g, '');

/**
 * The resource addresses an attribute's configuration expression refers to (`user = aws_iam_user.alice.name`
 * refers to aws_iam_user.alice), in the referring resource's module instance. Terraform's plan keeps these
 * references even where the value itself is known only after apply.
 */
function referencedAddresses(
  expressions: Map<string, Record<string, unknown>>,
  address: string,
  attribute: string,
): string[] {
  const { modulePrefix } = splitAddress(address);
  const expression = expressions.get(withoutIndexes(address));
  const references = (expression?.[attribute] as { references?: unknown } | undefined)?.references;
  if (!Array.isArray(references)) return [];
  return references
    .filter((ref): ref is string => typeof ref === 'string')
    .flatMap((ref) => {
      const parts = ref.split('.');
      const size = parts[0] === 'data' ? 3 : 2;
      return parts.length >= size ? [`${modulePrefix}${parts.slice(0, size).join('.')}`] : [];
    });
}

/** The first referenced address among `known` (matching with or without a count/for_each index). */
function referencedAddress(
  expressions: Map<string, Record<string, unknown>>,
  address: string,
  attribute: string,
  known: Iterable<string>,
): string | undefined {
  const all = [...known];
  for (const ref of referencedAddresses(expressions, address, attribute)) {
    const hit = all.find((a) => a === ref || withoutIndexes(a) === withoutIndexes(ref));
    if (hit !== undefined) return hit;
  }
  return undefined;
}
