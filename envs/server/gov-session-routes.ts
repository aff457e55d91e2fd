/**
 * Gov Workflow's own session API (conventions §6.1), unchanged for its clients: POST /reset answers
 * a session_id; /step, /state, /grade and /action-masks take it; at most 100 sessions, the oldest
 * evicted (as the seed does). POST /step without a session_id and GET /state without one are
 * OpenEnv's stateless calls.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { HttpError, sendJson } from '../core/http.js';
import { isRecord } from '../core/plain-data.js';
import { TASKS } from '../gov-workflow/tasks.js';
import type { Handler, SeedRoutes } from './route-kit.js';
import { readOptionalJson, statelessState, statelessStep } from './route-kit.js';
import type { SessionDefaults } from './session.js';
import { EnvSession } from './session.js';
import { sessionCall } from './wire-errors.js';

/** Gov Workflow keeps at most this many HTTP sessions; the oldest is evicted (as the seed does). */
export const MAX_HTTP_SESSIONS = 100;

/** The seed's TaskSummary list. */
function taskSummaries() {
  return [...TASKS.values()].map((t) => ({
    task_id: t.taskId,
    seed: t.seed,
    max_days: t.maxDays,
    services: t.enabledServices,
    officer_pool_total: t.totalOfficers,
    reserve_officers: t.totalOfficers - t.availableOfficers,
    escalation_budget: t.escalationBudget,
    missing_docs_probability: t.missingDocsProbabilityOverride,
    field_verification_probability: t.fieldVerificationProbabilityOverride,
    scenario_mode: t.scenarioMode,
    fairness_threshold: t.fairnessThreshold,
  }));
}

class GovSessions {
  readonly byId = new Map<string, EnvSession>();

  constructor(private readonly defaults: SessionDefaults) {}

  create(): [string, EnvSession] {
    const id = randomUUID();
    return [id, new EnvSession(this.defaults, id)];
  }

  add(id: string, session: EnvSession): void {
    if (this.byId.size >= MAX_HTTP_SESSIONS) this.byId.delete(this.byId.keys().next().value as string);
    this.byId.set(id, session);
  }

  get(id: unknown): [string, EnvSession] {
    if (typeof id !== 'string' || id.length === 0)
      throw new HttpError(422, 'field required: session_id', 'session_id', 'validation_error');
    const s = this.byId.get(id);
    if (!s) throw new HttpError(404, `unknown session_id '${id.slice(0, 64)}'`, 'session_id', 'not_found');
    return [id, s];
  }
}

export function govSessionRoutes(defaults: SessionDefaults, maxBody: number): SeedRoutes {
  const sessions = new GovSessions(defaults);
  const tasks = taskSummaries();
  let counter = 0;
  const stateless = (): EnvSession => new EnvSession(defaults, `stateless-${++counter}`);
  const body = (req: Parameters<Handler>[0]) => readOptionalJson(req, maxBody);
  const stateOf = (res: ServerResponse, id: unknown, history: boolean): void => {
    const [sid, s] = sessions.get(id);
    sendJson(res, 200, { session_id: sid, state: sessionCall(() => s.state({ includeActionHistory: history })) });
  };
  const routes: Record<string, Handler> = {
    'POST /reset': async (req, res) => {
      const data = await body(req);
      const [id, session] = sessions.create();
      const reply = sessionCall(() => session.reset(data));
      sessions.add(id, session);
      const info = session.resetInfo as { task_id: string; seed: number };
      sendJson(res, 200, { session_id: id, task_id: info.task_id, seed: info.seed, ...reply, info });
    },
    'POST /step': async (req, res) => {
      const data = await body(req);
      if (!isRecord(data) || !('session_id' in data)) return sendJson(res, 200, statelessStep(stateless(), data));
      const [sid, s] = sessions.get(data.session_id);
      if (s.isDone) throw new HttpError(409, 'the episode has ended; POST /reset for a new session', null, 'conflict');
      const reply = sessionCall(() => s.step(data.action));
      const { terminated, truncated, info } = reply.observation;
      sendJson(res, 200, { session_id: sid, ...reply, terminated, truncated, info });
    },
    'GET /state': (_req, res, url) => {
      const id = url.searchParams.get('session_id');
      if (id !== null) return stateOf(res, id, url.searchParams.get('include_action_history') === 'true');
      sendJson(res, 200, statelessState(stateless()));
    },
    'POST /state': async (req, res) => {
      const data = await body(req);
      stateOf(
        res,
        isRecord(data) ? data.session_id : undefined,
        isRecord(data) && data.include_action_history === true,
      );
    },
    'POST /grade': async (req, res) => {
      const data = await body(req);
      const [sid, s] = sessions.get(isRecord(data) ? data.session_id : undefined);
      const g = s.grade();
      const taskId = s.state().task_id;
      const grader = typeof taskId === 'string' ? TASKS.get(taskId)?.grader : undefined;
      sendJson(res, 200, {
        session_id: sid,
        task_id: taskId,
        score: g?.score ?? 0,
        grader_name: grader ?? g?.grader_name,
        metrics: g?.metrics ?? {},
      });
    },
    'POST /action-masks': async (req, res) => {
      const data = await body(req);
      const [sid, s] = sessions.get(isRecord(data) ? data.session_id : undefined);
      const { mask, labels } = s.currentMask();
      const valid = [...mask.keys()].filter((i) => mask[i] === 1);
      sendJson(res, 200, {
        session_id: sid,
        action_mask: Array.from(mask, (m) => m === 1),
        valid_action_indices: valid,
        valid_action_labels: valid.map(labels),
        total_valid: valid.length,
        total_actions: mask.length,
      });
    },
    'GET /tasks': (_req, res) => sendJson(res, 200, tasks),
    'GET /sessions': (_req, res) =>
      sendJson(res, 200, {
        active_sessions: sessions.byId.size,
        sessions: [...sessions.byId.entries()].map(([id, s]) => {
          const st = s.state();
          return { session_id: id, episode_id: st.episode_id, task_id: st.task_id, step_count: st.step_count };
        }),
      }),
  };
  return {
    routes,
    match: (method, path) => pathRoute(method, path, tasks, sessions),
    knowsPath: (path) => /^\/(tasks|sessions)\/[^/]+$/.test(path),
    reap(now, timeoutMs) {
      for (const [id, s] of sessions.byId) if (now - s.lastActive >= timeoutMs) sessions.byId.delete(id);
    },
  };
}

/** GET /tasks/{id} and DELETE /sessions/{id}. */
function pathRoute(
  method: string,
  path: string,
  tasks: ReturnType<typeof taskSummaries>,
  sessions: GovSessions,
): Handler | undefined {
  const task = /^\/tasks\/([^/]+)$/.exec(path);
  if (task && method === 'GET')
    return (_req, res) => {
      const id = decodeURIComponent(task[1] as string);
      const t = tasks.find((x) => x.task_id === id);
      if (!t) throw new HttpError(404, `unknown task '${id.slice(0, 64)}'; allowed: ${[...TASKS.keys()].join(', ')}`);
      sendJson(res, 200, t);
    };
  const session = /^\/sessions\/([^/]+)$/.exec(path);
  if (session && method === 'DELETE')
    return (_req, res) => {
      const id = decodeURIComponent(session[1] as string);
      if (!sessions.byId.delete(id)) throw new HttpError(404, `unknown session_id '${id.slice(0, 64)}'`, 'session_id');
      sendJson(res, 200, { deleted: id });
    };
  return undefined;
}
