/**
 * One change (or read-back check) the migration makes, in the order it makes them. Plain JSON: the
 * Automation document shows the list as the plan, the CLI prints it, and the result lists the ones done.
 * Policy documents are never part of a step (they stay in IAM and out of logs and outputs).
 */
export type MigrationStep =
  | {
      readonly action: 'create-policy';
      readonly policyName: string;
      readonly path: string;
      readonly policyArn: string;
      /** The user's inline policy whose document becomes this managed policy. */
      readonly fromInlinePolicy: string;
    }
  | {
      readonly action: 'create-group';
      readonly groupName: string;
      readonly path: string;
      /** policy-set: named after its grants; operator-group: the GroupName the operator asked for. */
      readonly kind: 'policy-set' | 'operator-group';
    }
  | { readonly action: 'attach-group-policy'; readonly groupName: string; readonly policyArn: string }
  | {
      readonly action: 'add-user-to-group';
      readonly userName: string;
      readonly groupName: string;
      /** True when the group existed before this run (the user joins a group others may be in). */
      readonly existingGroup: boolean;
    }
  | {
      /** Read back: the user's groups now give it every grant it has directly. */
      readonly action: 'verify-groups-grant-all';
      readonly userName: string;
    }
  | {
      readonly action: 'detach-user-policy';
      readonly userName: string;
      readonly policyArn: string;
      /** True when a group of the user already gave this policy before the run. */
      readonly redundant: boolean;
    }
  | {
      readonly action: 'delete-user-policy';
      readonly userName: string;
      readonly policyName: string;
      readonly redundant: boolean;
    }
  | {
      /** Read back: no direct policies left, and the user's grants are exactly what they were. */
      readonly action: 'verify-grants-unchanged';
      readonly userName: string;
    };

/** Steps that change IAM (the others only read). */
export function isMutatingStep(step: MigrationStep): boolean {
  return step.action !== 'verify-groups-grant-all' && step.action !== 'verify-grants-unchanged';
}

/** A one-line description of a step for people (logs, CLI, Automation outputs). */
export function describeStep(step: MigrationStep): string {
  switch (step.action) {
    case 'create-policy':
      return `create managed policy ${step.path}${step.policyName} from inline policy ${step.fromInlinePolicy}`;
    case 'create-group':
      return `create group ${step.path}${step.groupName} (${step.kind})`;
    case 'attach-group-policy':
      return `attach ${step.policyArn} to group ${step.groupName}`;
    case 'add-user-to-group':
      return `add ${step.userName} to ${step.existingGroup ? 'existing ' : ''}group ${step.groupName}`;
    case 'verify-groups-grant-all':
      return `verify that ${step.userName}'s groups grant all its direct policies`;
    case 'detach-user-policy':
      return `detach ${step.policyArn} from ${step.userName}${step.redundant ? ' (already granted by a group)' : ''}`;
    case 'delete-user-policy':
      return `delete inline policy ${step.policyName} from ${step.userName}${step.redundant ? ' (already granted by a group)' : ''}`;
    case 'verify-grants-unchanged':
      return `verify that ${step.userName} has no direct policies and exactly its previous grants`;
  }
}
