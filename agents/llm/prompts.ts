/**
 * Prompts for LLM policies, one builder per env: a system message (the job, the action format),
 * a user message with a readable summary of the state, the actions allowed now, and the
 * machine-readable observation block (observation-block.ts) last. Also the action schemas the
 * model must answer with (zod, and the JSON schema sent as `response_format` when the endpoint
 * supports it) and the conversion of a parsed answer into the env's action.
 */
import { z } from 'zod';
import type { GovAction } from '../../envs/gov-workflow/actions.js';
import { GovActionSchema } from '../../envs/gov-workflow/actions.js';
import type { GovAgentInput } from '../../envs/gov-workflow/adapter/agent-view.js';
import { ACTION_TYPES, PRIORITY_MODES, SERVICES } from '../../envs/gov-workflow/types.js';
import type { HelixTaskView } from '../../envs/helixdesk/agent-view.js';
import { PRIORITIES } from '../../envs/helixdesk/emails.js';
import { CLASSIFICATIONS, SECONDARY_ACTIONS } from '../../envs/helixdesk/env.js';
import { encodeFeatures, encodeMask, formatObservationBlock } from './observation-block.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface Prompt<A> {
  messages: ChatMessage[];
  /** JSON schema of the answer, for `response_format: json_schema`. */
  jsonSchema: Record<string, unknown>;
  schemaName: string;
  /** Turns a parsed JSON answer into the env's action, or explains why it cannot. */
  toAction(answer: unknown): { action: A } | { invalid: string };
}

// ---- Gov Workflow ----------------------------------------------------------------------------

const GOV_ROLE = `You run a district office that processes government service applications (${SERVICES.join(', ')}).`;

export const GOV_SYSTEM_PROMPT = `${GOV_ROLE}
Each step you take exactly one action. advance_time simulates one working day; every other action is an
administrative decision taken before the day runs. Cases wait in queues, may miss documents, need field
verification, and breach their SLA when they wait too long; urgent cases matter most; the escalation budget
is limited; officers can be reassigned between services. Aim for many completed cases, few SLA breaches,
fair service across queues, and no invalid actions.

Answer with one JSON object and nothing else: an action of the form
{"action_type": one of ${ACTION_TYPES.join(' | ')},
 "service_target": a service or null, "priority_mode": one of ${PRIORITY_MODES.join(' | ')} or null,
 "escalation_target": a service or null, "reallocation_delta": {service: integer} or null,
 "capacity_assignment": {service: integer} or null}
Prefer one of the allowed actions listed in the message; any other action counts as invalid and is penalised.`;

/** A Gov Workflow prompt for what the agent sees now (the allowed actions follow the RL adapter's mask). */
export function buildGovPrompt(
  input: GovAgentInput,
): Prompt<GovAction> & { allowed: Map<number, GovAction>; features: Float32Array; mask: Uint8Array } {
  const { mask, step, seed } = input;
  const allowed = new Map<number, GovAction>();
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) allowed.set(i, compact(input.actionAt(i)));
  const obs = input.observation;
  const pool = obs.officer_pool;
  const lines: string[] = [
    `Task ${obs.task_id}, day ${obs.day} of ${obs.max_days}, step ${step}.`,
    `Backlog ${obs.total_backlog}, completed ${obs.total_completed}, SLA breaches ${obs.total_sla_breaches}, ` +
      `escalation budget left ${obs.escalation_budget_remaining}.`,
    `Officers: ${pool.total_officers} in total, ${pool.available_officers} unassigned; allocated ${Object.entries(
      pool.allocated,
    )
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}.`,
    `Active events: ${obs.active_events.length > 0 ? obs.active_events.join(', ') : 'none'}. Last action: ` +
      `${obs.last_action_valid ? 'valid' : 'INVALID'} — ${obs.last_action_message}.`,
    'Queues (pending / urgent / SLA-breached / missing documents / oldest case age in days):',
    ...Object.values(obs.queue_snapshots)
      .map(
        (q) =>
          q &&
          `  ${q.service_type}: ${q.total_pending} / ${q.urgent_pending} / ${q.total_sla_breached} / ` +
            `${q.blocked_missing_docs} / ${q.oldest_case_age_days}`,
      )
      .filter((l): l is string => Boolean(l)),
    'Allowed actions now:',
    ...[...allowed.values()].map((a) => `  ${JSON.stringify(a)}`),
  ];
  const features = input.features;
  const block = formatObservationBlock({
    env: 'gov-workflow',
    task: obs.task_id,
    step,
    seed,
    features: encodeFeatures(features),
    mask: encodeMask(mask),
    nvec: [mask.length],
    actions: Object.fromEntries([...allowed.entries()].map(([i, a]) => [String(i), a as Record<string, unknown>])),
    state: obs as unknown as Record<string, unknown>,
  });
  return {
    messages: [
      { role: 'system', content: GOV_SYSTEM_PROMPT },
      {
        role: 'user',
        content: `${lines.join('\n')}\n\nObservation (machine-readable):\n${block}\n\nYour action (one JSON object):`,
      },
    ],
    jsonSchema: GOV_ACTION_JSON_SCHEMA,
    schemaName: 'gov_workflow_action',
    allowed,
    features,
    mask,
    toAction(answer) {
      const parsed = GovActionSchema.safeParse(answer);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return {
          invalid: `not a Gov Workflow action: ${issue?.path.join('.') || '(action)'} ${issue?.message ?? ''}`.trim(),
        };
      }
      return { action: compact(parsed.data) };
    },
  };
}

