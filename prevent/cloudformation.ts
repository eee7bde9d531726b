import { z } from 'zod';
import { InputError } from '../rule/schemas/config-rule-event.js';
import { sameIamName } from '../rule/user.js';
import {
  IAM_USER_NO_POLICIES_CHECK,
  type IacAttachment,
  type IacUserCandidate,
  policyNameFromArn,
} from './candidate.js';
import { expandForEach, type ForEachExpansion, hasForEach } from './cfn-foreach.js';
import {
  type CfnTemplateView,
  type CfnValue,
  comparableName,
  isPartlyKnown,
  resolveList,
  resolveObjectList,
  resolveOwnName,
  resolveScalar,
  textOf,
} from './cfn-values.js';

/**
 * The parts of a CloudFormation template this check reads. Strict only where a wrong shape would hide a user:
 * every resource must be an object with a string Type.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html
 */
export const CfnTemplateSchema = z.object({
  Parameters: z
    .record(z.string(), z.object({ Default: z.unknown().optional(), Type: z.unknown().optional() }).loose())
    .optional(),
  Mappings: z.record(z.string(), z.unknown()).optional(),
  Resources: z.record(
    z.string(),
    z
      .object({
        Type: z.string().min(1),
        Properties: z.record(z.string(), z.unknown()).optional(),
        Metadata: z.record(z.string(), z.unknown()).optional(),
        Condition: z.string().optional(),
      })
      .loose(),
  ),
});
export type CfnTemplate = z.infer<typeof CfnTemplateSchema>;
type CfnResource = CfnTemplate['Resources'][string];

/** The IAM resource types that create users or attach policies to them. UserToGroupAddition only adds groups. */
const USER = 'AWS::IAM::User';

/**
 * Finds every IAM user a template would create, and every user (inside or outside the template) that its
 * AWS::IAM::Policy, AWS::IAM::ManagedPolicy and AWS::IAM::UserPolicy resources would attach policies to.
 * Group memberships from AWS::IAM::UserToGroupAddition are added (they matter for requiredGroupName).
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-user.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-policy.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-managedpolicy.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-userpolicy.html
 */
