import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { type IacDocument, parseIacDocument, READABLE_INPUTS } from '../prevent/template-file.js';
import { parseTfvars, parseVarValue, readTerraformSource, type TfFile } from '../prevent/terraform-source.js';
import { UsageError } from './command.js';

/** Terraform variable values given on the command line, in the order Terraform applies them (later wins). */
export interface TerraformVariableFlags {
  readonly varFiles: readonly string[];
  readonly vars: readonly string[];
}

/** How deep stage assemblies (a Stage inside a Stage) and nested stacks are followed in a cdk.out. */
const MAX_ASSEMBLY_DEPTH = 10;

/**
 * Reads the paths given to check-template into documents: template and plan files as they are; .tf files (and
 * directories holding them) as one Terraform module per directory; a cdk.out through its manifest.json, stage
 * assemblies and nested stacks included. Every error names the path it is about.
 */
export async function readIacInputs(
  paths: readonly string[],
  tf: TerraformVariableFlags,
): Promise<IacDocument[]> {
  const documents: IacDocument[] = [];
  const tfFilesByDir = new Map<string, string[]>();
  for (const path of paths) {
    if (isDirectory(path)) {
      if (existsSync(join(path, 'manifest.json'))) documents.push(...readAssembly(path, 0));
      else if (listFiles(path, '.tf').length > 0) tfFilesByDir.set(path, listFiles(path, '.tf'));
      else documents.push(...readTemplateDirectory(path));
    } else if (extname(path) === '.tf') {
      const dir = dirname(path);
      tfFilesByDir.set(dir, [...(tfFilesByDir.get(dir) ?? []), path]);
    } else if (extname(path) === '.tfvars') {
      throw new UsageError(
        `${path}: a Terraform variables file: give it with --var-file, with the .tf files or their directory`,
      );
    } else {
      documents.push(...withNestedStacks(parseIacDocument(displayPath(path), readText(path)), undefined));
    }
  }
  for (const [dir, files] of tfFilesByDir) documents.push(await readTerraformModule(dir, files, tf));
  return documents;
}

async function readTerraformModule(
  dir: string,
  files: readonly string[],
  tf: TerraformVariableFlags,
): Promise<IacDocument> {
  const values: Record<string, unknown> = {};
  const autoFiles = [
    ...(existsSync(join(dir, 'terraform.tfvars')) ? [join(dir, 'terraform.tfvars')] : []),
    ...listFiles(dir, '.auto.tfvars'),
  ];
  for (const file of [...autoFiles, ...tf.varFiles]) {
    Object.assign(values, await parseTfvars(displayPath(file), readText(file)));
  }
  for (const flag of tf.vars) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var ${flag}: expected name=value`);
    values[flag.slice(0, eq)] = await parseVarValue(flag.slice(eq + 1));
  }
  const tfFiles = (paths: readonly string[]): TfFile[] =>
    paths.map((file) => ({ file: displayPath(file), text: readText(file) }));
  const source = await readTerraformSource(resolve(dir), tfFiles(files), values, (moduleDir) => {
    if (!isDirectory(moduleDir)) return undefined;
    return tfFiles(listFiles(moduleDir, '.tf'));
  });
  return {
    kind: 'terraform-plan',
    file: displayPath(files[0] ?? dir),
    plan: source.plan,
    source: source.info,
    notes: source.notes,
  };
}

/** A cdk.out (or a stage's assembly-* directory): the stacks its manifest.json lists, and the assemblies nested in it. */
function readAssembly(dir: string, depth: number): IacDocument[] {
  const manifestPath = join(dir, 'manifest.json');
  let manifest: { artifacts?: Record<string, { type?: unknown; properties?: Record<string, unknown> }> };
  try {
    manifest = JSON.parse(readText(manifestPath));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `${manifestPath}: not a cloud assembly manifest (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const documents: IacDocument[] = [];
  const artifacts = Object.values(manifest.artifacts ?? {});
  const assets = nestedTemplateAssets(dir, artifacts);
  for (const artifact of artifacts) {
    const props = artifact.properties ?? {};
    if (artifact.type === 'aws:cloudformation:stack' && typeof props.templateFile === 'string') {
      const file = join(dir, props.templateFile);
      documents.push(
        ...withNestedStacks(parseIacDocument(displayPath(file), readText(file)), { dir, assets }),
      );
    } else if (artifact.type === 'cdk:cloud-assembly' && typeof props.directoryName === 'string') {
      if (depth >= MAX_ASSEMBLY_DEPTH)
        throw new UsageError(`${dir}: stage assemblies nest more than ${MAX_ASSEMBLY_DEPTH} deep`);
      documents.push(...readAssembly(join(dir, props.directoryName), depth + 1));
    }
  }
  if (depth === 0 && documents.length === 0) {
    throw new UsageError(
      `${dir}: its manifest.json lists no CloudFormation stack (run \`cdk synth\` first?)`,
    );
  }
  return documents;
}

/** A cdk.out assembly: its directory, and the nested templates its asset manifests list, by object key. */
interface Assembly {
  readonly dir: string;
  readonly assets: ReadonlyMap<string, string>;
}

type AssetManifest = {
  files?: Record<
    string,
    { source?: { path?: unknown }; destinations?: Record<string, { objectKey?: unknown }> }
  >;
};

/** Object key (`<hash>.json`, what a nested stack's TemplateURL ends with) to the file cdk synth wrote. */
function nestedTemplateAssets(
  dir: string,
  artifacts: readonly { type?: unknown; properties?: Record<string, unknown> }[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const artifact of artifacts) {
    const file = artifact.properties?.file;
    if (artifact.type !== 'cdk:asset-manifest' || typeof file !== 'string') continue;
    let manifest: AssetManifest;
    try {
      manifest = JSON.parse(readText(join(dir, file))) as AssetManifest;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`${join(dir, file)}: not an asset manifest`);
    }
    for (const asset of Object.values(manifest.files ?? {})) {
      const path = asset.source?.path;
      if (typeof path !== 'string' || !path.endsWith('.template.json')) continue;
      for (const destination of Object.values(asset.destinations ?? {})) {
        if (typeof destination.objectKey === 'string') out.set(destination.objectKey, path);
      }
    }
  }
  return out;
}

