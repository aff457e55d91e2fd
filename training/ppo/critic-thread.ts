/**
 * Worker thread of CriticWorker (critic-worker.ts): its own tfjs backend and critic TowerEngine,
 * serving GRAD / APPLY / DISCARD / SYNC commands from the shared control block until CLOSE.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend.js';
import { Adam, sumOfSquares } from './adam.js';
import { CMD, CTRL, SCALAR } from './critic-worker.js';
import type { CriticThreadInit } from './critic-worker.js';
import { valueLossGrad } from './distributions.js';
import { TowerEngine } from './engine.js';
import { ParameterLayout } from './parameters.js';

const init = workerData as CriticThreadInit;

async function main(): Promise<void> {
  await initBackend(init.backend);
  const layout = new ParameterLayout(init.shape, init.arch);
  const critic = new TowerEngine(layout, 'critic', init.activation);
  const b = init.buffers;
  const adam = new Adam(layout.size, init.adam, { m: b.m, v: b.v });
  const ctrl = new Int32Array(init.control);
  const scalars = new Float64Array(init.scalars);
  const errors = new Uint8Array(init.errors);
  const maxBatch = b.returns.length;
  const values = new Float32Array(maxBatch);
  const dValues = new Float32Array(maxBatch);
  let last = Atomics.load(ctrl, CTRL.SEQ);
  parentPort?.postMessage({ type: 'ready' });
  for (;;) {
    // Poll briefly: the next command usually follows within tens of µs, and a futex wake-up costs as much.
    const until = performance.now() + 0.2;
    while (Atomics.load(ctrl, CTRL.SEQ) === last && performance.now() < until) {
      /* spin */
    }
    Atomics.wait(ctrl, CTRL.SEQ, last);
    const seq = Atomics.load(ctrl, CTRL.SEQ);
    if (seq === last) continue;
    last = seq;
    const cmd = Atomics.load(ctrl, CTRL.CMD);
    if (cmd === CMD.CLOSE) {
      critic.dispose();
      Atomics.store(ctrl, CTRL.DONE, seq);
      Atomics.notify(ctrl, CTRL.DONE);
      break;
    }
    try {
      if (cmd === CMD.GRAD) {
        const batch = scalars[SCALAR.BATCH] as number;
        critic.forwardTrain(b.obs, b.obsT, batch, values);
        scalars[SCALAR.VALUE_LOSS] = valueLossGrad(
          values,
          { batch, oldValues: b.oldValues, returns: b.returns },
          init,
          dValues,
        );
        critic.backward(dValues, b.grad);
        scalars[SCALAR.SUM_SQ] = sumOfSquares(b.grad, layout.actorSize, layout.size);
      } else if (cmd === CMD.APPLY) {
        adam.beginStep();
        adam.apply(
          b.theta,
          b.grad,
          scalars[SCALAR.LR] as number,
          scalars[SCALAR.SCALE] as number,
          layout.actorSize,
          layout.size,
        );
        critic.setParameters(b.theta);
      } else if (cmd === CMD.DISCARD) {
        critic.discardActivations();
      } else if (cmd === CMD.SYNC) {
        adam.step = scalars[SCALAR.ADAM_STEP] as number;
        critic.setParameters(b.theta);
      }
      Atomics.store(ctrl, CTRL.STATUS, 0);
    } catch (err) {
      const text = new TextEncoder()
        .encode(err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err))
        .subarray(0, errors.length);
      errors.set(text);
      Atomics.store(ctrl, CTRL.ERROR_BYTES, text.length);
      Atomics.store(ctrl, CTRL.STATUS, 1);
    }
    Atomics.store(ctrl, CTRL.DONE, seq);
    Atomics.notify(ctrl, CTRL.DONE);
  }
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
});
