import { resolve } from 'node:path';
import { parse } from '@cdktn/hcl2json';
import { InputError } from '../rule/schemas/config-rule-event.js';
import { ExpressionCache, InstanceRef, type Scope, Unknown, unknownIn } from './hcl-expressions.js';
import type { TerraformSourceInfo } from './terraform.js';

/** One Terraform file's text, named as the person running the check wrote it. */
export interface TfFile {
  readonly file: string;
  readonly text: string;
}

/** The .tf files of a local module's directory; undefined when it cannot be read. The caller does the I/O. */
export type ModuleReader = (dir: string) => readonly TfFile[] | undefined;

/** A Terraform configuration read from source, as the plan adapter reads a plan, with what could not be followed. */
export interface TerraformSource {
  /** The same shape as `terraform show -json` output, for the parts the plan adapter reads. */
  readonly plan: Record<string, unknown>;
  readonly info: TerraformSourceInfo;
  readonly notes: readonly string[];
}

/** The resource types the plan adapter reads, and the policies they may name. Others need no evaluation. */
const READ_TYPES = new Set([
  'aws_iam_user',
  'aws_iam_user_policy_attachment',
  'aws_iam_user_policy',
  'aws_iam_policy_attachment',
  'aws_iam_user_group_membership',
  'aws_iam_group_membership',
  'aws_iam_policy',
  'aws_iam_group',
]);
/** Arguments of a block that are Terraform's own, not the resource's. */
const META_ARGUMENTS = new Set([
  'count',
  'for_each',
  'depends_on',
  'provider',
  'providers',
  'lifecycle',
  'source',
  'version',
]);
/** At most this many instances per count/for_each: a bigger known count is still judged, on its first instances. */
const MAX_INSTANCES = 1000;

interface Declared {
  readonly kind: 'resource' | 'data' | 'module' | 'output';
  readonly type: string;
  readonly name: string;
  readonly body: Record<string, unknown>;
  readonly file: string;
  readonly line: number | undefined;
}

interface ModuleConfig {
  readonly dir: string;
  readonly variables: Map<string, Record<string, unknown>>;
  readonly locals: Map<string, unknown>;
  readonly blocks: Map<string, Declared>;
}

/**
 * Reads a Terraform module from its .tf files: resources, data sources, variables (defaults, then values given
 * on the command line), locals, count and for_each over known values, data.aws_iam_policy_document, and local
 * child modules (`source = "./..."`), which are read through `readModule`. What the configuration alone does not
 * tell stays unknown with the reason (the user or policy is still judged); remote module sources become notes.
 *
 * @see https://developer.hashicorp.com/terraform/language/syntax/configuration
 * @see https://developer.hashicorp.com/terraform/language/meta-arguments/for_each
 */
export async function readTerraformSource(
  dir: string,
  files: readonly TfFile[],
  variables: Readonly<Record<string, unknown>>,
  readModule: ModuleReader,
): Promise<TerraformSource> {
  const cache = new ExpressionCache();
  const notes: string[] = [];
  const modules = new Map<string, ModuleConfig>();
  const root = await loadModule(dir, files, cache);
  modules.set(resolve(dir), root);
  await loadChildren(root, cache, readModule, modules, notes, 0);

  const out = new SourcePlan();
  const rootInputs = new Map(Object.entries(variables));
  new ModuleInstance('', root, rootInputs, 'given', { cache, modules, notes, out }).collect();
  return { plan: out.plan(), info: out.info(), notes };
}

/** Parses a variable definitions file (`*.tfvars`): its top-level attributes are the variables' values. */
export async function parseTfvars(file: string, text: string): Promise<Record<string, unknown>> {
  const parsed = await parseHcl(file, text);
  const cache = new ExpressionCache();
  await cache.prepare(file, parsed);
  const scope: Scope = { root: () => undefined, references: new Set() };
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, cache.evaluate(v, scope)]));
}

/**
 * A `-var name=value` value: HCL for variables of a complex type (`["a","b"]`), the text itself otherwise, as
 * Terraform reads it.
 */
export async function parseVarValue(value: string): Promise<unknown> {
  try {
    const parsed = await parse('-var', `v = ${value}\n`);
    const v = (parsed as Record<string, unknown>).v;
    return typeof v === 'string' || v === undefined ? value : v;
  } catch {
    return value;
  }
}

