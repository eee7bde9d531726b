import { type CollectionTag, isMap, isScalar, LineCounter, parseDocument, type ScalarTag } from 'yaml';
import { InputError } from '../rule/schemas/config-rule-event.js';
import type { TerraformSourceInfo } from './terraform.js';

/**
 * A file read for check-template: a CloudFormation template (JSON or YAML, CDK output included) or a Terraform
 * plan (`terraform show -json`), with the lines of its top-level resources when it has lines.
 */
export type IacDocument =
  | {
      readonly kind: 'cloudformation';
      readonly file: string;
      readonly template: Record<string, unknown>;
      /** 1-based line of a resource's logical ID under `Resources`. */
      readonly lineOf: (logicalId: string) => number | undefined;
      readonly notes?: readonly string[];
    }
  | {
      readonly kind: 'terraform-plan';
      readonly file: string;
      readonly plan: Record<string, unknown>;
      /** Set when the plan was built from .tf source rather than by `terraform show -json`. */
      readonly source?: TerraformSourceInfo;
      readonly notes?: readonly string[];
    };

/** What check-template reads, for messages about a file it cannot read. */
export const READABLE_INPUTS =
  'check-template reads CloudFormation templates (JSON or YAML, SAM included), cdk.out directories, Terraform source (.tf files or a directory of them) and Terraform plans (`terraform show -json plan.out`)';

/**
 * The intrinsic functions CloudFormation's YAML short forms stand for. Each short form may tag a scalar, a
 * sequence or a mapping; all become the long form (`!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`).
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
 */
const SHORT_FORMS: Readonly<Record<string, string>> = {
  Ref: 'Ref',
  Condition: 'Condition',
  Base64: 'Fn::Base64',
  Cidr: 'Fn::Cidr',
  FindInMap: 'Fn::FindInMap',
  ForEach: 'Fn::ForEach',
  GetAtt: 'Fn::GetAtt',
  GetAZs: 'Fn::GetAZs',
  ImportValue: 'Fn::ImportValue',
  Join: 'Fn::Join',
  Length: 'Fn::Length',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  Sub: 'Fn::Sub',
  ToJsonString: 'Fn::ToJsonString',
  Transform: 'Fn::Transform',
  And: 'Fn::And',
  Equals: 'Fn::Equals',
  If: 'Fn::If',
  Not: 'Fn::Not',
  Or: 'Fn::Or',
};

const CLOUDFORMATION_TAGS: (ScalarTag | CollectionTag)[] = Object.entries(SHORT_FORMS).flatMap(
  ([short, long]) => [
    {
      tag: `!${short}`,
      resolve: (text: string) => ({ [long]: short === 'GetAtt' ? splitGetAtt(text) : text }),
    } satisfies ScalarTag,
    { tag: `!${short}`, collection: 'seq', resolve: (seq) => ({ [long]: seq.toJSON() }) } as CollectionTag,
    { tag: `!${short}`, collection: 'map', resolve: (map) => ({ [long]: map.toJSON() }) } as CollectionTag,
  ],
);

/** `!GetAtt Resource.Attribute.With.Dots`: the logical ID ends at the first dot. */
function splitGetAtt(text: string): string[] {
  const dot = text.indexOf('.');
  return dot < 0 ? [text] : [text.slice(0, dot), text.slice(dot + 1)];
}

/**
 * How deep JSON and YAML flow collections may nest. Real templates and plans stay far below; the YAML parser
 * recurses per level, and a second document nested thousands deep in one process can end it with an
 * out-of-memory abort in V8's regular expression compiler rather than a catchable error, so depth is checked
 * before parsing.
 */
const MAX_FLOW_NESTING = 200;

/** The deepest nesting of `[` and `{` in the text, outside double-quoted strings (exact for JSON, close enough for YAML). */
function flowNesting(text: string): number {
  let depth = 0;
  let deepest = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return deepest;
}

/**
 * Parses one file's text. JSON is read by the same YAML parser (JSON is YAML), so JSON templates get line
 * numbers too. Throws an InputError naming the file for anything that is not a template or a plan: a syntax
 * error, a duplicate key, an empty file, or a document of another kind.
 */
export function parseIacDocument(file: string, text: string): IacDocument {
  const depth = flowNesting(text);
  if (depth > MAX_FLOW_NESTING) {
    throw new InputError(
      `${file}: nests [ ] and { } ${depth} levels deep, more than the ${MAX_FLOW_NESTING} a template or plan needs; ${READABLE_INPUTS}`,
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    customTags: CLOUDFORMATION_TAGS,
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    // YAML merge keys (`<<: *defaults`), which YAML 1.1 defines and CloudFormation's YAML parser accepts.
    merge: true,
  });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const at = first !== undefined ? lines.linePos(first.pos[0]) : undefined;
    throw new InputError(
      `${file}: cannot be parsed as JSON or YAML${at !== undefined ? ` (line ${at.line})` : ''}: ${(first?.message.split('\n')[0] ?? 'syntax error').slice(0, 200)}; ${READABLE_INPUTS}`,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // The alias limit (a "billion laughs" document) and other conversion errors, named with the file.
    throw new InputError(
      `${file}: cannot be read: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(
      `${file}: is not a CloudFormation template or a Terraform plan (not a JSON/YAML object); ${READABLE_INPUTS}`,
    );
  }
  const object = value as Record<string, unknown>;
  if ('Resources' in object) {
    const resources = doc.get('Resources', true);
    const lineByLogicalId = new Map<string, number>();
    if (isMap(resources)) {
      for (const pair of resources.items) {
        const key = pair.key;
        if (isScalar(key) && key.range !== undefined && key.range !== null) {
          lineByLogicalId.set(String(key.value), lines.linePos(key.range[0]).line);
        }
      }
    }
    return { kind: 'cloudformation', file, template: object, lineOf: (id) => lineByLogicalId.get(id) };
  }
  if ('format_version' in object && ('resource_changes' in object || 'planned_values' in object)) {
    return { kind: 'terraform-plan', file, plan: object };
  }
  throw new InputError(
    `${file}: is not a CloudFormation template (no Resources section) or a Terraform plan (no format_version and resource_changes; produce one with \`terraform show -json plan.out\`); ${READABLE_INPUTS}`,
  );
}
