import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Properties of the operations alarms. */
export interface OperationsAlarmsProps {
  /** An existing SNS topic the alarms notify. @default - the alarms change state without notifying */
  readonly alarmTopicArn?: string;
}

/**
 * The alarms an operator needs: the rule function failing (Config shows stale results, nothing else tells
 * anyone) and remediation executions failing. Each fires on the first failure in a five-minute period.
 */
export class OperationsAlarms extends Construct {
  readonly topic: ITopic | undefined;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps = {}) {
    super(scope, id);
    this.topic =
      props.alarmTopicArn !== undefined ? Topic.fromTopicArn(this, 'Topic', props.alarmTopicArn) : undefined;
  }

  /** An alarm on the function's Errors metric: any failed invocation in five minutes. */
  watchFunctionErrors(id: string, fn: IFunction, description: string): Alarm {
    const alarm = new Alarm(this, id, {
      alarmDescription: description,
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (this.topic !== undefined) {
      alarm.addAlarmAction(new SnsAction(this.topic));
      alarm.addOkAction(new SnsAction(this.topic));
    }
    return alarm;
  }

  /**
   * Watches every Automation execution of `documentName` that ends Failed, TimedOut or Cancelled (the
   * execution's own status change event, which also covers failures outside the migration function, such as
   * a rejected approval or a missing role): an EventBridge rule matches them and an alarm fires on the rule's
   * TriggeredRules metric; when a topic is configured, the rule also sends each event to it.
   *
   * @see https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html
   * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html
   * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
   */
  watchAutomationFailures(
    id: string,
    documentName: string,
    description: string,
  ): { rule: Rule; alarm: Alarm } {
    const rule = new Rule(this, id, {
      description: `Failed remediation executions of ${documentName}`,
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['EC2 Automation Execution Status-change Notification'],
        detail: { Definition: [documentName], Status: ['Failed', 'TimedOut', 'Cancelled'] },
      },
      // The topic is not this stack's, so its resource policy cannot grant EventBridge; a role of the rule's own,
      // allowed only sns:Publish on the topic, can.
      targets: this.topic !== undefined ? [new SnsTopic(this.topic, { authorizeUsingRole: true })] : [],
    });
    const alarm = new Alarm(this, `${id}Alarm`, {
      alarmDescription: description,
      metric: new Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: rule.ruleName },
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (this.topic !== undefined) alarm.addAlarmAction(new SnsAction(this.topic));
    return { rule, alarm };
  }
}
