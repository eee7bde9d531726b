import { type Command, Option } from 'commander';
import {
  parseRuleParameters,
  RULE_PARAMETERS,
  type RuleParameterName,
  type RuleParameters,
} from '../rule/parameters.js';
import { UsageError } from './command.js';

/** The rule parameter flags as commander hands them over: one per parameter, plus the two generic forms. */
export interface RuleParameterFlags {
  readonly parameter?: readonly string[];
  readonly ruleParameters?: string;
  readonly [flag: string]: unknown;
}

const NAMES = Object.keys(RULE_PARAMETERS) as RuleParameterName[];

/** "exemptUserNames" -> "--exempt-user-names": commander maps the flag back to the parameter's own name. */
export function flagOf(name: RuleParameterName): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Adds one flag per rule parameter, named and described from RULE_PARAMETERS (the rule's single source of
 * truth), plus `--parameter name=value` and `--rule-parameters JSON` (the rule's InputParameters as deployed).
 */
export function addRuleParameterOptions(command: Command): Command {
  for (const name of NAMES) {
    const spec = RULE_PARAMETERS[name];
    const shownDefault = spec.default === '' ? '' : ` (default: "${spec.default}")`;
    command.addOption(new Option(`${flagOf(name)} <value>`, `${spec.description}${shownDefault}`));
  }
  command.addOption(
    new Option('--parameter <name=value>', 'a rule parameter by its name; repeatable').argParser(
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    ),
  );
  command.addOption(
    new Option(
      '--rule-parameters <json>',
      'the rule parameters as one JSON object, as AWS Config holds them',
    ),
  );
  return command;
}

/**
 * Collects the parameters from all three forms and validates them with the rule's own parser, so that the
 * scanner accepts exactly what the deployed rule accepts. A parameter given twice is a usage error.
 */
export function ruleParametersFrom(flags: RuleParameterFlags): RuleParameters {
  const raw: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const set = (name: string, value: unknown, source: string) => {
    const earlier = sources.get(name);
    if (earlier !== undefined) {
      throw new UsageError(`rule parameter ${name} is given twice: by ${earlier} and by ${source}`);
    }
    sources.set(name, source);
    raw[name] = value;
  };
  if (flags.ruleParameters !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(flags.ruleParameters);
    } catch {
      throw new UsageError('--rule-parameters is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UsageError('--rule-parameters must be a JSON object of strings');
    }
    for (const [name, value] of Object.entries(parsed)) set(name, value, '--rule-parameters');
  }
  for (const pair of flags.parameter ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--parameter ${pair}: expected name=value`);
    set(pair.slice(0, at).trim(), pair.slice(at + 1), `--parameter ${pair}`);
  }
  for (const name of NAMES) {
    const value = flags[name];
    if (typeof value === 'string') set(name, value, flagOf(name));
  }
  return parseRuleParameters(raw);
}
