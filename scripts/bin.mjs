#!/usr/bin/env node
// `queue-rl` for global installs: the same CLI as `npm run cli --`, run through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
