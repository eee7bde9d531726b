import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The profile names the shared AWS files define: `[profile NAME]` (and `[default]`) in the config file,
 * `[NAME]` in the credentials file, at AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE or under ~/.aws/.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html
 */
export function definedProfiles(env: NodeJS.ProcessEnv = process.env): Set<string> {
  const home = env.HOME || homedir();
  const names = new Set<string>();
  const sections = (file: string): string[] => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    return [...text.matchAll(/^\s*\[\s*([^\]]+?)\s*\]/gm)].map((m) => m[1] ?? '');
  };
  for (const section of sections(env.AWS_CONFIG_FILE || join(home, '.aws', 'config'))) {
    const named = /^profile\s+(.+)$/.exec(section)?.[1];
    if (named !== undefined) names.add(named.trim());
    else if (section === 'default') names.add('default');
  }
  for (const section of sections(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'))) {
    names.add(section);
  }
  return names;
}

/**
 * The one line for a profile the shared files do not define, which the SDK would report as a missing Region
 * or missing credentials; undefined when the profile is defined (or none was asked for).
 */
export function unknownProfileMessage(
  profile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (profile === undefined) return undefined;
  const defined = definedProfiles(env);
  if (defined.has(profile)) return undefined;
  const known = [...defined].sort();
  return `error: unknown AWS profile ${profile}: it is not defined in ~/.aws/config or ~/.aws/credentials${known.length > 0 ? ` (defined: ${known.join(', ')})` : ''}`;
}
