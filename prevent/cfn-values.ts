/**
 * Resolves CloudFormation property values as far as the template alone allows. A value resolves to one or more
 * alternatives (Fn::If keeps both branches: a user is judged on every branch), each a known text, a reference
 * to a resource of the template, "no value" (AWS::NoValue), or unknown with the reason. Nothing is guessed: an
 * Fn::ImportValue, a parameter without a default or an account ID stays unknown and says why.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
 */
export type CfnValue =
  /**
   * A known text, or one only partly known: `${AWS::StackName}-ci` keeps each unknown template-wide name
   * (a pseudo parameter, a parameter without a default) as `${Name}`, so two names built by different functions
   * from the same unknowns compare equal. `opaque` marks a text that also keeps an unknown with no such name
   * (an Fn::Sub variable given by Fn::ImportValue): it must not be compared with other names.
   */
  | { readonly kind: 'text'; readonly text: string; readonly opaque?: true }
  | { readonly kind: 'resource'; readonly logicalId: string; readonly attribute?: string }
  | { readonly kind: 'none' }
  /** `placeholder` is set for an unknown that is one template-wide name (`${AWS::AccountId}`, `${Env}`). */
  | { readonly kind: 'unknown'; readonly why: string; readonly placeholder?: string };

/** The parts of a template the resolver reads. */
export interface CfnTemplateView {
  readonly parameters: Readonly<Record<string, { readonly Default?: unknown; readonly Type?: unknown }>>;
  readonly mappings: Readonly<Record<string, unknown>>;
  readonly resources: Readonly<Record<string, { readonly Type?: unknown; readonly Properties?: unknown }>>;
}

/** At most this many alternatives are kept per value: nested Fn::If chains multiply them. */
const MAX_ALTERNATIVES = 16;
/**
 * At most this many functions are evaluated for one value: a Mappings entry (or a user's name) reused by every
 * level of Fn::Join or Fn::If would otherwise cost its width to the power of its depth.
 */
const MAX_STEPS = 5000;
/** A text built by Fn::Join or Fn::Sub longer than this is not known: names and ARNs are far shorter. */
const MAX_TEXT = 4096;

/**
 * How far one value's evaluation has gone: its nesting, the steps left of the budget its branches share, and the
 * resources whose names are being worked out (a name built from itself is not known).
 */
interface Walk {
  readonly depth: number;
  readonly budget: { left: number };
  readonly naming: ReadonlySet<string>;
}
const start = (naming: ReadonlySet<string> = new Set()): Walk => ({
  depth: 0,
  budget: { left: MAX_STEPS },
  naming,
});
const deeper = (at: Walk): Walk => ({ ...at, depth: at.depth + 1 });

/** Resolves the name property of resource `logicalId` (its UserName): a reference back to itself is not known. */
export function resolveOwnName(value: unknown, t: CfnTemplateView, logicalId: string): CfnValue[] {
  return resolveScalar(value, t, start(new Set([logicalId])));
}
/** Pseudo parameters whose value does not depend on the account; the rest stay unknown. */
const KNOWN_PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
};

const text = (t: string): CfnValue => ({ kind: 'text', text: t });
const unknown = (why: string): CfnValue => ({ kind: 'unknown', why });
/** An unknown that stands for one template-wide name, written as Fn::Sub writes it. */
const unknownName = (why: string, name: string): CfnValue => ({
  kind: 'unknown',
  why,
  placeholder: `\${${name}}`,
});

/**
 * The key that marks the item of an Fn::ForEach loop whose collection is not known (see cfn-foreach.ts): its
 * argument is `{ why, name }`, the name (`Loop.Identifier`) unique in the template, as loop names are. It does not
 * start with `Fn::ForEach::`, so it is never taken for a loop.
 */
export const FOR_EACH_ITEM_NOT_KNOWN = 'Fn::ForEachItemNotKnown';

/** The single intrinsic function of an object such as `{ "Ref": "X" }`, if it is one. */
function intrinsic(value: unknown): [string, unknown] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0] as string;
  if (key !== 'Ref' && key !== 'Condition' && !key.startsWith('Fn::')) return undefined;
  return [key, (value as Record<string, unknown>)[key]];
}

