/**
 * The machine-readable observation block that every queue-rl prompt ends with, so that a local
 * policy behind an OpenAI-compatible endpoint (the policy server) can rebuild exactly the input a
 * policy acting directly on the env would get. An LLM can read it too (it is JSON).
 *
 *   <queue-rl-observation>{…compact JSON…}</queue-rl-observation>
 *
 * Fields (format "queue-rl/observation", version 1):
 *   env        'gov-workflow' | 'helixdesk'
 *   task       the task id
 *   step       steps taken so far in the episode (0 right after reset)
 *   seed       the episode seed
 *   features   the RL observation vector (what PPO sees) as base64 of little-endian float32: exact
 *   mask       the action mask for that observation, one '0'/'1' per entry (Σ nvec entries)
 *   nvec       action sizes: [31] for Gov Workflow, [3, 4, n + 1, 3] for HelixDesk
 *   actions    Gov Workflow only: the JSON action each allowed index stands for now ({"20": {...}})
 *   state      Gov Workflow only: the env's JSON observation (what the rule agents read)
 */
import { z } from 'zod';

export const OBSERVATION_BLOCK_FORMAT = 'queue-rl/observation';
export const OBSERVATION_BLOCK_VERSION = 1;
const OPEN = '<queue-rl-observation>';
const CLOSE = '</queue-rl-observation>';

export const ObservationBlockSchema = z
  .object({
    format: z.literal(OBSERVATION_BLOCK_FORMAT),
    version: z.literal(OBSERVATION_BLOCK_VERSION),
    env: z.enum(['gov-workflow', 'helixdesk']),
    task: z.string(),
    step: z.number().int().nonnegative(),
    seed: z.number().int(),
    features: z.string(),
    mask: z.string().regex(/^[01]+$/),
    nvec: z.array(z.number().int().positive()).min(1),
    actions: z.record(z.string().regex(/^\d+$/), z.record(z.string(), z.unknown())).optional(),
    state: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type ObservationBlock = z.infer<typeof ObservationBlockSchema>;

/** Float32Array → base64 of its little-endian bytes (exact). */
export function encodeFeatures(features: Float32Array): string {
  return Buffer.from(features.buffer, features.byteOffset, features.byteLength).toString('base64');
}

export function decodeFeatures(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 4 !== 0)
    throw new Error(`observation block: features are ${bytes.byteLength} bytes, not whole float32 values`);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function encodeMask(mask: Uint8Array): string {
  let s = '';
  for (const m of mask) s += m === 1 ? '1' : '0';
  return s;
}

export function decodeMask(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => (c === '1' ? 1 : 0));
}

/** The block's text, to end a prompt with. */
export function formatObservationBlock(block: Omit<ObservationBlock, 'format' | 'version'>): string {
  const json = JSON.stringify({ format: OBSERVATION_BLOCK_FORMAT, version: OBSERVATION_BLOCK_VERSION, ...block });
  return `${OPEN}${json}${CLOSE}`;
}

/** The last observation block in a text, validated; null when there is none. Throws on a malformed block. */
export function parseObservationBlock(text: string): ObservationBlock | null {
  const start = text.lastIndexOf(OPEN);
  if (start < 0) return null;
  const end = text.indexOf(CLOSE, start);
  if (end < 0) throw new Error('observation block: no closing tag');
  let raw: unknown;
  try {
    raw = JSON.parse(text.slice(start + OPEN.length, end));
  } catch (err) {
    throw new Error(`observation block: not JSON (${(err as Error).message})`);
  }
  const parsed = ObservationBlockSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`observation block: ${issue?.path.join('.') || '(block)'} ${issue?.message ?? 'is invalid'}`);
  }
  const sum = parsed.data.nvec.reduce((a, b) => a + b, 0);
  if (parsed.data.mask.length !== sum)
    throw new Error(`observation block: mask has ${parsed.data.mask.length} entries, nvec sums to ${sum}`);
  return parsed.data;
}
