import { getExpressionAst, type TFExpressionSyntaxTree } from '@cdktn/hcl2json';

type Ast = TFExpressionSyntaxTree.ExpressionType;
type TraversalPart = TFExpressionSyntaxTree.TerraformTraversalPart;

/**
 * A value that the configuration alone does not tell (a variable without a default, an ARN assigned at apply, a
 * data source read at plan time), with the reason, so that it becomes a note and never a guess.
 */
export class Unknown {
  constructor(readonly why: string) {}
}

/** A resource instance as an expression sees it: its attributes are read (and the reference recorded) on use. */
export class InstanceRef {
  constructor(
    readonly address: string,
    readonly attribute: (name: string) => unknown,
  ) {}
}

/** What an expression can reach besides literals: the module's names, and the loop variables in force. */
export interface Scope {
  /** `var.x`, `local.x`, `module.x`, `data.t.n`, `path.module`, or a resource type: undefined when not declared. */
  root(name: string, next: string | undefined): unknown;
  readonly each?: { readonly key: unknown; readonly value: unknown };
  readonly countIndex?: number;
  /** Names bound by a `for` expression. */
  readonly bound?: ReadonlyMap<string, unknown>;
  /** Resource instances (and resource collections) the expression refers to, in the module's own address form. */
  readonly references: Set<string>;
}

/** A parsed expression with the source text its byte ranges point into. */
interface Parsed {
  readonly ast: Ast;
  readonly source: Buffer;
}

/**
 * Expressions are parsed by HashiCorp's own parser (through @cdktn/hcl2json) before evaluation, so evaluation
 * itself stays synchronous: `prepareExpressions` parses every template string of a configuration once.
 */
export class ExpressionCache {
  private readonly parsed = new Map<string, Parsed | Unknown>();

  /** Parses every string holding an interpolation or a directive, anywhere in `value`. */
  async prepare(file: string, value: unknown): Promise<void> {
    if (typeof value === 'string') {
      if (!isTemplate(value) || this.parsed.has(value)) return;
      const source = `"${value}"`;
      try {
        const ast = await getExpressionAst(file, source);
        this.parsed.set(
          value,
          ast === null ? new Unknown('an empty expression') : { ast, source: Buffer.from(source) },
        );
      } catch {
        this.parsed.set(value, new Unknown(`the expression ${shorten(value)} is not evaluated here`));
      }
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) await this.prepare(file, item);
    } else if (value !== null && typeof value === 'object') {
      for (const item of Object.values(value)) await this.prepare(file, item);
    }
  }

  /** Evaluates a value as hcl2json wrote it: literals as they are, template strings through their syntax tree. */
  evaluate(value: unknown, scope: Scope): unknown {
    if (typeof value === 'string') {
      if (!isTemplate(value)) return unescapeLiteral(value);
      const parsed = this.parsed.get(value);
      if (parsed === undefined) return new Unknown(`the expression ${shorten(value)} was not parsed`);
      if (parsed instanceof Unknown) return parsed;
      return new Evaluator(parsed.source, scope, { left: MAX_STEPS }).node(parsed.ast, 0);
    }
    if (Array.isArray(value)) return value.map((item) => this.evaluate(item, scope));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.evaluate(v, scope)]));
    }
    return value;
  }
}

