#!/usr/bin/env node
// Builds the native learner (agents/policy/native/, a Node-API addon) with node-gyp; `npm ci` runs
// this as the postinstall step. Without a C++ toolchain the build fails softly: training falls back
// to tfjs's wasm backend and `--backend native` says why it is missing.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../agents/policy/native/', import.meta.url));
// npm hands its bundled node-gyp to lifecycle scripts; by hand, the one on PATH (npm's own is there too).
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
const r = spawnSync(cmd, [...args, 'rebuild', '--directory', dir], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});
if (r.status === 0) {
  console.log('queue-rl: native learner built (agents/policy/native/build/Release/queue_rl_native.node)');
} else {
  const why = (r.error?.message ?? `${r.stdout}\n${r.stderr}`).trim().split('\n').slice(-12).join('\n');
  console.warn(`queue-rl: the native learner did not build; training uses tfjs wasm instead.\n${why}`);
  if (process.env.QUEUE_RL_REQUIRE_NATIVE === '1') process.exit(1);
}