/** The action without null/undefined fields (the reference's inference log drops them too). */
export function compact(action: GovAction): GovAction {
  return Object.fromEntries(Object.entries(action).filter(([, v]) => v !== null && v !== undefined)) as GovAction;
}

const GOV_ACTION_JSON_SCHEMA: Record<string, unknown> = z.toJSONSchema(GovActionSchema.omit({ notes: true }), {
  target: 'draft-07',
  unrepresentable: 'any',
}) as Record<string, unknown>;

// ---- HelixDesk -------------------------------------------------------------------------------

export const HelixAnswerSchema = z.object({
  classify: z.enum(CLASSIFICATIONS),
  priority: z.enum(PRIORITIES),
  assign: z.union([z.number().int().nonnegative(), z.literal('none')]),
  secondary: z.enum(SECONDARY_ACTIONS),
});

const FLAG_FOR_REVIEW_NOTE =
  '(flag_for_review sends it to a human and forces priority normal, no assignment, no secondary action)';

export function helixSystemPrompt(nEmployees: number): string {
  return `You triage customer support emails for a software company. For each email decide:
- classify: ${CLASSIFICATIONS.join(' | ')} ${FLAG_FOR_REVIEW_NOTE}
- priority: ${PRIORITIES.join(' | ')}
- assign: an employee index 0–${nEmployees - 1}, or "none"
- secondary: ${SECONDARY_ACTIONS.join(' | ')}
Keyword-flagged emails are urgent; complaints should reach an employee with spare capacity; simple queries can
be answered from the knowledge base; alert the general manager on trends or critical cases.

Answer with one JSON object and nothing else: {"classify": …, "priority": …, "assign": …, "secondary": …}`;
}

export function buildHelixPrompt(view: HelixTaskView): Prompt<Int32Array> {
  const { task, step, seed, nEmployees: n, email } = view;
  const loads = view.employeeLoads;
  const capacity = view.maxEmployeeLoad;
  const features = view.observation;
  const nvec = [...view.nvec];
  const mask = view.mask;
  const lines = [
    `Task ${task}, email ${step + 1}.`,
    `From: ${email.sender} (${email.tier} tier)`,
    `Subject: ${email.subject}`,
    `Body: ${email.body}`,
    `Category: ${email.categoryName}; keyword flag: ${email.keywordFlag ? 'YES' : 'no'}; sentiment intensity ` +
      `${email.sentiment.toFixed(2)} (0 calm … 1 furious).`,
    `Team loads (open tickets per employee, at most ${capacity}): ` +
      `${[...loads].map((l, i) => `${i}: ${l}`).join(', ')}.`,
  ];
  const block = formatObservationBlock({
    env: 'helixdesk',
    task,
    step,
    seed,
    features: encodeFeatures(features),
    mask: encodeMask(mask),
    nvec,
  });
  return {
    messages: [
      { role: 'system', content: helixSystemPrompt(n) },
      {
        role: 'user',
        content: `${lines.join('\n')}\n\nObservation (machine-readable):\n${block}\n\nYour decision (one JSON object):`,
      },
    ],
    jsonSchema: z.toJSONSchema(HelixAnswerSchema, { target: 'draft-07' }) as Record<string, unknown>,
    schemaName: 'helixdesk_action',
    toAction(answer) {
      const parsed = HelixAnswerSchema.safeParse(answer);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return {
          invalid: `not a HelixDesk action: ${issue?.path.join('.') || '(action)'} ${issue?.message ?? ''}`.trim(),
        };
      }
      const a = parsed.data;
      const assign = a.assign === 'none' ? n : a.assign;
      if (assign > n) return { invalid: `assign: employee ${a.assign} does not exist (0–${n - 1} or "none")` };
      return {
        action: Int32Array.of(
          CLASSIFICATIONS.indexOf(a.classify),
          PRIORITIES.indexOf(a.priority),
          assign,
          SECONDARY_ACTIONS.indexOf(a.secondary),
        ),
      };
    },
  };
}

/** The JSON answer for a HelixDesk action (what the policy server writes back). */
export function helixAnswer(action: ArrayLike<number>, nEmployees: number): z.infer<typeof HelixAnswerSchema> {
  const assign = action[2] as number;
  return {
    classify: CLASSIFICATIONS[action[0] as number] as (typeof CLASSIFICATIONS)[number],
    priority: PRIORITIES[action[1] as number] as (typeof PRIORITIES)[number],
    assign: assign >= nEmployees ? 'none' : assign,
    secondary: SECONDARY_ACTIONS[action[3] as number] as (typeof SECONDARY_ACTIONS)[number],
  };
}
