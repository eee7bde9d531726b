import { Document } from 'yaml';
import type { DesignGroup, DesignPlan, DesignPolicyRef } from './design-types.js';
import { newPolicyKeys, planIdentifiers, policyPath } from './render-names.js';

/** A policy document as the object CloudFormation takes; `${aws:username}` needs no escape outside Fn::Sub. */
function documentObject(key: string, document: string): unknown {
  try {
    return JSON.parse(document);
  } catch {
    throw new Error(
      `the document of new policy ${key} is not JSON; fix it in the plan file and render again`,
    );
  }
}

/**
 * CloudFormation's quota of resources per stack.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
export const MAX_RESOURCES_PER_STACK = 500;

const byName = (a: DesignGroup, b: DesignGroup) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Renders a group design as a CloudFormation template (YAML): `AWS::IAM::ManagedPolicy` for the policies it
 * creates, `AWS::IAM::Group` (GroupName, Path, ManagedPolicyArns) for its new groups, and one
 * `AWS::IAM::UserToGroupAddition` per group that gains members. Existing groups are not resources of the
 * template: CloudFormation adopts a resource only through an import change set, so they are listed in
 * `Metadata.ExistingGroups` with the resource definitions to add and the `--resources-to-import` value for
 * `aws cloudformation create-change-set --change-set-type IMPORT`. Users join existing groups by name, and an
 * addition lists only the users the design adds: deleting the stack then removes exactly what it added.
 * The removal of users' direct policies is listed in `Metadata.DirectPoliciesToRemove`: CloudFormation
 * does not manage them. Deterministic: the same plan gives the same text. A design that needs more resources
 * than one stack may hold is refused with an error that says so; a template over 51,200 bytes must be
 * uploaded to S3 (--template-url) rather than passed as a body.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-usertogroupaddition.html
 */
export function renderCloudFormation(plan: DesignPlan): string {
  const ids = planIdentifiers(plan);
  const arnOf = (key: string, ref: DesignPolicyRef | undefined): unknown => {
    if (ref === undefined) throw new Error(`the plan's groups name policy ${key}, which plan.policies lacks`);
    // Ref of an AWS::IAM::ManagedPolicy is its ARN.
    return ref.kind === 'new-managed' ? { Ref: ids.cfnPolicy.get(key) } : ref.policyArn;
  };
  const groupProperties = (g: DesignGroup) => ({
    GroupName: g.name,
    Path: g.path,
    ...(g.policies.length > 0
      ? { ManagedPolicyArns: [...g.policies].sort().map((k) => arnOf(k, plan.policies[k])) }
      : {}),
  });

  const resources: Record<string, unknown> = {};
  for (const key of newPolicyKeys(plan)) {
    const ref = plan.policies[key];
    if (ref?.kind !== 'new-managed') continue;
    resources[ids.cfnPolicy.get(key) ?? key] = {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        ManagedPolicyName: ref.policyName,
        Path: policyPath(ref),
        PolicyDocument: documentObject(key, ref.document),
      },
    };
  }
  const groups = [...plan.groups].sort(byName);
  for (const g of groups.filter((x) => x.status === 'new')) {
    resources[ids.cfnGroup.get(g.name) ?? g.name] = {
      Type: 'AWS::IAM::Group',
      Properties: groupProperties(g),
    };
  }
  const joins = new Map(plan.users.map((u) => [u.userName, new Set(u.joins)]));
  for (const g of groups) {
    // A new group's members all join it; an existing group's only those the design adds.
    const adds = g.members.filter((m) => g.status === 'new' || (joins.get(m)?.has(g.name) ?? false));
    if (adds.length === 0) continue;
    resources[ids.cfnMembers.get(g.name) ?? g.name] = {
      Type: 'AWS::IAM::UserToGroupAddition',
      Properties: {
        GroupName: g.status === 'new' ? { Ref: ids.cfnGroup.get(g.name) } : g.name,
        Users: [...adds].sort(),
      },
    };
  }

  const count = Object.keys(resources).length;
  if (count > MAX_RESOURCES_PER_STACK) {
    throw new Error(
      `the design needs ${count} CloudFormation resources, more than the ${MAX_RESOURCES_PER_STACK} one stack may hold; ` +
        "apply it with the project's apply or Terraform, or split the plan file into several designs",
    );
  }
  if (count === 0) {
    // A template must have a resource: a design that only reuses groups as they are adds nothing to deploy.
    resources.NothingToDeploy = { Type: 'AWS::CloudFormation::WaitConditionHandle' };
  }
  const existing = groups.filter((g) => g.status === 'existing');
  const removals = [...plan.users]
    .filter((u) => u.detachManaged.length > 0 || u.deleteInline.length > 0)
    .sort((a, b) => (a.userName < b.userName ? -1 : 1));
  const metadata: Record<string, unknown> = {};
  if (existing.length > 0) {
    metadata.ExistingGroups = {
      Note:
        'These groups exist already and are used by name. CloudFormation cannot adopt them by deploying this ' +
        'template: to manage them here, add ImportResources to Resources and run aws cloudformation ' +
        'create-change-set --change-set-type IMPORT --resources-to-import with ResourcesToImport (as JSON).',
      ResourcesToImport: existing.map((g) => ({
        ResourceType: 'AWS::IAM::Group',
        LogicalResourceId: ids.cfnGroup.get(g.name),
        ResourceIdentifier: { GroupName: g.name },
      })),
      ImportResources: Object.fromEntries(
        existing.map((g) => [
          ids.cfnGroup.get(g.name),
          // An import needs a DeletionPolicy; Retain keeps a group others rely on if the stack goes.
          {
            Type: 'AWS::IAM::Group',
            DeletionPolicy: 'Retain',
            UpdateReplacePolicy: 'Retain',
            Properties: groupProperties(g),
          },
        ]),
      ),
    };
  }
  if (removals.length > 0) {
    metadata.DirectPoliciesToRemove = {
      Note:
        "Not managed by CloudFormation: once the memberships are in place and verified, the project's apply " +
        'removes these, skipping any user whose state changed since the plan.',
      Users: removals.map((u) => ({
        UserName: u.userName,
        ...(u.detachManaged.length > 0 ? { DetachManagedPolicies: [...u.detachManaged] } : {}),
        ...(u.deleteInline.length > 0 ? { DeleteInlinePolicies: [...u.deleteInline] } : {}),
      })),
    };
  }

  const template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `IAM group design for account ${plan.accountId}, planned ${plan.createdAt}`.slice(0, 1024),
    ...(Object.keys(metadata).length > 0 ? { Metadata: metadata } : {}),
    Resources: resources,
  };
  // YAML 1.1 quoting: CloudFormation reads YAML 1.1, where an unquoted yes, on, 0777 or 2010-09-09 is no string.
  const doc = new Document(template, { version: '1.1' });
  doc.commentBefore =
    ' Generated from a group design plan: edit the plan file and render again rather than this file.\n' +
    (existing.length > 0
      ? ` ${existing.length} existing group(s) are used by name, not adopted: see Metadata.ExistingGroups.`
      : ' Every group of the design is new.');
  // No line folding: a folded ARN or document string is harder to review and to diff.
  return doc.toString({ lineWidth: 0 });
}