export function cloudFormationCandidates(
  file: string,
  rawTemplate: unknown,
  writtenLineOf: (logicalId: string) => number | undefined = () => undefined,
): IacUserCandidate[] {
  const expansion = expandResources(file, rawTemplate);
  const parsed = CfnTemplateSchema.safeParse(expansion?.template ?? rawTemplate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `${file}: not a valid CloudFormation template: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'malformed'}`,
    );
  }
  const template = parsed.data;
  const loopNotes = (logicalId: string) => expansion?.notesOf.get(logicalId) ?? [];
  /** A resource a loop made is at the loop's line. */
  const lineOf = (logicalId: string): number | undefined => {
    const loop = expansion?.loopOf.get(logicalId);
    return writtenLineOf(logicalId) ?? (loop !== undefined ? writtenLineOf(loop) : undefined);
  };
  const view: CfnTemplateView = {
    parameters: template.Parameters ?? {},
    mappings: template.Mappings ?? {},
    resources: template.Resources,
  };
  const builders = new Map<string, CandidateBuilder>();

  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === USER) {
      const b = userBuilder(file, logicalId, resource, view, lineOf);
      b.notes.push(...loopNotes(logicalId));
      builders.set(logicalId, b);
    }
  }

  /**
   * The candidate a Users entry points to: a user of the template (by Ref, or by a name that resolves to the
   * same text as its UserName, whichever functions build the two), or one defined elsewhere.
   */
  const target = (value: CfnValue, from: string): CandidateBuilder => {
    if (value.kind === 'resource' && template.Resources[value.logicalId]?.Type === USER) {
      return builders.get(value.logicalId) as CandidateBuilder;
    }
    const name = comparableName(value, view);
    if (name !== undefined) {
      for (const b of builders.values()) if (b.matchNames.some((n) => sameName(n, name))) return b;
      if (!isPartlyKnown(name)) {
        return externalBuilder(builders, file, `name:${name.toLowerCase()}`, name, lineOf(from), [
          `user ${name} is not defined in this file: its other policies, path and tags are not known here`,
        ]);
      }
    }
    const why =
      value.kind === 'unknown'
        ? value.why
        : value.kind === 'text'
          ? `the name is only partly known (${value.text}) and matches no user of this template`
          : `a ${template.Resources[(value as { logicalId: string }).logicalId]?.Type} resource`;
    return externalBuilder(
      builders,
      file,
      `unknown:${why}`,
      `(user not known before deployment)`,
      lineOf(from),
      [`the user is not known before deployment: ${why}`],
    );
  };

  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const suppressed = isSuppressed(resource);
    const line = lineOf(logicalId);
    const condition =
      resource.Condition !== undefined ? ` (only when condition ${resource.Condition} is true)` : '';
    const targetOf = (user: CfnValue): CandidateBuilder => {
      const b = target(user, logicalId);
      b.notes.push(...loopNotes(logicalId));
      return b;
    };
    switch (resource.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::UserPolicy': {
        const name = policyLabel(resolveScalar(props.PolicyName, view), logicalId);
        const users =
          resource.Type === 'AWS::IAM::UserPolicy'
            ? resolveScalar(props.UserName, view).filter((v) => v.kind !== 'none')
            : resolveList(props.Users, view);
        for (const user of users) {
          const b = targetOf(user);
          b.attachments.push({
            kind: 'inline',
            name: name.label,
            from: logicalId,
            ...lineField(line),
            suppressed,
          });
          if (name.note !== undefined) b.notes.push(name.note);
          if (condition !== '') b.notes.push(`inline policy ${name.label} from ${logicalId}${condition}`);
        }
        break;
      }
      case 'AWS::IAM::ManagedPolicy': {
        const named = resolveScalar(props.ManagedPolicyName, view);
        const name =
          props.ManagedPolicyName === undefined
            ? {
                label: logicalId,
                note: `managed policy ${logicalId} gets its name from CloudFormation at deployment`,
              }
            : policyLabel(named, logicalId);
        for (const user of resolveList(props.Users, view)) {
          const b = targetOf(user);
          b.attachments.push({
            kind: 'managed',
            name: name.label,
            arn: `(managed policy ${logicalId} of this template)`,
            from: logicalId,
            ...lineField(line),
            suppressed,
          });
          if (name.note !== undefined) b.notes.push(name.note);
          if (condition !== '') b.notes.push(`managed policy ${name.label} from ${logicalId}${condition}`);
        }
        break;
      }
      case 'AWS::IAM::UserToGroupAddition': {
        const group = resolveScalar(props.GroupName, view);
        for (const user of resolveList(props.Users, view)) {
          const b = targetOf(user);
          for (const g of group) {
            const groupName = textOf(g, view);
            if (groupName !== undefined) b.groups.push(groupName);
            else if (g.kind === 'resource') b.groups.push(g.logicalId);
            else if (g.kind === 'unknown') b.notes.push(`a group from ${logicalId} is not known: ${g.why}`);
          }
        }
        break;
      }
    }
  }
  return [...builders.values()].map((b) => b.build());
}

/**
 * The template with its Fn::ForEach loops expanded, when Resources has any (undefined otherwise, and when the
 * template is too malformed to read its Parameters: the schema then says what is wrong).
 */
function expandResources(
  file: string,
  raw: unknown,
): (ForEachExpansion & { template: Record<string, unknown> }) | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const resources = (raw as { Resources?: unknown }).Resources;
  if (
    resources === null ||
    typeof resources !== 'object' ||
    Array.isArray(resources) ||
    !hasForEach(resources)
  )
    return undefined;
  const sections = CfnTemplateSchema.pick({ Parameters: true, Mappings: true }).safeParse(raw);
  if (!sections.success) return undefined;
  const expansion = expandForEach(file, resources as Record<string, unknown>, {
    parameters: sections.data.Parameters ?? {},
    mappings: sections.data.Mappings ?? {},
  });
  return { ...expansion, template: { ...(raw as Record<string, unknown>), Resources: expansion.resources } };
}