async function parseHcl(file: string, text: string): Promise<Record<string, unknown>> {
  try {
    return (await parse(file, text)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const first = message.replace(/^parse config: \[/, '').split(/[\]\n]/)[0] ?? 'syntax error';
    throw new InputError(`${file}: cannot be parsed as Terraform HCL: ${first.slice(0, 200)}`);
  }
}

async function loadModule(
  dir: string,
  files: readonly TfFile[],
  cache: ExpressionCache,
): Promise<ModuleConfig> {
  const config: ModuleConfig = { dir, variables: new Map(), locals: new Map(), blocks: new Map() };
  for (const { file, text } of files) {
    const parsed = await parseHcl(file, text);
    await cache.prepare(file, parsed);
    const lineOf = (kind: string, ...labels: string[]): number | undefined => {
      const pattern = new RegExp(
        `^\\s*${kind}\\s+${labels.map((l) => `"${escapeRegex(l)}"`).join('\\s+')}\\s*\\{`,
        'm',
      );
      const match = pattern.exec(text);
      return match === null
        ? undefined
        : text.slice(0, match.index + match[0].search(/\S/)).split('\n').length;
    };
    for (const [name, [body]] of blockEntries(parsed.variable)) config.variables.set(name, body ?? {});
    for (const locals of asArray(parsed.locals)) {
      for (const [name, value] of Object.entries((locals ?? {}) as Record<string, unknown>))
        config.locals.set(name, value);
    }
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, named] of Object.entries((parsed[kind] ?? {}) as Record<string, unknown>)) {
        for (const [name, [body]] of blockEntries(named)) {
          config.blocks.set(`${kind === 'data' ? 'data.' : ''}${type}.${name}`, {
            kind,
            type,
            name,
            body: body ?? {},
            file,
            line: lineOf(kind, type, name),
          });
        }
      }
    }
    for (const kind of ['module', 'output'] as const) {
      for (const [name, [body]] of blockEntries(parsed[kind])) {
        config.blocks.set(`${kind}.${name}`, {
          kind,
          type: kind,
          name,
          body: body ?? {},
          file,
          line: lineOf(kind, name),
        });
      }
    }
  }
  return config;
}

async function loadChildren(
  parent: ModuleConfig,
  cache: ExpressionCache,
  readModule: ModuleReader,
  modules: Map<string, ModuleConfig>,
  notes: string[],
  depth: number,
): Promise<void> {
  for (const block of parent.blocks.values()) {
    if (block.kind !== 'module') continue;
    const source = block.body.source;
    if (typeof source !== 'string' || !/^\.\.?\//.test(source)) {
      notes.push(
        `${block.file}: module.${block.name} (source ${JSON.stringify(source)}) is not read: only local modules (./ or ../) are followed, so users and policies it creates are not checked`,
      );
      continue;
    }
    const dir = resolve(parent.dir, source);
    if (modules.has(dir) || depth > 10) continue;
    const files = readModule(dir);
    if (files === undefined || files.length === 0) {
      notes.push(`${block.file}: module.${block.name}: no .tf files at ${source}, so it is not checked`);
      continue;
    }
    const child = await loadModule(dir, files, cache);
    modules.set(dir, child);
    await loadChildren(child, cache, readModule, modules, notes, depth + 1);
  }
}

interface Shared {
  readonly cache: ExpressionCache;
  readonly modules: Map<string, ModuleConfig>;
  readonly notes: string[];
  readonly out: SourcePlan;
}

interface Instance {
  readonly address: string;
  readonly each?: { key: unknown; value: unknown };
  readonly countIndex?: number;
}

/** One instance of a module (the root, or one of a module call's count/for_each instances). */
class ModuleInstance {
  private readonly localValues = new Map<string, unknown>();
  private readonly evaluating = new Set<string>();
  private readonly collections = new Map<string, { instances: Instance[]; value: unknown }>();
  private readonly attributes = new Map<string, { value: unknown; references: string[] }>();
  private readonly children = new Map<string, { instances: ModuleInstance[]; value: unknown }>();

  constructor(
    private readonly prefix: string,
    private readonly config: ModuleConfig,
    private readonly inputs: Map<string, unknown>,
    private readonly inputsFrom: 'given' | string,
    private readonly shared: Shared,
  ) {}

