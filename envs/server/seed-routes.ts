/**
 * The seeds' own HTTP routes beside OpenEnv's (conventions §6), so their existing clients work
 * unchanged: Gov Workflow's session API (POST /reset → session_id, /step, /state, /grade,
 * /action-masks, /tasks, /sessions) and HelixDesk's single global env (/reset, /step, /state,
 * /tasks, /grader). Their answers are the seeds' shapes plus OpenEnv's `reward`/`done` where they
 * lack them. Other families get OpenEnv's stateless /reset, /step, /state at the root.
 */
import { HttpError, sendJson } from '../core/http.js';
import { isRecord } from '../core/plain-data.js';
import { HELIX_TASK_IDS } from '../helixdesk/graders.js';
import { govSessionRoutes } from './gov-session-routes.js';
import type { Handler, SeedRoutes } from './route-kit.js';
import { readOptionalJson, statelessRoutes } from './route-kit.js';
import type { SessionDefaults } from './session.js';
import { EnvSession } from './session.js';
import { sessionCall } from './wire-errors.js';

export function seedRoutesFor(defaults: SessionDefaults, maxBody: number): SeedRoutes {
  if (defaults.family === 'gov-workflow') return govSessionRoutes(defaults, maxBody);
  if (defaults.family === 'helixdesk') return helixRoutes(defaults, maxBody);
  return openEnvRootRoutes(defaults, maxBody);
}

/** HelixDesk's grader thresholds (the seed's app.py). */
const HELIX_PASS: Record<string, number> = { easy: 0.5, medium: 0.4, hard: 0.3, expert: 0.4 };

/** The seed's /grader: score = clip((episode_reward + 1) / 2, 0, 1), passed at the task's threshold. */
export function helixGrader(data: unknown): { score: number; passed: boolean; feedback: string } {
  if (!isRecord(data)) throw new HttpError(422, 'the body must be a JSON object', null, 'validation_error');
  const task = data.task_id;
  if (typeof task !== 'string' || !(task in HELIX_PASS))
    throw new HttpError(422, `task_id: allowed ${HELIX_TASK_IDS.join(', ')}`, 'task_id', 'validation_error');
  const r = data.episode_reward;
  if (typeof r !== 'number' || !Number.isFinite(r))
    throw new HttpError(422, 'episode_reward: a finite number', 'episode_reward', 'validation_error');
  const score = Math.min(1, Math.max(0, (r + 1) / 2));
  const passed = score >= (HELIX_PASS[task] as number);
  return {
    score,
    passed,
    feedback: `${task}: score ${score.toFixed(4)} ${passed ? '≥' : '<'} threshold ${HELIX_PASS[task]}`,
  };
}

function helixRoutes(defaults: SessionDefaults, maxBody: number): SeedRoutes {
  // The seed serves one global env to every caller; so does this route set.
  const global = new EnvSession(defaults, 'helixdesk-global');
  const started = (): void => {
    if (global.spec === null) sessionCall(() => global.reset({}));
  };
  const routes: Record<string, Handler> = {
    'POST /reset': async (req, res) => {
      const data = await readOptionalJson(req, maxBody);
      const reply = sessionCall(() => global.reset(data));
      sendJson(res, 200, {
        observation: reply.observation.features,
        info: global.resetInfo,
        reward: null,
        done: false,
      });
    },
    'POST /step': async (req, res) => {
      const data = await readOptionalJson(req, maxBody);
      started();
      if (!isRecord(data) || !('action' in data))
        throw new HttpError(422, 'field required: action (an array of 4 integers)', 'action', 'validation_error');
      if (global.isDone) sessionCall(() => global.reset({}));
      const reply = sessionCall(() => global.step({ action: data.action }));
      const obs = reply.observation;
      sendJson(res, 200, {
        observation: obs.features,
        reward: reply.reward,
        terminated: obs.terminated,
        truncated: obs.truncated,
        done: reply.done,
        info: obs.info,
      });
    },
    'GET /state': (_req, res) => {
      started();
      sendJson(res, 200, { observation: sessionCall(() => global.observe()).observation.features });
    },
    'GET /tasks': (_req, res) =>
      sendJson(res, 200, {
        tasks: HELIX_TASK_IDS.map((id) => ({ id, description: `HelixDesk ${id} task`, difficulty: id })),
      }),
    'POST /grader': async (req, res) => sendJson(res, 200, helixGrader(await readOptionalJson(req, maxBody))),
  };
  return { routes, match: () => undefined, knowsPath: () => false, reap() {} };
}

function openEnvRootRoutes(defaults: SessionDefaults, maxBody: number): SeedRoutes {
  return { routes: statelessRoutes(defaults, maxBody, ''), match: () => undefined, knowsPath: () => false, reap() {} };
}