/** Resolves a scalar property (a name, an ARN, a path) to its alternatives. */
export function resolveScalar(value: unknown, t: CfnTemplateView, at: Walk = start()): CfnValue[] {
  if (at.depth > 20) return [unknown('the value nests intrinsic functions too deeply to evaluate')];
  if (--at.budget.left < 0) {
    return [
      unknown(
        `the value takes more than ${MAX_STEPS} steps to evaluate (one entry or name reused at every level)`,
      ),
    ];
  }
  if (typeof value === 'string') return [text(value)];
  if (typeof value === 'number' || typeof value === 'boolean') return [text(String(value))];
  if (value === null || value === undefined) return [{ kind: 'none' }];
  const fn = intrinsic(value);
  if (fn === undefined) return [unknown('the value is an object, not a string')];
  const [name, arg] = fn;
  switch (name) {
    case 'Ref':
      return [resolveRef(arg, t)];
    case 'Fn::GetAtt': {
      const [logicalId, attribute]: unknown[] = Array.isArray(arg)
        ? arg
        : typeof arg === 'string'
          ? arg.split(/\.(.*)/s)
          : [];
      if (typeof logicalId !== 'string') return [unknown('Fn::GetAtt without [resource, attribute]')];
      if (Object.hasOwn(t.resources, logicalId)) {
        // An attribute given by a function is some attribute, never the resource's name (see textOf).
        const name = attribute === undefined ? '' : typeof attribute === 'string' ? attribute : '(computed)';
        return [{ kind: 'resource', logicalId, attribute: name }];
      }
      return [unknown(`Fn::GetAtt of ${logicalId}, which is not a resource of this template`)];
    }
    case 'Fn::If': {
      if (!Array.isArray(arg) || arg.length !== 3) return [unknown('Fn::If without [condition, then, else]')];
      return limit([...resolveScalar(arg[1], t, deeper(at)), ...resolveScalar(arg[2], t, deeper(at))]);
    }
    case 'Fn::ImportValue': {
      const exportName = onlyValue(resolveScalar(arg, t, deeper(at)));
      return [
        unknown(
          exportName?.kind === 'text'
            ? `imported from another stack (Fn::ImportValue ${exportName.text})`
            : `imported from another stack (Fn::ImportValue, export name unknown: ${exportName?.kind === 'unknown' ? exportName.why : 'not a string'})`,
        ),
      ];
    }
    case 'Fn::Sub':
      return resolveSub(arg, t, at);
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') {
        return [unknown('Fn::Join without [delimiter, [values]]')];
      }
      const parts = resolveList(arg[1], t, deeper(at));
      return [joinTexts(parts, arg[0])];
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2) return [unknown('Fn::Select without [index, list]')];
      const index = onlyText(resolveScalar(arg[0], t, deeper(at)));
      const list = resolveList(arg[1], t, deeper(at));
      const chosen = index === undefined ? undefined : list[Number(index)];
      return [chosen ?? unknown('Fn::Select whose index or list is not known before deployment')];
    }
    case 'Fn::FindInMap': {
      if (!Array.isArray(arg) || arg.length < 3) return [unknown('Fn::FindInMap without [map, key, key]')];
      const keys = arg.slice(0, 3).map((k) => onlyText(resolveScalar(k, t, deeper(at))));
      if (keys.some((k) => k === undefined))
        return [unknown('Fn::FindInMap with a key known only at deployment')];
      const [map, top, second] = keys as string[];
      const found = own(own(own(t.mappings, map as string), top as string), second as string);
      return found === undefined
        ? [unknown(`no ${map}.${top}.${second} in Mappings`)]
        : resolveScalar(found, t, deeper(at));
    }
    case FOR_EACH_ITEM_NOT_KNOWN: {
      // Only cfn-foreach.ts writes this key; the same key written in a template is some other object.
      const item = isRecord(arg) ? arg : {};
      return typeof item.why === 'string' && typeof item.name === 'string'
        ? [unknownName(item.why, item.name)]
        : [unknown(`${FOR_EACH_ITEM_NOT_KNOWN} is not a CloudFormation function`)];
    }
    default:
      return [unknown(`${name} is evaluated only at deployment`)];
  }
}

/**
 * Resolves a list property (ManagedPolicyArns, Users, Groups) to the union of its elements' alternatives,
 * without AWS::NoValue entries. An Fn::If over the whole list contributes both lists.
 */
