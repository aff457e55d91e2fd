/**
 * Worker thread of CriticWorker (critic-worker.ts): its own tfjs backend and critic TowerEngine,
 * serving GRAD / APPLY / DISCARD / SYNC commands from the shared control block until CLOSE.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../agents/policy/backend.js';
import { createTower } from '../../agents/policy/engine.js';
import { ParameterLayout } from '../../agents/policy/parameters.js';
import { CommandServer } from '../../envs/core/threads.js';
import { Adam } from './adam.js';
import type { CriticThreadInit } from './critic-worker.js';
import { CMD, SCALAR } from './critic-worker.js';
import { valueLossGrad } from './losses.js';

const init = workerData as CriticThreadInit;

async function main(): Promise<void> {
  await initBackend(init.backend);
  const layout = new ParameterLayout(init.shape, init.arch);
  const critic = createTower(layout, 'critic', init.activation);
  const b = init.buffers;
  const adam = new Adam(layout.size, init.adam, { m: b.m, v: b.v });
  const scalars = new Float64Array(init.scalars);
  const maxBatch = b.returns.length;
  const values = new Float32Array(maxBatch);
  const dValues = new Float32Array(maxBatch);
  const server = new CommandServer(init.channel, 0); // before 'ready': it reads the current command count
  parentPort?.postMessage({ type: 'ready' });
  const run = (cmd: number): boolean => {
    if (cmd === CMD.GRAD) {
      const batch = scalars[SCALAR.BATCH] as number;
      critic.forwardTrain(b.obs, b.obsT, batch, values);
      const data = { batch, oldValues: b.oldValues, returns: b.returns };
      scalars[SCALAR.VALUE_LOSS] = valueLossGrad(values, data, init, dValues);
      scalars[SCALAR.SUM_SQ] = critic.backward(dValues, b.grad);
    } else if (cmd === CMD.APPLY) {
      adam.beginStep();
      const lr = scalars[SCALAR.LR] as number;
      adam.apply(b.theta, b.grad, lr, scalars[SCALAR.SCALE] as number, layout.actorSize, layout.size);
      critic.setParameters(b.theta);
    } else if (cmd === CMD.DISCARD) {
      critic.discardActivations();
    } else if (cmd === CMD.SYNC) {
      adam.step = scalars[SCALAR.ADAM_STEP] as number;
      critic.setParameters(b.theta);
    } else if (cmd === CMD.CLOSE) {
      critic.dispose();
      return false;
    }
    return true;
  };
  // Poll 200 µs before sleeping: the next command usually follows within tens of µs.
  server.serve(run, (err) => (err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err)), 200);
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
});
