import { IAM_USER_RESOURCE_TYPE } from './evaluation.js';
import { DEFAULT_RULE_PARAMETERS, type RuleParameters } from './parameters.js';
import { type ConfigurationItem, DELETED_STATUSES, parseOrThrow } from './schemas/config-rule-event.js';
import { IamUserConfigurationSchema, iamUserFromConfiguration } from './schemas/iam-user-configuration.js';
import type { IamUser } from './user.js';
import { evaluateUser, notApplicable, type Verdict } from './verdict.js';

/** The verdict for one configuration item, with the user it concerned when there was one. */
export interface ItemVerdict {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly userName: string | undefined;
  readonly user: IamUser | undefined;
  readonly verdict: Verdict;
}

/**
 * Judges one configuration item (change notifications, oversized items fetched from history, the local
 * run). Deleted users, items that left the rule's scope and other resource types are NOT_APPLICABLE; an
 * existing IAM user's configuration must parse, or this throws and nothing is reported.
 */
export function evaluateConfigurationItem(
  item: ConfigurationItem,
  eventLeftScope: boolean,
  params: RuleParameters = DEFAULT_RULE_PARAMETERS,
): ItemVerdict {
  const base = {
    resourceType: item.resourceType,
    resourceId: item.resourceId,
    userName: item.resourceName ?? undefined,
  };
  if (item.resourceType !== IAM_USER_RESOURCE_TYPE) {
    return { ...base, user: undefined, verdict: notApplicable(`Not an IAM user (${item.resourceType}).`) };
  }
  if (DELETED_STATUSES.has(item.configurationItemStatus)) {
    return { ...base, user: undefined, verdict: notApplicable('The IAM user was deleted.') };
  }
  if (eventLeftScope) {
    return { ...base, user: undefined, verdict: notApplicable('The IAM user left the scope of the rule.') };
  }
  if (item.configurationItemStatus === 'ResourceNotRecorded') {
    return {
      ...base,
      user: undefined,
      verdict: notApplicable('The IAM user is no longer recorded by AWS Config.'),
    };
  }
  const configuration = parseOrThrow(
    IamUserConfigurationSchema,
    item.configuration,
    `configuration of IAM user ${item.resourceName ?? item.resourceId}`,
  );
  const user = iamUserFromConfiguration(configuration);
  return { ...base, userName: user.userName, user, verdict: evaluateUser(user, params) };
}
