import type { Evaluation } from '@aws-sdk/client-config-service';
import type { Verdict } from './verdict.js';

/** The only resource type this rule judges; anything else it is sent is NOT_APPLICABLE. */
export const IAM_USER_RESOURCE_TYPE = 'AWS::IAM::User';

/**
 * Builds the PutEvaluations entry for one resource.
 *
 * @see https://docs.aws.amazon.com/config/latest/APIReference/API_Evaluation.html
 */
export function toEvaluation(
  resourceId: string,
  verdict: Verdict,
  orderingTimestamp: Date,
  resourceType: string = IAM_USER_RESOURCE_TYPE,
): Evaluation {
  return {
    ComplianceResourceType: resourceType,
    ComplianceResourceId: resourceId,
    ComplianceType: verdict.compliance,
    Annotation: verdict.annotation,
    OrderingTimestamp: orderingTimestamp,
  };
}
