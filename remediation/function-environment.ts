/**
 * The environment variable that carries the deployed rule's InputParameters (a JSON object of strings) to
 * the migration function, so that the remediation exempts exactly the users the rule exempts. The stack
 * sets it; the handler reads it. Its own module so that the CDK app does not load the handler's clients.
 */
export const RULE_PARAMETERS_ENV = 'RULE_PARAMETERS';
