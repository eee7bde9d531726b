import { InputError } from '../rule/schemas/config-rule-event.js';
import { type CfnTemplateView, FOR_EACH_ITEM_NOT_KNOWN, resolveList } from './cfn-values.js';

/**
 * Expands `Fn::ForEach` loops (the AWS::LanguageExtensions transform) in a template's Resources, as
 * CloudFormation does before deploying: each `'Fn::ForEach::Name': [Identifier, Collection, {OutputKey: OutputValue}]`
 * becomes one copy of its fragment per item of the collection. In the copies, `${Identifier}` and
 * `&{Identifier}` (the item without its non-alphanumeric characters) are replaced in keys, `${Identifier}` in
 * Fn::Sub strings, and `Ref: Identifier` gives the item; loops nest.
 *
 * A collection not known before deployment (a parameter without a default, an imported value) is expanded
 * once, its item an unknown value named `${Loop.Identifier}` (unique, as loop names are), and the resources it
 * makes carry a note naming the loop: they are judged as written, so a policy in it still counts.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-foreach.html
 */
export interface ForEachExpansion {
  readonly resources: Record<string, unknown>;
  /** A resource made by a loop → the loop's key in Resources (for its line). */
  readonly loopOf: ReadonlyMap<string, string>;
  /** A resource made by a loop whose collection is not known → the notes that say so. */
  readonly notesOf: ReadonlyMap<string, readonly string[]>;
}

const LOOP_KEY = /^Fn::ForEach::(.+)$/s;
/** More copies than this cannot be a deployable template (CloudFormation allows 500 resources). */
const MAX_COPIES = 1000;

type Item =
  | { readonly kind: 'known'; readonly text: string }
  | { readonly kind: 'unknown'; readonly marker: unknown };
type Items = ReadonlyMap<string, Item>;

interface Context {
  readonly file: string;
  readonly view: Omit<CfnTemplateView, 'resources'>;
  copies: number;
  notes: string[];
}

/** Whether a template's Resources use Fn::ForEach anywhere (cheap, so templates without loops are not copied). */
export function hasForEach(resources: unknown): boolean {
  return JSON.stringify(resources ?? {}).includes('"Fn::ForEach::');
}

export function expandForEach(
  file: string,
  resources: Record<string, unknown>,
  view: Omit<CfnTemplateView, 'resources'>,
): ForEachExpansion {
  const ctx: Context = { file, view, copies: 0, notes: [] };
  const out: Record<string, unknown> = {};
  const loopOf = new Map<string, string>();
  const notesOf = new Map<string, readonly string[]>();
  for (const [key, value] of Object.entries(resources)) {
    ctx.notes = [];
    const made = expandEntries({ [key]: value }, new Map(), ctx);
    for (const [id, resource] of Object.entries(made)) {
      if (Object.hasOwn(out, id)) throw duplicate(file, id, key);
      setOwn(out, id, resource);
      if (LOOP_KEY.test(key)) loopOf.set(id, key);
      if (ctx.notes.length > 0) notesOf.set(id, [...new Set(ctx.notes)]);
    }
  }
  return { resources: out, loopOf, notesOf };
}

/** An object's entries with loops expanded and the items in scope substituted. */
function expandEntries(object: Record<string, unknown>, items: Items, ctx: Context): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (key: string, value: unknown, loop?: string) => {
    if (Object.hasOwn(out, key)) throw duplicate(ctx.file, key, loop);
    setOwn(out, key, value);
  };
  for (const [rawKey, value] of Object.entries(object)) {
    const key = replaceInKey(rawKey, items);
    const loop = LOOP_KEY.exec(key)?.[1];
    if (loop === undefined) {
      put(key, substitute(value, items, ctx));
      continue;
    }
    for (const [k, v] of Object.entries(expandLoop(key, loop, value, items, ctx))) put(k, v, key);
  }
  return out;
}