const isTemplate = (text: string): boolean => /(^|[^$])\$\{|(^|[^%])%\{/.test(text);
/** hcl2json keeps HCL's escapes `$${` and `%%{` in literal strings; Terraform reads them as `${` and `%{`. */
const unescapeLiteral = (text: string): string => text.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
const shorten = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}...` : text);

/** The first Unknown anywhere inside a value, if any. */
export function unknownIn(value: unknown, depth = 0): Unknown | undefined {
  if (value instanceof Unknown) return value;
  if (value instanceof InstanceRef)
    return new Unknown(`${value.address} is used as a whole, not one attribute`);
  if (depth > 20) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = unknownIn(item, depth + 1);
      if (found !== undefined) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) {
      const found = unknownIn(item, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * At most this many syntax tree nodes are evaluated for one expression, `for` bodies included: nested `for`
 * expressions over `range(1000)` would otherwise cost a million evaluations (seconds) from one line.
 */
const MAX_STEPS = 50_000;
/** A text longer than this is not known: a local that doubles another through templates would fill memory. */
const MAX_TEXT = 100_000;

/** A text, or unknown when it is longer than MAX_TEXT. */
function boundedText(text: string): string | Unknown {
  return text.length > MAX_TEXT ? new Unknown(`a text longer than ${MAX_TEXT} characters`) : text;
}

class Evaluator {
  constructor(
    private readonly source: Buffer,
    private readonly scope: Scope,
    /** The steps left of MAX_STEPS, shared with the evaluators of `for` bodies. */
    private readonly budget: { left: number },
  ) {}

  private text(node: Ast): string {
    return this.source.subarray(node.range.start.byte, node.range.end.byte).toString();
  }

  node(node: Ast, depth: number): unknown {
    if (depth > 64) return new Unknown('the expression nests too deeply to evaluate');
    if (--this.budget.left < 0)
      return new Unknown(`the expression takes more than ${MAX_STEPS} steps to evaluate`);
    const d = depth + 1;
    const kids = node.children;
    switch (node.type) {
      case 'templateWrap':
        return kids[0] === undefined ? null : this.node(kids[0], d);
      case 'template': {
        const parts = kids.map((k) => this.node(k, d));
        const unknown = parts.find((p) => unknownIn(p) !== undefined);
        if (unknown !== undefined) return unknownIn(unknown);
        return boundedText(
          parts
            .map((p) => (p === null ? '' : typeof p === 'object' ? JSON.stringify(p) : String(p)))
            .join(''),
        );
      }
      case 'literalValue':
        return literal(node.meta.type, node.meta.value);
      case 'tuple':
        return kids.map((k) => this.node(k, d));
      case 'object': {
        const out: Record<string, unknown> = {};
        for (let i = 0; i + 1 < kids.length; i += 2) {
          const keyNode = kids[i] as Ast;
          const key =
            (keyNode.type as string) === '' && keyNode.children.length === 0
              ? this.text(keyNode).trim()
              : this.node((keyNode.type as string) === '' ? (keyNode.children[0] as Ast) : keyNode, d);
          if (typeof key !== 'string' && typeof key !== 'number') {
            return unknownIn(key) ?? new Unknown('an object key that is not a string');
          }
          out[String(key)] = this.node(kids[i + 1] as Ast, d);
        }
        return out;
      }
      case 'scopeTraversal':
        return this.traverseFromRoot(node.meta.traversal);
      case 'relativeTraversal':
        return this.traverse(kids[0] === undefined ? null : this.node(kids[0], d), node.meta.traversal);
      case 'index': {
        const collection = kids[0] === undefined ? null : this.node(kids[0], d);
        const key = kids[1] === undefined ? null : this.node(kids[1], d);
        return index(collection, key);
      }
      case 'splat': {
        const source = kids[0] === undefined ? null : this.node(kids[0], d);
        const each = kids[1];
        if (source instanceof Unknown) return source;
        const items = Array.isArray(source) ? source : source === null ? [] : [source];
        if (each === undefined || each.type !== 'relativeTraversal') return items;
        return items.map((item) => this.traverse(item, each.meta.traversal));
      }
      case 'conditional': {
        const condition = this.node(kids[0] as Ast, d);
        if (typeof condition !== 'boolean') {
          return unknownIn(condition) ?? new Unknown('a condition that is not true or false');
        }
        return this.node(kids[condition ? 1 : 2] as Ast, d);
      }
      case 'unaryOp': {
        const value = this.node(kids[0] as Ast, d);
        if (unknownIn(value) !== undefined) return unknownIn(value);
        return node.meta.operator === 'logicalNot' ? !value : -Number(value);
      }
      case 'binaryOp':
        return binary(node.meta.operator, this.node(kids[0] as Ast, d), this.node(kids[1] as Ast, d));
      case 'function':
        return callFunction(
          node.meta.name,
          kids.map((k) => this.node(k, d)),
          String(node.meta.expandedFinalArgument) === 'true',
        );
      case 'for':
        return this.forExpression(node, d);
      default:
        return new Unknown(`the expression ${shorten(this.text(node))} is not evaluated here`);
    }
  }

  private forExpression(node: TFExpressionSyntaxTree.ForExpression, depth: number): unknown {
    const { keyVar, valVar, keyExpression, conditionalExpression } = node.meta;
    const [collectionNode, ...rest] = node.children;
    const collection = collectionNode === undefined ? null : this.node(collectionNode, depth);
    if (collection instanceof Unknown) return collection;
    const keyNode = keyExpression !== undefined && keyExpression !== '' ? rest.shift() : undefined;
    const valueNode = rest.shift();
    const conditionNode =
      conditionalExpression !== undefined && conditionalExpression !== '' ? rest.shift() : undefined;
    if (valueNode === undefined) return new Unknown('a for expression without a value');
    const entries: [unknown, unknown][] = Array.isArray(collection)
      ? collection.map((v, i) => [i, v])
      : collection !== null && typeof collection === 'object'
        ? Object.entries(collection)
        : [];
    const isObject = node.meta.openRangeValue === '{';
    const out: unknown[] = [];
    const obj: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const bound = new Map(this.scope.bound ?? []);
      if (keyVar !== '') bound.set(keyVar, k);
      bound.set(valVar, v);
      const inner = new Evaluator(this.source, { ...this.scope, bound, root: this.scope.root }, this.budget);
      if (conditionNode !== undefined) {
        const keep = inner.node(conditionNode, depth);
        if (typeof keep !== 'boolean')
          return unknownIn(keep) ?? new Unknown('a for condition that is not true or false');
        if (!keep) continue;
      }
      const value = inner.node(valueNode, depth);
      if (isObject) {
        const key = keyNode === undefined ? k : inner.node(keyNode, depth);
        if (typeof key !== 'string' && typeof key !== 'number')
          return unknownIn(key) ?? new Unknown('a for key that is not a string');
        obj[String(key)] = value;
      } else out.push(value);
    }
    return isObject ? obj : out;
  }

  private traverseFromRoot(parts: readonly TraversalPart[]): unknown {
    const [first, second, ...rest] = parts;
    if (first === undefined) return null;
    const name = first.segment;
    if (this.scope.bound?.has(name)) return this.traverse(this.scope.bound.get(name), parts.slice(1));
    if (name === 'each') {
      if (this.scope.each === undefined) return new Unknown('each is used outside for_each');
      const value = second?.segment === 'key' ? this.scope.each.key : this.scope.each.value;
      return second?.segment === 'key' ? value : this.traverse(value, rest);
    }
    if (name === 'count') {
      if (this.scope.countIndex === undefined) return new Unknown('count.index is used outside count');
      return this.scope.countIndex;
    }
    const root = this.scope.root(name, second?.segment);
    if (root === undefined) return new Unknown(`${name} is not declared in this module`);
    return this.traverse(root, parts.slice(2));
  }

  private traverse(start: unknown, parts: readonly TraversalPart[]): unknown {
    let value = start;
    for (const part of parts) {
      if (value instanceof Unknown) return value;
      if (part.type === 'indexTraversal') {
        value = index(value, indexKey(part.segment));
      } else if (value instanceof InstanceRef) {
        this.scope.references.add(value.address);
        value = value.attribute(part.segment);
      } else {
        value = index(value, part.segment);
      }
    }
    if (value instanceof InstanceRef) this.scope.references.add(value.address);
    return value;
  }
}

/** `["bob"]` or `[0]` as written in a traversal; `[null]` has no segment, and is no key Terraform accepts. */
function indexKey(segment: string | undefined): unknown {
  if (typeof segment !== 'string') return new Unknown('an index that is not a number or a string');
  const trimmed = segment.trim();
  if (/^".*"$/s.test(trimmed)) return trimmed.slice(1, -1);
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function index(collection: unknown, key: unknown): unknown {
  if (collection instanceof Unknown) return collection;
  if (key instanceof Unknown) return key;
  if (collection instanceof InstanceRef && typeof key === 'string') return collection.attribute(key);
  if (Array.isArray(collection)) {
    const i = Number(key);
    return Number.isInteger(i) && i >= 0 && i < collection.length
      ? collection[i]
      : new Unknown(`index ${String(key)} is outside the list`);
  }
  if (
    collection !== null &&
    typeof collection === 'object' &&
    (typeof key === 'string' || typeof key === 'number')
  ) {
    const found = (collection as Record<string, unknown>)[String(key)];
    return found === undefined ? new Unknown(`no key ${String(key)} in the map`) : found;
  }
  return new Unknown(`cannot index ${collection === null ? 'null' : typeof collection} with ${String(key)}`);
}

function literal(type: string, text: string): unknown {
  if (type === 'number') return Number(text);
  if (type === 'bool') return text === 'true';
  if (text === 'null' && type !== 'string') return null;
  return text;
}

function binary(operator: string, left: unknown, right: unknown): unknown {
  if (operator === 'logicalOr' && left === true) return true;
  if (operator === 'logicalAnd' && left === false) return false;
  const unknown = unknownIn(left) ?? unknownIn(right);
  if (unknown !== undefined) return unknown;
  const l = left as number;
  const r = right as number;
  switch (operator) {
    case 'equal':
      return JSON.stringify(left) === JSON.stringify(right);
    case 'notEqual':
      return JSON.stringify(left) !== JSON.stringify(right);
    case 'greaterThan':
      return l > r;
    case 'greaterThanOrEqual':
      return l >= r;
    case 'lessThan':
      return l < r;
    case 'lessThanOrEqual':
      return l <= r;
    case 'logicalAnd':
    case 'logicalOr':
      return right === true;
    case 'add':
      return Number(l) + Number(r);
    case 'subtract':
      return Number(l) - Number(r);
    case 'multiply':
      return Number(l) * Number(r);
    case 'divide':
      return Number(l) / Number(r);
    case 'modulo':
      return Number(l) % Number(r);
    default:
      return new Unknown(`the operator ${operator} is not evaluated here`);
  }
}

const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value !== null && typeof value === 'object' ? Object.values(value) : [];

/** The Terraform functions that matter for naming users and policies; any other is unknown, with its name. */
const FUNCTIONS: Readonly<Record<string, (args: unknown[]) => unknown>> = {
  toset: ([v]) => [...new Set(asList(v).map((x) => (typeof x === 'object' ? JSON.stringify(x) : x)))].sort(),
  tolist: ([v]) => asList(v),
  tomap: ([v]) => v,
  tostring: ([v]) => String(v),
  tonumber: ([v]) => Number(v),
  length: ([v]) => (typeof v === 'string' ? v.length : asList(v).length),
  lower: ([v]) => String(v).toLowerCase(),
  upper: ([v]) => String(v).toUpperCase(),
  trimspace: ([v]) => String(v).trim(),
  format: ([f, ...rest]) => {
    let i = 0;
    return String(f).replace(/%[sdv%]/g, (m) => (m === '%%' ? '%' : String(rest[i++])));
  },
  join: ([sep, ...lists]) => lists.flatMap(asList).join(String(sep)),
  split: ([sep, text]) => String(text).split(String(sep)),
  replace: ([text, from, to]) => String(text).split(String(from)).join(String(to)),
  concat: (lists) => lists.flatMap(asList),
  flatten: ([v]) => asList(v).flat(Number.POSITIVE_INFINITY),
  distinct: ([v]) => [...new Set(asList(v))],
  merge: (maps) => Object.assign({}, ...maps.filter((m) => m !== null && typeof m === 'object')),
  keys: ([v]) => Object.keys((v ?? {}) as object).sort(),
  values: ([v]) =>
    Object.keys((v ?? {}) as object)
      .sort()
      .map((k) => (v as Record<string, unknown>)[k]),
  lookup: ([m, k, fallback]) => (m as Record<string, unknown>)?.[String(k)] ?? fallback,
  element: ([list, i]) => {
    const items = asList(list);
    return items.length === 0 ? new Unknown('element() of an empty list') : items[Number(i) % items.length];
  },
  contains: ([list, v]) => asList(list).includes(v),
  coalesce: (args) => args.find((a) => a !== null && a !== ''),
  zipmap: ([ks, vs]) => Object.fromEntries(asList(ks).map((k, i) => [String(k), asList(vs)[i]])),
  range: ([a, b]) => {
    const [start, end] = b === undefined ? [0, Number(a)] : [Number(a), Number(b)];
    return Array.from({ length: Math.max(0, Math.min(end - start, 1000)) }, (_, i) => start + i);
  },
  jsonencode: ([v]) => JSON.stringify(v),
};

function callFunction(name: string, args: unknown[], expandLast: boolean): unknown {
  if (name === 'try') return args.find((a) => unknownIn(a) === undefined) ?? unknownIn(args[0]);
  const fn = FUNCTIONS[name];
  if (fn === undefined) return new Unknown(`the function ${name}() is not evaluated here`);
  const unknown = args.map((a) => unknownIn(a)).find((u) => u !== undefined);
  if (unknown !== undefined) return unknown;
  const spread = expandLast && args.length > 0 ? [...args.slice(0, -1), ...asList(args.at(-1))] : args;
  const result = fn(spread);
  return typeof result === 'string' ? boundedText(result) : result;
}