export function resolveList(value: unknown, t: CfnTemplateView, at: Walk = start()): CfnValue[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return value.flatMap((item) => resolveScalar(item, t, deeper(at))).filter((v) => v.kind !== 'none');
  }
  const fn = intrinsic(value);
  if (fn?.[0] === FOR_EACH_ITEM_NOT_KNOWN) return resolveScalar(value, t, deeper(at));
  if (fn?.[0] === 'Fn::If' && Array.isArray(fn[1]) && fn[1].length === 3) {
    return [...resolveList(fn[1][1], t, deeper(at)), ...resolveList(fn[1][2], t, deeper(at))];
  }
  if (fn?.[0] === 'Ref' && typeof fn[1] === 'string' && Object.hasOwn(t.parameters, fn[1])) {
    const only = resolveRef(fn[1], t);
    return only.kind === 'text' ? only.text.split(',').map((s) => text(s.trim())) : [only];
  }
  if (fn?.[0] === 'Fn::Split' && Array.isArray(fn[1]) && typeof fn[1][0] === 'string') {
    const whole = resolveScalar(fn[1][1], t, deeper(at));
    const delimiter = fn[1][0];
    return whole.flatMap((w) => (w.kind === 'text' ? w.text.split(delimiter).map(text) : [w]));
  }
  return [unknown(`a list given by ${fn?.[0] ?? 'a non-list value'}, known only at deployment`)];
}

/**
 * Resolves a list of objects (a user's Policies, Tags): each element, or both branches of an Fn::If around an
 * element or the whole list, with AWS::NoValue entries dropped.
 */
export function resolveObjectList(value: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (depth > 20 || v === null || v === undefined) return;
    if (Array.isArray(v)) {
      for (const item of v) visit(item, depth + 1);
      return;
    }
    const fn = intrinsic(v);
    if (fn?.[0] === 'Fn::If' && Array.isArray(fn[1]) && fn[1].length === 3) {
      visit(fn[1][1], depth + 1);
      visit(fn[1][2], depth + 1);
      return;
    }
    if (fn?.[0] === 'Ref' && fn[1] === 'AWS::NoValue') return;
    if (typeof v === 'object' && fn === undefined) out.push(v as Record<string, unknown>);
  };
  visit(value, 0);
  return out;
}

function resolveRef(arg: unknown, t: CfnTemplateView): CfnValue {
  if (typeof arg !== 'string') return unknown('Ref to something other than a name');
  if (arg === 'AWS::NoValue') return { kind: 'none' };
  if (Object.hasOwn(KNOWN_PSEUDO, arg)) return text(KNOWN_PSEUDO[arg] as string);
  if (arg.startsWith('AWS::')) return unknownName(`${arg} is known only at deployment`, arg);
  // Own keys only: a Ref to `constructor` is a Ref to the resource of that name, not to Object.prototype's.
  const parameter = Object.hasOwn(t.parameters, arg) ? t.parameters[arg] : undefined;
  if (parameter !== undefined) {
    const fallback = parameter.Default;
    if (fallback === undefined) return unknownName(`parameter ${arg} has no default`, arg);
    const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    if (scalar(fallback)) return text(String(fallback));
    if (Array.isArray(fallback) && fallback.every(scalar)) return text(fallback.join(','));
    return unknown(`parameter ${arg} has a Default that is neither a string nor a list of strings`);
  }
  if (Object.hasOwn(t.resources, arg)) return { kind: 'resource', logicalId: arg };
  return unknown(`Ref to ${arg}, which is neither a parameter nor a resource of this template`);
}

/**
 * Fn::Sub: substitutes what is known, writes an unknown template-wide name as `${Name}`, and keeps any other
 * unknown `${var}` literally (marking the text opaque).
 */