function expandLoop(
  key: string,
  loop: string,
  value: unknown,
  items: Items,
  ctx: Context,
): Record<string, unknown> {
  const [identifier, collection, fragment] = Array.isArray(value) ? value : [];
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    typeof identifier !== 'string' ||
    identifier === '' ||
    fragment === null ||
    typeof fragment !== 'object' ||
    Array.isArray(fragment)
  ) {
    throw new InputError(
      `${ctx.file}: ${key}: Fn::ForEach takes [Identifier, Collection, {OutputKey: OutputValue}]`,
    );
  }
  const values = resolveList(substitute(collection, items, ctx), { ...ctx.view, resources: {} });
  const out: Record<string, unknown> = {};
  const add = (made: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(made)) {
      if (Object.hasOwn(out, k)) throw duplicate(ctx.file, k, key);
      setOwn(out, k, v);
    }
  };
  if (values.every((v) => v.kind === 'text')) {
    for (const v of values) {
      ctx.copies += 1;
      if (ctx.copies > MAX_COPIES) {
        throw new InputError(
          `${ctx.file}: Fn::ForEach loops make more than ${MAX_COPIES} copies (at ${key}); CloudFormation allows 500 resources in a template`,
        );
      }
      add(
        expandEntries(
          fragment as Record<string, unknown>,
          new Map([...items, [identifier, known(v.text)]]),
          ctx,
        ),
      );
    }
    return out;
  }
  const unknownValue = values.find((v) => v.kind !== 'text');
  const why = unknownValue?.kind === 'unknown' ? unknownValue.why : 'an item is not a string';
  const name = `${loop}.${identifier}`;
  ctx.notes.push(
    `loop ${key} is expanded once: its collection is not known before deployment (${why}); its resources are judged as written, their ${identifier} unknown`,
  );
  const marker = {
    [FOR_EACH_ITEM_NOT_KNOWN]: {
      why: `an item of loop ${key}, whose collection is not known before deployment`,
      name,
    },
  };
  ctx.copies += 1;
  add(
    expandEntries(
      fragment as Record<string, unknown>,
      new Map([...items, [identifier, { kind: 'unknown', marker }]]),
      ctx,
    ),
  );
  return out;
}

const known = (text: string): Item => ({ kind: 'known', text });

/** A value with the items in scope substituted: `Ref: Identifier`, `${Identifier}` in Fn::Sub, nested loops. */
function substitute(value: unknown, items: Items, ctx: Context): unknown {
  if (Array.isArray(value)) return value.map((v) => substitute(v, items, ctx));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (items.size > 0 && keys.length === 1) {
    if (keys[0] === 'Ref') {
      // `Ref: !Sub 'User${Name}'` names a resource the loop made: its key was replaced the same way.
      const sub = (object.Ref as Record<string, unknown> | null)?.['Fn::Sub'];
      const arg = typeof sub === 'string' ? replaceInKey(sub, items) : substitute(object.Ref, items, ctx);
      const item = typeof arg === 'string' ? items.get(arg) : undefined;
      if (item !== undefined) return item.kind === 'known' ? item.text : item.marker;
      return { Ref: arg };
    }
    if (keys[0] === 'Fn::Sub') return substituteSub(object['Fn::Sub'], items, ctx);
  }
  return expandEntries(object, items, ctx);
}

/** Fn::Sub with the items' `${Identifier}` replaced; an unknown item becomes a Sub variable holding its marker. */
function substituteSub(arg: unknown, items: Items, ctx: Context): unknown {
  const [template, variables] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
  if (typeof template !== 'string') return { 'Fn::Sub': substitute(arg, items, ctx) };
  const vars: Record<string, unknown> =
    variables !== null && typeof variables === 'object' && !Array.isArray(variables)
      ? (substitute(variables, items, ctx) as Record<string, unknown>)
      : {};
  let text = template;
  for (const [identifier, item] of items) {
    if (item.kind === 'known') text = text.split(`\${${identifier}}`).join(item.text);
    else if (text.includes(`\${${identifier}}`)) vars[identifier] = item.marker;
  }
  if (Object.keys(vars).length > 0) return { 'Fn::Sub': [text, vars] };
  // Fully substituted: the plain string, as the transform leaves it (a Ref may take it as a logical ID).
  return text.includes('${') ? { 'Fn::Sub': text } : text;
}

/** An OutputKey (or any key) with `${Identifier}` and `&{Identifier}` replaced; an unknown item by its name. */
function replaceInKey(key: string, items: Items): string {
  let out = key;
  for (const [identifier, item] of items) {
    const dollar = `\${${identifier}}`;
    const ampersand = `&{${identifier}}`;
    if (item.kind === 'known') {
      out = out
        .split(dollar)
        .join(item.text)
        .split(ampersand)
        .join(item.text.replace(/[^0-9a-zA-Z]+/g, ''));
    } else {
      const name =
        (item.marker as Record<string, { name: string }>)[FOR_EACH_ITEM_NOT_KNOWN]?.name ?? identifier;
      out = out.split(dollar).join(`\${${name}}`).split(ampersand).join(`\${${name}}`);
    }
  }
  return out;
}

/** Sets a key as an own property: a logical ID such as `__proto__` is a key, not the object's prototype. */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function duplicate(file: string, key: string, loop: string | undefined): InputError {
  return new InputError(
    `${file}: ${loop !== undefined ? `${loop} makes` : 'Resources has'} the logical ID ${key} twice; CloudFormation would reject the template`,
  );
}