/** The nested template in the assembly: by `aws:asset:path` metadata, else by the asset its TemplateURL names. */
function nestedTemplateFile(
  resource: { Metadata?: Record<string, unknown>; Properties?: Record<string, unknown> },
  assembly: Assembly,
): string | undefined {
  const assetPath = resource.Metadata?.['aws:asset:path'];
  if (typeof assetPath === 'string') return join(assembly.dir, basename(assetPath));
  const url = JSON.stringify(resource.Properties?.TemplateURL ?? '');
  for (const [objectKey, path] of assembly.assets) {
    if (url.includes(`/${objectKey}`)) return join(assembly.dir, basename(path));
  }
  return undefined;
}

/**
 * A template and the nested stacks (AWS::CloudFormation::Stack) it creates: in a cdk.out, the nested template the
 * stack's `aws:asset:path` metadata names is read too; otherwise the nested stack is a note naming it.
 */
function withNestedStacks(doc: IacDocument, assembly: Assembly | undefined, depth = 0): IacDocument[] {
  if (doc.kind !== 'cloudformation') return [doc];
  const resources = (doc.template.Resources ?? {}) as Record<
    string,
    { Type?: unknown; Metadata?: Record<string, unknown>; Properties?: Record<string, unknown> }
  >;
  const nested: IacDocument[] = [];
  const notes: string[] = [...(doc.notes ?? [])];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource?.Type !== 'AWS::CloudFormation::Stack') continue;
    const file = assembly !== undefined ? nestedTemplateFile(resource, assembly) : undefined;
    if (file !== undefined && existsSync(file) && depth < MAX_ASSEMBLY_DEPTH) {
      nested.push(
        ...withNestedStacks(parseIacDocument(displayPath(file), readText(file)), assembly, depth + 1),
      );
    } else {
      notes.push(
        `${logicalId} is a nested stack (AWS::CloudFormation::Stack) whose template is not read here: check its template file too`,
      );
    }
  }
  return [{ ...doc, notes }, ...nested];
}

/** A directory of templates without a manifest: its *.template.json files (older cdk.out, hand-kept folders). */
function readTemplateDirectory(dir: string): IacDocument[] {
  const templates = listFiles(dir, '.template.json');
  if (templates.length === 0) {
    throw new UsageError(
      `${dir}: a directory with no manifest.json (cdk.out), no .tf files and no *.template.json files; give the template files themselves. ${READABLE_INPUTS}`,
    );
  }
  return templates.flatMap((file) =>
    withNestedStacks(parseIacDocument(displayPath(file), readText(file)), undefined),
  );
}

function listFiles(dir: string, suffix: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(suffix))
      .sort()
      .map((name) => join(dir, name));
  } catch (error) {
    throw new UsageError(`cannot read ${dir}: ${reason(error)}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${reason(error)}`);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${reason(error)}`);
  }
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}

/** Paths inside the working directory are shown (and put into SARIF) relative to it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') ? rel : file;
}