  /** Adds every instance of the resources the plan adapter reads, in this module and below, to the plan. */
  collect(): void {
    for (const [key, block] of this.config.blocks) {
      if (block.kind === 'resource' && READ_TYPES.has(block.type)) {
        for (const instance of this.collection(key).instances) this.emit(block, instance);
      }
    }
    for (const [key, block] of this.config.blocks) {
      if (block.kind === 'module') for (const child of this.module(key, block).instances) child.collect();
    }
  }

  private emit(block: Declared, instance: Instance): void {
    const after: Record<string, unknown> = {};
    const afterUnknown: Record<string, unknown> = {};
    const why: Record<string, string> = {};
    const expressions: Record<string, { references: string[] }> = {};
    for (const attribute of Object.keys(block.body)) {
      if (META_ARGUMENTS.has(attribute) || attribute === 'dynamic') continue;
      const { value, references } = this.attribute(block, instance, attribute);
      expressions[attribute] = { references };
      const unknown = unknownIn(value);
      if (unknown === undefined) {
        after[attribute] = value;
      } else if (Array.isArray(value)) {
        after[attribute] = value.map((v) => (unknownIn(v) === undefined ? v : null));
        afterUnknown[attribute] = value.map((v) => unknownIn(v) !== undefined);
        why[attribute] = unknown.why;
      } else {
        afterUnknown[attribute] = true;
        why[attribute] = unknown.why;
      }
    }
    if ('tags' in after) after.tags_all = after.tags;
    this.shared.out.add(`${this.prefix}${instance.address}`, block, after, afterUnknown, why, expressions);
  }

  /** Scope for expressions of this module, with the loop variables of one instance. */
  private scope(instance: Instance | undefined, references: Set<string>): Scope {
    return {
      root: (name, next) => this.root(name, next),
      ...(instance?.each !== undefined ? { each: instance.each } : {}),
      ...(instance?.countIndex !== undefined ? { countIndex: instance.countIndex } : {}),
      references,
    };
  }

  private evaluate(value: unknown, instance?: Instance, references = new Set<string>()): unknown {
    return this.shared.cache.evaluate(value, this.scope(instance, references));
  }

  private root(name: string, next: string | undefined): unknown {
    if (next === undefined) return undefined;
    switch (name) {
      case 'var':
        return this.variable(next);
      case 'local':
        return this.local(next);
      case 'path':
        return next === 'module'
          ? this.config.dir
          : new Unknown(`path.${next} depends on where Terraform runs`);
      case 'terraform':
        return new Unknown(`terraform.${next} is known only when Terraform runs`);
      case 'module': {
        const block = this.config.blocks.get(`module.${next}`);
        return block === undefined ? undefined : this.module(`module.${next}`, block).value;
      }
      case 'data':
        return this.typeObject(`data.${next}`);
      default:
        return this.typeObject(name, next);
    }
  }

  /** `aws_iam_user.x` as an object of every resource of the type (data sources: `data.type` then name). */
  private typeObject(typeOrData: string, name?: string): unknown {
    if (name !== undefined) {
      const key = `${typeOrData}.${name}`;
      return this.config.blocks.has(key) ? this.collection(key).value : undefined;
    }
    const out: Record<string, unknown> = {};
    for (const [key, block] of this.config.blocks) {
      if (key.startsWith(`${typeOrData}.`) && block.kind === 'data') {
        Object.defineProperty(out, block.name, { enumerable: true, get: () => this.collection(key).value });
      }
    }
    return out;
  }

  private variable(name: string): unknown {
    if (this.inputs.has(name)) return this.inputs.get(name);
    const declared = this.config.variables.get(name);
    if (declared === undefined) return new Unknown(`var.${name} is not declared`);
    if ('default' in declared) return this.evaluate(declared.default);
    return new Unknown(
      this.inputsFrom === 'given'
        ? `var.${name} has no default and no value was given (-var or --var-file)`
        : `${this.inputsFrom} does not set var.${name}, which has no default`,
    );
  }

  private local(name: string): unknown {
    if (this.localValues.has(name)) return this.localValues.get(name);
    if (!this.config.locals.has(name)) return new Unknown(`local.${name} is not declared`);
    if (this.evaluating.has(`local.${name}`)) return new Unknown(`local.${name} refers to itself`);
    this.evaluating.add(`local.${name}`);
    const value = this.evaluate(this.config.locals.get(name));
    this.evaluating.delete(`local.${name}`);
    this.localValues.set(name, value);
    return value;
  }

