import type { Evaluation } from '@aws-sdk/client-config-service';
import type { Verdict } from './verdict.js';

export const IAM_USER_RESOURCE_TYPE = 'AWS::IAM::User';

/** Builds the PutEvaluations entry for one resource. */
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
