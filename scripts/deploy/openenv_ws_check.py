#!/usr/bin/env python3
"""Drives a serve-env /ws session the way OpenEnv's Python EnvClient does (JSON text frames:
reset -> observation, step -> observation, state -> state, close), from Python, and checks the
answers' shapes. A cross-language check of docs/serve-env.md, not part of the test suite (it needs
Debian's python3-websockets):

    npm run cli -- serve-env --env gov-workflow --port 8000 &
    /usr/bin/python3 scripts/deploy/openenv_ws_check.py ws://127.0.0.1:8000/ws
"""
import asyncio
import json
import sys

import websockets


async def main(url: str) -> int:
    async with websockets.connect(url, max_size=100 * 1024 * 1024) as ws:

        async def call(message):
            await ws.send(json.dumps(message))
            return json.loads(await ws.recv())

        reset = await call({"type": "reset", "data": {"seed": 7, "task_id": "mixed_urgency_medium"}})
        assert reset["type"] == "observation", reset
        assert set(reset["data"]) == {"observation", "reward", "done"}, reset["data"].keys()
        assert reset["data"]["reward"] is None and reset["data"]["done"] is False
        obs = reset["data"]["observation"]
        steps, total = 0, 0.0
        while True:
            # A Gov Workflow ActionModel, as the seed's clients send it.
            step = await call({"type": "step", "data": {"action_type": "advance_time"}})
            assert step["type"] == "observation", step
            data = step["data"]
            steps += 1
            total += data["reward"]
            if data["done"]:
                break
        state = await call({"type": "state"})
        assert state["type"] == "state" and state["data"]["step_count"] == steps
        bad = await call({"type": "step", "data": {"action_type": "fly"}})
        assert bad["type"] == "error" and bad["data"]["code"] == "SESSION_ERROR", bad
        await ws.send(json.dumps({"type": "close"}))
        score = data["observation"]["episode"]["score"]
        print(f"ok: day {obs['day']} -> {data['observation']['day']}, {steps} steps, reward {total:.2f}, score {score}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8000/ws")))
