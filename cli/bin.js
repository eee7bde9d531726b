#!/usr/bin/env node
// The `iam-user-policies` command. The project is TypeScript run without a build step: tsx's loader is
// registered here, then the command line itself (cli/main.ts) is imported.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
