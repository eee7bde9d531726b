import {
  Annotations,
  CfnCondition,
  CfnElement,
  CfnMapping,
  CfnParameter,
  CfnResource,
  type IAspect,
  Stack,
} from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { IAM_USER_NO_POLICIES_CHECK } from '../prevent/candidate.js';
import { cloudFormationCandidates } from '../prevent/cloudformation.js';
import { type IacFinding, judgeCandidates } from '../prevent/judge.js';
import { DEFAULT_RULE_PARAMETERS, parseRuleParameters, type RuleParameters } from '../rule/parameters.js';

/** Properties of the IamUserPolicyGuard aspect. */
export interface IamUserPolicyGuardProps {
  /**
   * The rule parameters, exactly as the Config rule takes them (`InputParameters`: names from RULE_PARAMETERS,
   * string values), so that the Aspect exempts the same users as the deployed rule. Invalid parameters throw
   * a RuleParameterError here, where the Aspect is created, not deep inside synthesis.
   *
   * @default - the rule's defaults (no exemptions but Amazon SES SMTP users)
   */
  readonly ruleParameters?: Readonly<Record<string, string | undefined>>;
}

/** The resource types that create users, attach policies to them, or add them to groups. */
const IAM_TYPES = new Set([
  'AWS::IAM::User',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::UserPolicy',
  'AWS::IAM::UserToGroupAddition',
  'AWS::IAM::Group',
]);

/** The resource types the Aspect reports on: the ones that can put a policy on a user. */
const REPORTED_TYPES = new Set([
  'AWS::IAM::User',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::UserPolicy',
]);

/**
 * A CDK Aspect that stops IAM users with direct policies at `cdk synth`: every CfnUser, CfnPolicy,
 * CfnManagedPolicy and CfnUserPolicy that would give a user a policy directly gets an error annotation (so
 * synthesis fails), with the Config rule's own verdict and parameters: exempt users (by name, path, tag, or a
 * Guard suppression in the resource Metadata) get an info annotation that names the exemption instead.
 *
 * It reads each stack's IAM resources as CloudFormation will receive them and judges them with the same code
 * as `iam-user-policies check-template`, so the three enforcement points agree. Add it with
 * `Aspects.of(app).add(new IamUserPolicyGuard())`; it judges during validation, after every aspect (Tags
 * included) has run.
 *
 * @see https://docs.aws.amazon.com/cdk/v2/guide/aspects.html
 */
export class IamUserPolicyGuard implements IAspect {
  /** The parsed rule parameters this guard judges with. */
  public readonly parameters: RuleParameters;
  private readonly findingsByStack = new WeakMap<Stack, Map<string, IacFinding[]>>();

  constructor(props: IamUserPolicyGuardProps = {}) {
    this.parameters =
      props.ruleParameters === undefined
        ? DEFAULT_RULE_PARAMETERS
        : parseRuleParameters({ ...props.ruleParameters });
  }

  public visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || !REPORTED_TYPES.has(node.cfnResourceType)) return;
    // Judged at validation, after every aspect (Tags included) has run on every construct of the stack: a
    // user's tags or a policy's users may still change while aspects visit other constructs.
    node.node.addValidation({
      validate: () => {
        this.annotate(node);
        return [];
      },
    });
  }

  private annotate(node: CfnResource): void {
    const stack = Stack.of(node);
    const logicalId = stack.resolve(node.logicalId) as string;
    for (const finding of this.findingsFor(stack).get(logicalId) ?? []) {
      const user = finding.user.userName;
      if (finding.verdict.compliance === 'NON_COMPLIANT') {
        Annotations.of(node).addError(
          `[${IAM_USER_NO_POLICIES_CHECK}] IAM user ${user} would carry policies directly: ${finding.verdict.annotation}`,
        );
      } else if (finding.verdict.exemption !== undefined && finding.verdict.directPolicies.length > 0) {
        Annotations.of(node).addInfo(
          `[${IAM_USER_NO_POLICIES_CHECK}] IAM user ${user}: ${finding.verdict.annotation}`,
        );
      }
    }
  }

  /** Judges a stack's IAM resources once; returns the findings by the logical IDs they concern. */
  private findingsFor(stack: Stack): Map<string, IacFinding[]> {
    const cached = this.findingsByStack.get(stack);
    if (cached !== undefined) return cached;
    const template: Record<string, Record<string, unknown>> = { Resources: {}, Parameters: {}, Mappings: {} };
    for (const construct of stack.node.findAll()) {
      if (!(construct instanceof CfnElement) || Stack.of(construct) !== stack) continue;
      const relevant =
        construct instanceof CfnParameter ||
        construct instanceof CfnMapping ||
        construct instanceof CfnCondition ||
        (construct instanceof CfnResource && IAM_TYPES.has(construct.cfnResourceType));
      if (!relevant) continue;
      const fragment = stack.resolve(construct._toCloudFormation()) as Record<
        string,
        Record<string, unknown>
      >;
      for (const [section, entries] of Object.entries(fragment)) {
        template[section] = { ...(template[section] ?? {}), ...entries };
      }
    }
    const findings = judgeCandidates(cloudFormationCandidates(stack.stackName, template), this.parameters);
    const byLogicalId = new Map<string, IacFinding[]>();
    for (const finding of findings) {
      const ids = new Set([
        ...(finding.candidate.address !== undefined ? [finding.candidate.address] : []),
        ...finding.candidate.attachments.map((a) => a.from),
      ]);
      for (const id of ids) byLogicalId.set(id, [...(byLogicalId.get(id) ?? []), finding]);
    }
    this.findingsByStack.set(stack, byLogicalId);
    return byLogicalId;
  }
}