function resolveSub(arg: unknown, t: CfnTemplateView, at: Walk): CfnValue[] {
  const [template, variables] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
  if (typeof template !== 'string') return [unknown('Fn::Sub without a template string')];
  if (variables !== undefined && !isRecord(variables))
    return [unknown('Fn::Sub whose variables are not a map of names to values')];
  const vars = variables ?? {};
  let opaque = false;
  let substituted = 0;
  let tooLong = false;
  let itself: string | undefined;
  const out = template.replace(/\$\{([^}!][^}]*)\}/g, (whole, name: string) => {
    const value = Object.hasOwn(vars, name)
      ? resolveScalar(vars[name], t, deeper(at))
      : name.includes('.')
        ? resolveScalar(
            { 'Fn::GetAtt': [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)] },
            t,
            deeper(at),
          )
        : [resolveRef(name, t)];
    const only = value.length === 1 ? (value[0] as CfnValue) : undefined;
    if (only?.kind === 'resource' && !only.attribute && at.naming.has(only.logicalId))
      itself = only.logicalId;
    const known = only !== undefined ? textOf(only, t, deeper(at)) : undefined;
    if (known !== undefined && substituted + known.length > MAX_TEXT) {
      tooLong = true;
      return whole;
    }
    if (known !== undefined) {
      substituted += known.length;
      if (only?.kind === 'text' && only.opaque) opaque = true;
      return known;
    }
    if (only?.kind === 'unknown' && only.placeholder !== undefined) return only.placeholder;
    // A resource attribute (`${User.Arn}`) is one template-wide name; anything else is not.
    if (!(only?.kind === 'resource' && !Object.hasOwn(vars, name))) opaque = true;
    return whole;
  });
  if (itself !== undefined)
    return [unknown(`the name of ${itself} is built from itself (Fn::Sub \${${itself}})`)];
  if (tooLong) return [unknown(`Fn::Sub whose substituted text is longer than ${MAX_TEXT} characters`)];
  const result = out.replace(/\$\{!/g, '${');
  return [opaque ? { kind: 'text', text: result, opaque: true } : text(result)];
}

/** Properties holding the name that `Ref` returns, for the resource types whose Ref is their name. */
const NAME_PROPERTY: Readonly<Record<string, string>> = {
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
};

/**
 * The text a resolved value stands for, when the template tells it: `Ref` to a user or group is its name
 * (UserName, GroupName), when that property is set and known.
 */
export function textOf(value: CfnValue, t: CfnTemplateView, at: Walk = start()): string | undefined {
  if (value.kind === 'text') return value.text;
  if (value.kind !== 'resource' || (value.attribute !== undefined && value.attribute !== ''))
    return undefined;
  const resource = Object.hasOwn(t.resources, value.logicalId) ? t.resources[value.logicalId] : undefined;
  const type = String(resource?.Type);
  const property = Object.hasOwn(NAME_PROPERTY, type) ? NAME_PROPERTY[type] : undefined;
  const props = (resource?.Properties ?? {}) as Record<string, unknown>;
  if (property === undefined || props[property] === undefined || at.naming.has(value.logicalId))
    return undefined;
  // Within the caller's walk, so that names built from each other in a circle end.
  const naming = new Set([...at.naming, value.logicalId]);
  return onlyText(resolveScalar(props[property], t, { ...deeper(at), naming }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A map's own entry (a Mappings key such as `constructor` is looked up, not inherited). */
function own(object: unknown, key: string): unknown {
  return isRecord(object) && Object.hasOwn(object, key) ? object[key] : undefined;
}

function onlyText(values: CfnValue[]): string | undefined {
  return values.length === 1 && values[0]?.kind === 'text' ? values[0].text : undefined;
}

/** Fn::Join: known when every part is known or one template-wide unknown name (kept as `${Name}`). */
function joinTexts(parts: CfnValue[], delimiter: string): CfnValue {
  const texts = parts.map((p) =>
    p.kind === 'text' ? p.text : p.kind === 'unknown' ? p.placeholder : undefined,
  );
  if (texts.every((p) => p !== undefined)) {
    if (texts.reduce((sum, p) => sum + p.length + delimiter.length, 0) > MAX_TEXT)
      return unknown(`Fn::Join whose text is longer than ${MAX_TEXT} characters`);
    const joined = texts.join(delimiter);
    return parts.some((p) => p.kind === 'text' && p.opaque)
      ? { kind: 'text', text: joined, opaque: true }
      : text(joined);
  }
  const why = parts.find((p) => p.kind === 'unknown');
  return unknown(
    `Fn::Join over a value known only at deployment${why?.kind === 'unknown' ? ` (${why.why})` : ''}`,
  );
}

/** A name that can be compared with other names: known, or partly known only through template-wide names. */
export function comparableName(value: CfnValue, t: CfnTemplateView): string | undefined {
  if (value.kind === 'text' && value.opaque) return undefined;
  if (value.kind === 'unknown') return value.placeholder;
  return textOf(value, t);
}

/** Whether a name keeps an unknown part (`${AWS::StackName}-ci`). */
export function isPartlyKnown(name: string): boolean {
  return name.includes('${');
}

function onlyValue(values: CfnValue[]): CfnValue | undefined {
  return values.length === 1 ? values[0] : undefined;
}

function limit(values: CfnValue[]): CfnValue[] {
  return values.length > MAX_ALTERNATIVES ? values.slice(0, MAX_ALTERNATIVES) : values;
}
