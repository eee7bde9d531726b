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

interface ConfigExpression {
  references?: unknown;
}

/**
 * A plan's configuration, by module path without instance keys (`module.team.`; the root is ``): each
 * resource's expressions, each module's inputs as its caller writes them, and each module's outputs. This is
 * what lets a reference be followed across a module boundary (`var.user` to the caller's
 * `aws_iam_user.ci.name`, `module.ops.user_name` to the module's `aws_iam_user.this`).
 */
interface Configuration {
  readonly resources: Map<string, Record<string, unknown>>;
  readonly inputs: Map<string, Record<string, ConfigExpression>>;
  readonly outputs: Map<string, Record<string, ConfigExpression>>;
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
 * What a plan built from Terraform source (prevent/terraform-source.ts) knows beyond a real plan: where each
 * resource is declared, and why a value is not known (a real plan only says "known after apply").
 */
export interface TerraformSourceInfo {
  declaredAt(address: string): { readonly file: string; readonly line?: number } | undefined;
  whyUnknown(address: string, attribute: string): string | undefined;
}

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
export function terraformCandidates(
  file: string,
  rawPlan: unknown,
  source?: TerraformSourceInfo,
): IacUserCandidate[] {
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
  const config = readConfiguration(plan.configuration?.root_module);

  /** Why a value is not known: the reason read from source, or what a plan says. */
  const unknownWhy = (r: ResourceChange, attribute: string, subject: string): string => {
    const why = source?.whyUnknown(r.address, attribute);
    return why !== undefined ? `${subject} is not known: ${why}` : `${subject} is known only after apply`;
  };
  const where = (address: string): { file: string; line?: number } => source?.declaredAt(address) ?? { file };
  const lineOf = (address: string): { line?: number } => {
    const line = source?.declaredAt(address)?.line;
    return line !== undefined ? { line } : {};
  };

  const users = new Map<string, Builder>();
  for (const r of managed) {
    if (r.type !== 'aws_iam_user' || isDeleteOnly(r)) continue;
    const after = r.change.after ?? {};
    const notes: string[] = [];
    const known = (key: string) => (isUnknown(r, key) ? undefined : after[key]);
    const name = typeof known('name') === 'string' ? (known('name') as string) : r.address;
    if (typeof known('name') !== 'string') notes.push(unknownWhy(r, 'name', 'the user name'));
    const tags = (known('tags_all') ?? known('tags') ?? {}) as Record<string, unknown>;
    if (isUnknown(r, 'tags') || (isUnknown(r, 'tags_all') && !('tags' in after)))
      notes.push(unknownWhy(r, 'tags', 'the tags'));
    users.set(r.address, {
      address: r.address,
      ...where(r.address),
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

  /**
   * The user an attachment's attribute names. A reference to one instance (`aws_iam_user.u["bob"]`) is that
   * instance; a reference to a count/for_each resource as a whole (`aws_iam_user.u[each.key]`) is the instance
   * whose name is the attribute's value, never simply the first instance.
   */
  const userFor = (r: ResourceChange, attribute: string, value: unknown, byReference = true): Builder => {
    const knownName =
      typeof value === 'string' && (!byReference || !isUnknown(r, attribute)) ? value : undefined;
    const referenced = byReference ? referencedInstances(config, r.address, attribute, users.keys()) : [];
    const byName = (candidates: readonly string[]) =>
      knownName === undefined
        ? undefined
        : candidates.map((a) => users.get(a) as Builder).find((u) => sameIamName(u.name, knownName));
    const named = byName(referenced) ?? byName([...users.keys()]);
    if (named !== undefined) return named;
    if (referenced.length === 1) return users.get(referenced[0] as string) as Builder;
    if (knownName !== undefined) {
      return external(users, `name:${knownName.toLowerCase()}`, knownName, where(r.address), [
        `user ${knownName} is not created or changed by ${source !== undefined ? 'this configuration' : 'this plan'}: its other policies, path and tags are not known here`,
      ]);
    }
    const among = referenced.length > 1 ? ` (one of ${referenced.join(', ')})` : '';
    return external(users, `unknown:${r.address}`, `(user of ${r.address}, not known)`, where(r.address), [
      `${unknownWhy(r, attribute, `the user of ${r.address}`)}${among}`,
    ]);
  };

  const policyFrom = (r: ResourceChange): { name: string; arn: string } => {
    const after = r.change.after ?? {};
    if (!isUnknown(r, 'policy_arn') && typeof after.policy_arn === 'string') {
      return { name: policyNameFromArn(after.policy_arn), arn: after.policy_arn };
    }
    const policy = referencedAddress(config, r.address, 'policy_arn', byAddress.keys());
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
    // The managed policy an attachment resource names, as attached to one user.
    const managedAttachment = () => {
      const policy = policyFrom(r);
      return {
        kind: 'managed' as const,
        name: policy.name,
        arn: policy.arn,
        from: r.address,
        ...lineOf(r.address),
      };
    };
    switch (r.type) {
      case 'aws_iam_user_policy_attachment': {
        userFor(r, 'user', after.user).attachments.push(managedAttachment());
        break;
      }
      case 'aws_iam_policy_attachment': {
        const attachment = managedAttachment();
        for (const target of listTargets(r, 'users', config, users)) {
          const u =
            target === UNRESOLVED
              ? external(
                  users,
                  `unknown:${r.address}`,
                  `(user of ${r.address}, not known)`,
                  where(r.address),
                  [unknownWhy(r, 'users', `a user of ${r.address}`)],
                )
              : typeof target === 'string'
                ? userFor(r, 'users', target, false)
                : target;
          u.attachments.push({ ...attachment });
        }
        break;
      }
      case 'aws_iam_user_policy': {
        const name =
          !isUnknown(r, 'name') && typeof after.name === 'string'
            ? after.name
            : `${typeof after.name_prefix === 'string' ? after.name_prefix : ''}(${
                source?.whyUnknown(r.address, 'name') !== undefined
                  ? 'name not known'
                  : 'name generated at apply'
              })`;
        userFor(r, 'user', after.user).attachments.push({
          kind: 'inline',
          name,
          from: r.address,
          ...lineOf(r.address),
        });
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
        for (const target of listTargets(r, 'users', config, users)) {
          if (target !== UNRESOLVED)
            (typeof target === 'string' ? userFor(r, 'users', target, false) : target).groups.push(
              after.group,
            );
        }
        break;
      }
    }
  }

  return [...users.values()]
    .filter((u) => u.changes || u.attachments.length > 0)
    .map((u) => ({
      source: 'terraform' as const,
      file: u.file,
      ...(u.line !== undefined ? { line: u.line } : {}),
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
  /** Where the user's resource (or, for a user from elsewhere, the first attachment) is declared. */
  readonly file: string;
  readonly line?: number;
  readonly changes: boolean;
  readonly name: string;
  readonly path: string;
  readonly tags: Record<string, string>;
  readonly groups: string[];
  readonly attachments: IacAttachment[];
  readonly notes: string[];
}

function external(
  users: Map<string, Builder>,
  key: string,
  name: string,
  at: { file: string; line?: number },
  notes: string[],
): Builder {
  const existing = users.get(key);
  if (existing !== undefined) return existing;
  const b: Builder = {
    address: undefined,
    ...at,
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

/** An entry known only after apply that refers to no user of the plan: some user, not known here. */
const UNRESOLVED: unique symbol = Symbol('a user not known');

/**
 * Entries of a list attribute (aws_iam_policy_attachment.users): known names, users found by reference, and
 * UNRESOLVED when an entry known only after apply refers to no user of the plan (it still attaches the policy).
 */
function listTargets(
  r: ResourceChange,
  attribute: string,
  config: Configuration,
  users: Map<string, Builder>,
): (string | Builder | typeof UNRESOLVED)[] {
  const values = r.change.after?.[attribute];
  const unknownFlags = r.change.after_unknown?.[attribute];
  const known = Array.isArray(values)
    ? values.filter(
        (v, i): v is string =>
          typeof v === 'string' && !(Array.isArray(unknownFlags) && unknownFlags[i] === true),
      )
    : [];
  const addresses = [...users.keys()];
  const refs = referencedAddresses(config, r.address, attribute);
  // Terraform records `aws_iam_user.m[0].name` as that instance and as the whole resource: the instance wins.
  const found = refs
    .filter((ref) => !refs.some((other) => other !== ref && other.startsWith(`${ref}[`)))
    .flatMap((ref) => {
      const exact = addresses.filter((a) => a === ref);
      return exact.length > 0 ? exact : addresses.filter((a) => withoutIndexes(a) === withoutIndexes(ref));
    })
    .map((a) => users.get(a) as Builder);
  const referenced = found.filter((u) => !known.some((k) => sameIamName(k, u.name)));
  if (unknownFlags === true || (Array.isArray(unknownFlags) && unknownFlags.includes(true))) {
    return found.length > 0 ? [...known, ...referenced] : [...known, UNRESOLVED];
  }
  return known;
}

/**
 * The configuration by module path (see Configuration). Entries of the wrong shape are skipped: the
 * configuration only traces references, and a plan edited by hand must not stop the users being judged.
 */
function readConfiguration(root: unknown): Configuration {
  const config: Configuration = { resources: new Map(), inputs: new Map(), outputs: new Map() };
  const walk = (module: unknown, prefix: string, depth: number): void => {
    if (!isRecord(module) || depth > 20) return;
    for (const r of Array.isArray(module.resources) ? module.resources : []) {
      if (isRecord(r) && typeof r.address === 'string')
        config.resources.set(`${prefix}${r.address}`, isRecord(r.expressions) ? r.expressions : {});
    }
    config.outputs.set(
      prefix,
      Object.fromEntries(
        Object.entries(isRecord(module.outputs) ? module.outputs : {}).map(([k, o]) => [
          k,
          isRecord(o) && isRecord(o.expression) ? o.expression : {},
        ]),
      ),
    );
    for (const [name, call] of Object.entries(isRecord(module.module_calls) ? module.module_calls : {})) {
      if (!isRecord(call)) continue;
      config.inputs.set(
        `${prefix}module.${name}.`,
        (isRecord(call.expressions) ? call.expressions : {}) as Record<string, ConfigExpression>,
      );
      walk(call.module, `${prefix}module.${name}.`, depth + 1);
    }
  };
  walk(root, '', 0);
  return config;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
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
function referencedAddresses(config: Configuration, address: string, attribute: string): string[] {
  const { modulePrefix } = splitAddress(address);
  const expression = config.resources.get(address) ?? config.resources.get(withoutIndexes(address));
  const out = new Set<string>();
  followReferences(config, modulePrefix, expression?.[attribute] as ConfigExpression | undefined, out, 0);
  return [...out];
}

/**
 * Adds the resource addresses an expression refers to, in module instance `prefix`: a resource reference as
 * it is; `var.x` through the caller's input x (in the caller's instance); `module.m.out` through m's output.
 */
function followReferences(
  config: Configuration,
  prefix: string,
  expression: ConfigExpression | undefined,
  out: Set<string>,
  depth: number,
): void {
  const references = expression?.references;
  if (!Array.isArray(references) || depth > 20) return;
  for (const ref of references) {
    if (typeof ref !== 'string') continue;
    const parts = ref.split('.');
    if (parts[0] === 'var' && parts[1] !== undefined) {
      const call = /^(.*?)(module\.[^.[]+(?:\[[^\]]*\])?\.)$/.exec(prefix);
      if (call === null) continue;
      const input = config.inputs.get(withoutIndexes(prefix))?.[parts[1]];
      followReferences(config, call[1] ?? '', input, out, depth + 1);
      continue;
    }
    const output = /^module\.([^.[]+)(\[[^\]]*\])?\.([^.[]+)/.exec(ref);
    if (output !== null) {
      const child = `${prefix}module.${output[1]}${output[2] ?? ''}.`;
      const expression = config.outputs.get(withoutIndexes(child))?.[output[3] as string];
      followReferences(config, child, expression, out, depth + 1);
      continue;
    }
    const size = parts[0] === 'data' ? 3 : 2;
    if (
      parts.length >= size &&
      !['each', 'count', 'local', 'path', 'terraform', 'self'].includes(parts[0] as string)
    )
      out.add(`${prefix}${parts.slice(0, size).join('.')}`);
  }
}

/**
 * The instances among `known` that the attribute refers to, for its first reference that names any: the
 * instance itself when the reference names one (`aws_iam_user.u["bob"]`), else every instance of the resource
 * (`aws_iam_user.u`, as `aws_iam_user.u[each.key]` is recorded).
 */
function referencedInstances(
  config: Configuration,
  address: string,
  attribute: string,
  known: Iterable<string>,
): string[] {
  const all = [...known];
  for (const ref of referencedAddresses(config, address, attribute)) {
    const exact = all.filter((a) => a === ref);
    if (exact.length > 0) return exact;
    const instances = all.filter((a) => withoutIndexes(a) === withoutIndexes(ref));
    if (instances.length > 0) return instances;
  }
  return [];
}

/** The one instance an attribute refers to (a policy), or undefined when it names none or several. */
function referencedAddress(
  config: Configuration,
  address: string,
  attribute: string,
  known: Iterable<string>,
): string | undefined {
  const instances = referencedInstances(config, address, attribute, known);
  return instances.length === 1 ? instances[0] : undefined;
}
