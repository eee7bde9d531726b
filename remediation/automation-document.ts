import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** The runbook's file, next to this module. */
export const AUTOMATION_DOCUMENT_FILE = new URL('./migrate-user-policies.automation.yaml', import.meta.url);
/** The placeholder the runbook's invoke steps carry where the migration function's name goes. */
export const FUNCTION_NAME_PLACEHOLDER = 'MIGRATION_FUNCTION_NAME';

/**
 * The SSM Automation runbook as an object, with the migration function's name filled in: what the CDK app
 * passes as the document's content (the name may be a CDK token, resolved at deploy time). Loaded from the
 * YAML file so that the runbook stays readable and reviewable as AWS documents them.
 *
 * @see https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-authoring-runbooks.html
 */
export function automationDocumentContent(functionName: string): Record<string, unknown> {
  if (functionName.trim() === '') throw new Error('the migration function name is empty');
  const document = parse(readFileSync(AUTOMATION_DOCUMENT_FILE, 'utf8')) as unknown;
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new Error(`${AUTOMATION_DOCUMENT_FILE.pathname} is not a YAML mapping`);
  }
  return replacePlaceholder(document, functionName) as Record<string, unknown>;
}

function replacePlaceholder(value: unknown, functionName: string): unknown {
  if (value === FUNCTION_NAME_PLACEHOLDER) return functionName;
  if (Array.isArray(value)) return value.map((v) => replacePlaceholder(v, functionName));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, replacePlaceholder(v, functionName)]),
    );
  }
  return value;
}
