/** JSON Schemas of what the env server takes and answers (GET /schema), and its OpenAPI document. */
import { z } from 'zod';
import { GovActionSchema } from '../gov-workflow/actions.js';
import { GovObservationSchema } from '../gov-workflow/observation.js';

const ExactNumber = z.union([z.number(), z.enum(['-0', 'NaN', 'Infinity', '-Infinity'])]);

/** Fields every served observation carries (docs/serve-env.md). */
const CommonObservation = z.object({
  features: z.array(z.number()).optional().describe('the RL features (float32 values)'),
  features_b64: z.string().describe('the RL features, base64 of float32 little-endian (bit-exact)'),
  action_mask: z.array(z.number().int().min(0).max(1)).optional(),
  action_mask_b64: z.string().optional().describe('compact format: the mask bytes in base64'),
  legal_actions: z.array(z.number().int()).optional(),
  terminated: z.boolean(),
  truncated: z.boolean(),
  reward_exact: ExactNumber.nullable().describe('the reward, with -0, NaN and infinities kept'),
  episode: z
    .object({
      score: ExactNumber.nullable(),
      metric_names: z.array(z.string()).optional(),
      metrics: z.array(ExactNumber),
    })
    .nullable()
    .describe("on an episode's last step: the grader score and the episode metrics"),
  info: z.unknown().optional(),
  env: z.object({ id: z.string(), options: z.record(z.string(), z.unknown()) }).optional(),
});

const IndexAction = z
  .object({
    action_index: z
      .union([z.number().int().min(0), z.array(z.number().int().min(0))])
      .describe('the RL action: an index (Discrete) or one integer per dimension (MultiDiscrete)'),
  })
  .strict();

const State = z.object({ episode_id: z.string().nullable(), step_count: z.number().int() }).loose();

export function wireSchemas(family: string): { action: unknown; observation: unknown; state: unknown } {
  const action =
    family === 'gov-workflow'
      ? z.union([IndexAction, GovActionSchema])
      : family === 'helixdesk'
        ? z.union([IndexAction, z.object({ action: z.array(z.number().int().min(0)).length(4) }).strict()])
        : IndexAction;
  const observation =
    family === 'gov-workflow' ? GovObservationSchema.partial().extend(CommonObservation.shape) : CommonObservation;
  const opts = { unrepresentable: 'any' } as const;
  return {
    action: z.toJSONSchema(action, opts),
    observation: z.toJSONSchema(observation, opts),
    state: z.toJSONSchema(State, opts),
  };
}

/** A minimal OpenAPI 3.1 document of the routes ("METHOD /path"), enough for `openenv validate --url`. */
export function openApiDocument(title: string, version: string, routes: readonly string[]): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const [method, path] = route.split(' ') as [string, string];
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[method.toLowerCase()] = {
      responses: { '200': { description: 'OK' } },
    };
  }
  return { openapi: '3.1.0', info: { title, version }, paths };
}