  /** The instances of a resource or data source (count/for_each expanded) and its value as expressions see it. */
  private collection(key: string): { instances: Instance[]; value: unknown } {
    const known = this.collections.get(key);
    if (known !== undefined) return known;
    const block = this.config.blocks.get(key) as Declared;
    if (this.evaluating.has(key)) return { instances: [], value: new Unknown(`${key} refers to itself`) };
    this.evaluating.add(key);
    const expansion = this.expand(block, key);
    this.evaluating.delete(key);
    const ref = (instance: Instance) =>
      new InstanceRef(instance.address, (attribute) => this.attribute(block, instance, attribute).value);
    const value =
      expansion.value instanceof Unknown
        ? expansion.value
        : expansion.mode === 'for_each'
          ? Object.fromEntries(expansion.instances.map((i) => [String(i.each?.key), ref(i)]))
          : expansion.mode === 'count'
            ? expansion.instances.map(ref)
            : ref(expansion.instances[0] as Instance);
    const result = { instances: expansion.instances, value };
    this.collections.set(key, result);
    return result;
  }

  /** count and for_each, evaluated where they are known; an unknown one stands for one instance, with a note. */
  private expand(
    block: Declared,
    address: string,
  ): { mode: 'single' | 'count' | 'for_each'; instances: Instance[]; value?: Unknown } {
    const where = `${block.file}: ${this.prefix}${address}`;
    if ('for_each' in block.body) {
      const collection = this.evaluate(block.body.for_each);
      // The keys must be known; the values may hold unknowns (they stay unknown in each.value).
      const unknown =
        collection instanceof Unknown
          ? collection
          : Array.isArray(collection)
            ? unknownIn(collection)
            : undefined;
      if (unknown !== undefined || collection === null || typeof collection !== 'object') {
        const why = unknown?.why ?? 'for_each is not a map or a set';
        this.shared.notes.push(
          `${where}: for_each is not known (${why}); judged as one instance of unknown key`,
        );
        return {
          mode: 'for_each',
          instances: [
            {
              address: `${address}["(unknown key)"]`,
              each: { key: new Unknown(why), value: new Unknown(why) },
            },
          ],
          value: new Unknown(`the instances of ${address} are not known: ${why}`),
        };
      }
      const entries: [string, unknown][] = Array.isArray(collection)
        ? collection.map((v) => [String(v), v])
        : Object.entries(collection);
      return {
        mode: 'for_each',
        instances: entries
          .slice(0, MAX_INSTANCES)
          .map(([k, v]) => ({ address: `${address}[${JSON.stringify(k)}]`, each: { key: k, value: v } })),
      };
    }
    if ('count' in block.body) {
      const count = this.evaluate(block.body.count);
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
        const why = unknownIn(count)?.why ?? 'count is not a whole number';
        this.shared.notes.push(`${where}: count is not known (${why}); judged as one instance`);
        return {
          mode: 'count',
          instances: [{ address: `${address}[0]`, countIndex: 0 }],
          value: new Unknown(`the instances of ${address} are not known: ${why}`),
        };
      }
      return {
        mode: 'count',
        instances: Array.from({ length: Math.min(count, MAX_INSTANCES) }, (_, i) => ({
          address: `${address}[${i}]`,
          countIndex: i,
        })),
      };
    }
    return { mode: 'single', instances: [{ address }] };
  }

  private attribute(
    block: Declared,
    instance: Instance,
    attribute: string,
  ): { value: unknown; references: string[] } {
    const key = `${instance.address}\u0000${attribute}`;
    const known = this.attributes.get(key);
    if (known !== undefined) return known;
    if (this.evaluating.has(key))
      return { value: new Unknown(`${instance.address}.${attribute} refers to itself`), references: [] };
    this.evaluating.add(key);
    const references = new Set<string>();
    let value: unknown;
    if (
      block.kind === 'data' &&
      block.type === 'aws_iam_policy_document' &&
      /^(minified_)?json$/.test(attribute)
    ) {
      value = this.policyDocument(block, instance, references);
    } else if (attribute in block.body && !META_ARGUMENTS.has(attribute)) {
      value = this.evaluate(block.body[attribute], instance, references);
    } else {
      value = new Unknown(
        block.kind === 'data'
          ? `${this.prefix}${instance.address}.${attribute} is read from AWS when Terraform plans`
          : `${this.prefix}${instance.address}.${attribute} is known only after apply`,
      );
    }
    this.evaluating.delete(key);
    const result = { value, references: [...references] };
    this.attributes.set(key, result);
    return result;
  }

  /** The JSON of a data.aws_iam_policy_document, where its statements are known: it is only ever an inline policy. */
  private policyDocument(block: Declared, instance: Instance, references: Set<string>): unknown {
    const statements = this.evaluate(block.body.statement ?? [], instance, references);
    const unknown = unknownIn(statements);
    if (unknown !== undefined || 'dynamic' in block.body || 'source_policy_documents' in block.body) {
      return new Unknown(
        `the document of ${this.prefix}${instance.address} is built from values not known here`,
      );
    }
    const iamKeys: Record<string, string> = {
      sid: 'Sid',
      effect: 'Effect',
      actions: 'Action',
      resources: 'Resource',
    };
    const statement = (Array.isArray(statements) ? statements : []).map((s) =>
      Object.fromEntries(
        Object.entries({ effect: 'Allow', ...(s as Record<string, unknown>) }).map(([k, v]) => [
          iamKeys[k] ?? k,
          v,
        ]),
      ),
    );
    return JSON.stringify({ Version: '2012-10-17', Statement: statement });
  }

  /** A module call's instances (count/for_each) and the value `module.name` has: its outputs. */
  private module(key: string, block: Declared): { instances: ModuleInstance[]; value: unknown } {
    const known = this.children.get(key);
    if (known !== undefined) return known;
    const source = block.body.source;
    const config =
      typeof source === 'string' ? this.shared.modules.get(resolve(this.config.dir, source)) : undefined;
    if (config === undefined) {
      const result = { instances: [], value: new Unknown(`${this.prefix}${key} is not read`) };
      this.children.set(key, result);
      return result;
    }
    const expansion = this.expand(block, key);
    const instances = expansion.instances.map((instance) => {
      const inputs = new Map<string, unknown>();
      for (const [name, value] of Object.entries(block.body)) {
        if (!META_ARGUMENTS.has(name)) inputs.set(name, this.evaluate(value, instance));
      }
      return new ModuleInstance(
        `${this.prefix}${instance.address}.`,
        config,
        inputs,
        `${this.prefix}${key}`,
        this.shared,
      );
    });
    const outputs = (child: ModuleInstance) => child.outputs();
    const value =
      expansion.value ??
      (expansion.mode === 'for_each'
        ? Object.fromEntries(
            instances.map((child, i) => [String(expansion.instances[i]?.each?.key), outputs(child)]),
          )
        : expansion.mode === 'count'
          ? instances.map(outputs)
          : instances[0] !== undefined
            ? outputs(instances[0])
            : null);
    const result = { instances, value };
    this.children.set(key, result);
    return result;
  }

  /** The module's outputs, each evaluated when read. */
  outputs(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const block of this.config.blocks.values()) {
      if (block.kind !== 'output') continue;
      Object.defineProperty(out, block.name, {
        enumerable: true,
        get: () => this.evaluate(block.body.value),
      });
    }
    return out;
  }
}

