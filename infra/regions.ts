/**
 * The Regions where AWS Config can record the global IAM resource types (AWS::IAM::User among them): those
 * where Config was available before February 2022. Regions launched since (Hyderabad, Melbourne, Zurich,
 * Spain, UAE, Tel Aviv, Calgary, Malaysia, Thailand, Mexico, Taipei, ...) cannot record IAM users, so the
 * rule would never receive a change notification there.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/select-resources.html
 * @see https://docs.aws.amazon.com/config/latest/developerguide/iam-policy-in-use.html
 */
export const GLOBAL_IAM_RECORDING_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ca-central-1',
  'eu-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-north-1',
  'me-south-1',
  'sa-east-1',
  'cn-north-1',
  'cn-northwest-1',
  'us-gov-east-1',
  'us-gov-west-1',
];

/**
 * What is wrong with deploying the rule to `region`, or undefined when the Region can record IAM users.
 * `undefined` region means an environment-agnostic synthesis: the Region is decided at deploy time.
 */
export function globalIamRecordingWarning(region: string | undefined): string | undefined {
  if (region === undefined) {
    return `the target Region is decided at deploy time; deploy to the Region whose AWS Config recorder records global IAM resource types (one of ${GLOBAL_IAM_RECORDING_REGIONS.join(', ')})`;
  }
  if (GLOBAL_IAM_RECORDING_REGIONS.includes(region)) return undefined;
  return `AWS Config cannot record IAM users (a global resource type) in ${region}: the rule would see no changes there. Deploy to the Region that records global IAM resource types, one of ${GLOBAL_IAM_RECORDING_REGIONS.join(', ')}`;
}
