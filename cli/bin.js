#!/usr/bin/env node
// The `iam-user-policies` command. In a clone it runs the TypeScript sources through tsx's loader; the installed
// package has no sources, only the compiled dist/ that `npm run build` makes, which starts without a loader.
import { existsSync } from 'node:fs';

// The SDK's notice that its 2027 releases need Node 22 would be printed before every command's output, on
// the stream where errors are one line; the supported Node versions are package.json's business.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const fromSources = existsSync(new URL('./main.ts', import.meta.url));
let main;
if (fromSources) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('./main.ts'));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