/** Collects the resource instances read from source in the shape of a plan. */
class SourcePlan {
  private readonly changes: Record<string, unknown>[] = [];
  private readonly configuration: { address: string; expressions: Record<string, unknown> }[] = [];
  private readonly declared = new Map<string, { file: string; line?: number }>();
  private readonly unknown = new Map<string, Record<string, string>>();

  add(
    address: string,
    block: Declared,
    after: Record<string, unknown>,
    afterUnknown: Record<string, unknown>,
    why: Record<string, string>,
    expressions: Record<string, { references: string[] }>,
  ): void {
    this.changes.push({
      address,
      mode: 'managed',
      type: block.type,
      change: { actions: ['create'], after, after_unknown: afterUnknown },
    });
    this.configuration.push({ address, expressions });
    this.declared.set(address, {
      file: block.file,
      ...(block.line !== undefined ? { line: block.line } : {}),
    });
    this.unknown.set(address, why);
  }

  plan(): Record<string, unknown> {
    return {
      format_version: '1.2',
      resource_changes: this.changes,
      configuration: { root_module: { resources: this.configuration } },
    };
  }

  info(): TerraformSourceInfo {
    return {
      declaredAt: (address) => this.declared.get(address),
      whyUnknown: (address, attribute) => this.unknown.get(address)?.[attribute],
    };
  }
}

function blockEntries(value: unknown): [string, Record<string, unknown>[]][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).map(([k, v]) => [
    k,
    asArray(v) as Record<string, unknown>[],
  ]);
}

const asArray = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];
const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