interface CandidateBuilder {
  readonly names: string[];
  /** The names a Users entry may give to mean this user (see sameName). */
  readonly matchNames: string[];
  readonly groups: string[];
  readonly attachments: IacAttachment[];
  readonly notes: string[];
  build(): IacUserCandidate;
}

function userBuilder(
  file: string,
  logicalId: string,
  resource: CfnResource,
  view: CfnTemplateView,
  lineOf: (logicalId: string) => number | undefined,
): CandidateBuilder {
  const props = resource.Properties ?? {};
  const notes: string[] = [];
  const line = lineOf(logicalId);
  const names: string[] = [];
  const matchNames: string[] = [];
  if (props.UserName === undefined) {
    names.push(logicalId);
    notes.push(
      `no UserName: CloudFormation names the user at deployment, so exemptUserNames cannot match it (judged as ${logicalId})`,
    );
  } else {
    for (const v of resolveOwnName(props.UserName, view, logicalId)) {
      const comparable = comparableName(v, view);
      if (comparable !== undefined) matchNames.push(comparable);
      if (v.kind === 'text') {
        names.push(v.text);
        if (isPartlyKnown(v.text))
          notes.push(`the user name is only partly known before deployment: ${v.text}`);
      } else if (v.kind === 'unknown') notes.push(`the user name is not known before deployment: ${v.why}`);
    }
    if (names.length === 0) names.push(logicalId);
  }
  const paths = resolveScalar(props.Path ?? '/', view);
  const path = paths.find((p) => p.kind === 'text')?.text ?? '/';
  for (const p of paths)
    if (p.kind === 'unknown') notes.push(`the path is not known before deployment: ${p.why}`);
  if (resource.Condition !== undefined)
    notes.push(`the user is created only when condition ${resource.Condition} is true`);

  const groups: string[] = [];
  for (const g of resolveList(props.Groups, view)) {
    const name = textOf(g, view);
    if (name !== undefined) groups.push(name);
    else if (g.kind === 'resource') groups.push(g.logicalId);
    else if (g.kind === 'unknown') notes.push(`a group is not known before deployment: ${g.why}`);
  }
  const attachments: IacAttachment[] = [];
  for (const arn of resolveList(props.ManagedPolicyArns, view)) {
    attachments.push({ ...managedFrom(arn, view, notes), from: logicalId, ...lineField(line) });
  }
  for (const policy of resolveObjectList(props.Policies)) {
    const name = policyLabel(resolveScalar(policy.PolicyName, view), logicalId);
    if (name.note !== undefined) notes.push(name.note);
    attachments.push({ kind: 'inline', name: name.label, from: logicalId, ...lineField(line) });
  }
  // No prototype: a tag named __proto__ or constructor is a tag like any other.
  const tags: Record<string, string> = Object.create(null);
  for (const tag of resolveObjectList(props.Tags)) {
    const key = resolveScalar(tag.Key, view);
    const value = resolveScalar(tag.Value, view);
    const k = key.length === 1 && key[0]?.kind === 'text' ? key[0].text : undefined;
    const v = value.length === 1 && value[0]?.kind === 'text' ? value[0].text : undefined;
    if (k !== undefined && v !== undefined) tags[k] = v;
    else notes.push(`a tag${k !== undefined ? ` (${k})` : ''} is not known before deployment`);
  }
  const suppressed = isSuppressed(resource);
  return {
    names,
    matchNames,
    groups,
    attachments,
    notes,
    build: () => ({
      source: 'cloudformation',
      file,
      address: logicalId,
      ...lineField(line),
      user: {
        userId: logicalId,
        userName: names[0] as string,
        path,
        groupNames: unique(groups),
        tags,
      },
      otherNames: names.slice(1),
      attachments: uniqueAttachments(attachments),
      notes: unique(notes),
      suppressed,
    }),
  };
}

