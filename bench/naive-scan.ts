import {
  type ConfigServiceClient,
  type Evaluation,
  PutEvaluationsCommand,
} from '@aws-sdk/client-config-service';
import {
  type IAMClient,
  ListAttachedUserPoliciesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
} from '@aws-sdk/client-iam';
import { inPool } from './pool.js';

export interface NaiveScanOptions {
  /**
   * Users examined at once. 1 (the default) is how the per-user scanners work; more is what a scanner could
   * do on the emulator, which does not throttle (IAM does: its per-account request rate makes a concurrent
   * scan of 5,000 users retry and wait).
   */
  readonly concurrency?: number;
}

/** The naive scan's verdicts: user ID -> compliance type. */
export type ComplianceByUserId = Map<string, 'COMPLIANT' | 'NON_COMPLIANT'>;

/**
 * The baseline the benchmark compares the rule with: a periodic Config rule written the way per-user
 * scanners usually are (the AWS Config RDK's periodic examples, most hand-written IAM.2 Lambdas): list the
 * users (ListUsers, 1,000 per page: more generous than the default page of 100), then for each user ask ListAttachedUserPolicies and
 * ListUserPolicies, one user after the other, and report every user on every run with PutEvaluations in
 * batches of 100 (the API's limit), without reading what Config already holds.
 *
 * Its verdict is written independently of rule/verdict.ts, for the default parameters only, so that the
 * benchmark doubles as a cross-check: NON_COMPLIANT when a user has any attached or inline policy, except
 * Amazon SES SMTP users (`ses-smtp-user.*`), which Security Hub IAM.2 also leaves alone.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedUserPolicies.html
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUserPolicies.html
 */
export async function naivePerUserScan(
  iam: IAMClient,
  config: ConfigServiceClient,
  resultToken: string,
  orderingTimestamp: Date,
  options: NaiveScanOptions = {},
): Promise<ComplianceByUserId> {
  const verdicts: ComplianceByUserId = new Map();
  const evaluations: Evaluation[] = [];
  const users: { userName: string; userId: string }[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(
      new ListUsersCommand({ MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const user of page.Users ?? [])
      users.push({ userName: user.UserName ?? '', userId: user.UserId ?? '' });
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker !== undefined);

  await inPool(users.length, options.concurrency ?? 1, async (i) => {
    const { userName, userId } = users[i] as { userName: string; userId: string };
    const attached = await countAll(async (Marker) => {
      const r = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName, Marker }));
      return { n: r.AttachedPolicies?.length ?? 0, next: r.IsTruncated ? r.Marker : undefined };
    });
    const inline = await countAll(async (Marker) => {
      const r = await iam.send(new ListUserPoliciesCommand({ UserName: userName, Marker }));
      return { n: r.PolicyNames?.length ?? 0, next: r.IsTruncated ? r.Marker : undefined };
    });
    const exempt = userName.startsWith('ses-smtp-user.');
    const compliance = !exempt && attached + inline > 0 ? 'NON_COMPLIANT' : 'COMPLIANT';
    verdicts.set(userId, compliance);
    evaluations.push({
      ComplianceResourceType: 'AWS::IAM::User',
      ComplianceResourceId: userId,
      ComplianceType: compliance,
      Annotation:
        compliance === 'NON_COMPLIANT'
          ? `${attached} managed and ${inline} inline policies attached directly.`
          : 'No policies attached directly.',
      OrderingTimestamp: orderingTimestamp,
    });
  });

  for (let start = 0; start < evaluations.length; start += 100) {
    await config.send(
      new PutEvaluationsCommand({
        ResultToken: resultToken,
        Evaluations: evaluations.slice(start, start + 100),
      }),
    );
  }
  return verdicts;
}

async function countAll(
  page: (marker: string | undefined) => Promise<{ n: number; next: string | undefined }>,
): Promise<number> {
  let total = 0;
  let marker: string | undefined;
  do {
    const r = await page(marker);
    total += r.n;
    marker = r.next;
  } while (marker !== undefined);
  return total;
}