function externalBuilder(
  builders: Map<string, CandidateBuilder>,
  file: string,
  key: string,
  name: string,
  line: number | undefined,
  notes: string[],
): CandidateBuilder {
  const existing = builders.get(key);
  if (existing !== undefined) return existing;
  const groups: string[] = [];
  const attachments: IacAttachment[] = [];
  const allNotes = [...notes];
  const builder: CandidateBuilder = {
    names: [name],
    matchNames: key.startsWith('name:') ? [name] : [],
    groups,
    attachments,
    notes: allNotes,
    build: () => ({
      source: 'cloudformation',
      file,
      address: undefined,
      ...lineField(line),
      user: { userId: key, userName: name, path: '/', groupNames: unique(groups), tags: {} },
      otherNames: [],
      attachments: uniqueAttachments(attachments),
      notes: unique(allNotes),
      suppressed: false,
    }),
  };
  builders.set(key, builder);
  return builder;
}

/** A managed policy ARN as the verdict sees it: the name from the ARN, or a label saying what is unknown. */
function managedFrom(
  arn: CfnValue,
  view: CfnTemplateView,
  notes: string[],
): Pick<IacAttachment, 'kind' | 'name' | 'arn'> {
  if (arn.kind === 'text') {
    if (arn.text.includes('${'))
      notes.push(`managed policy ARN ${arn.text} is only partly known before deployment`);
    return { kind: 'managed', name: policyNameFromArn(arn.text), arn: arn.text };
  }
  if (arn.kind === 'resource') {
    const resource = view.resources[arn.logicalId];
    const props = (resource?.Properties ?? {}) as Record<string, unknown>;
    const named =
      resource?.Type === 'AWS::IAM::ManagedPolicy' ? resolveScalar(props.ManagedPolicyName, view) : [];
    const name = named.length === 1 && named[0]?.kind === 'text' ? named[0].text : arn.logicalId;
    if (name === arn.logicalId) notes.push(`managed policy ${arn.logicalId} gets its name at deployment`);
    return {
      kind: 'managed',
      name,
      arn: `(${resource?.Type ?? 'resource'} ${arn.logicalId} of this template)`,
    };
  }
  const why = arn.kind === 'unknown' ? arn.why : 'no value';
  notes.push(`a managed policy is attached whose ARN is not known before deployment: ${why}`);
  return { kind: 'managed', name: `(ARN unknown: ${why})`, arn: '(unknown)' };
}

function policyLabel(values: CfnValue[], logicalId: string): { label: string; note?: string } {
  const texts = values.filter((v) => v.kind === 'text').map((v) => (v as { text: string }).text);
  if (texts.length > 0) return { label: unique(texts).join(' | ') };
  const why = values.find((v) => v.kind === 'unknown');
  const reason = why?.kind === 'unknown' ? why.why : 'no name given';
  return {
    label: `(policy of ${logicalId}: name not known before deployment)`,
    note: `a policy name from ${logicalId} is not known before deployment: ${reason}`,
  };
}

/** `Metadata: { guard: { SuppressedRules: [IAM_USER_NO_POLICIES_CHECK] } }`, as CloudFormation Guard reads it. */
export function isSuppressed(resource: { readonly Metadata?: Record<string, unknown> | undefined }): boolean {
  const guard = resource.Metadata?.guard as { SuppressedRules?: unknown } | undefined;
  return Array.isArray(guard?.SuppressedRules) && guard.SuppressedRules.includes(IAM_USER_NO_POLICIES_CHECK);
}

/**
 * Whether two resolved names are one user's: as IAM compares names (without regard to case) when fully known;
 * exactly when they keep unknown parts, whose `${Name}` placeholders are case-sensitive template names.
 */
function sameName(a: string, b: string): boolean {
  return isPartlyKnown(a) || isPartlyKnown(b) ? a === b : sameIamName(a, b);
}

function lineField(line: number | undefined): { line?: number } {
  return line !== undefined ? { line } : {};
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function uniqueAttachments(items: readonly IacAttachment[]): IacAttachment[] {
  const seen = new Set<string>();
  return items.filter((a) => {
    const key = `${a.kind}\u0000${a.name.toLowerCase()}\u0000${a.from}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
