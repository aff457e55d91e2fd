#!/usr/bin/env python3
"""The same-run PyTorch anchor of bench:ppo: PyTorch doing exactly queue-rl's PPO minibatch update.

Separate actor and critic MLPs (tanh; obs -> hidden... -> logits / value), a masked categorical
policy, SB3's loss (clipped surrogate with normalised advantages, entropy bonus, value MSE), backward,
global grad-norm clipping at 0.5, Adam (lr 3e-4, eps 1e-5) — on random minibatches of the Gov Workflow
Phase 1 shapes (163 features, 31 actions, batch 64). Prints one JSON object: milliseconds per
minibatch for the forward pass (with the graph a backward needs), backward + clipping + Adam, and
the whole update, per net and thread count (median of repeated timed blocks).

    python3 scripts/bench/torch_update.py --nets 256,256 64,64 --threads 1 2

Needs PyTorch: on Debian, `apt-get install python3-torch libopenblas0-pthread` (run with
/usr/bin/python3); without OpenBLAS, Debian's torch multiplies with the reference BLAS, ~30x slower.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


def mlp(sizes, out):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    layers.append(nn.Linear(sizes[-1], out))
    return nn.Sequential(*layers)


def minibatch(gen, batch, obs, actions):
    x = torch.rand(batch, obs, generator=gen)
    mask = torch.rand(batch, actions, generator=gen) > 0.3
    mask[:, 0] = True  # at least one allowed action per row (the env always allows advance_time)
    logits = torch.where(mask, torch.zeros(batch, actions), torch.full((batch, actions), -1e8))
    act = torch.distributions.Categorical(logits=logits).sample()
    return {
        "obs": x,
        "mask": mask,
        "actions": act,
        "old_logp": torch.full((batch,), -2.0),
        "adv": torch.randn(batch, generator=gen),
        "returns": torch.randn(batch, generator=gen),
    }


def forward(actor, critic, mb):
    logits = actor(mb["obs"]).masked_fill(~mb["mask"], -1e8)
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(1, mb["actions"][:, None]).squeeze(1)
    probs = logp_all.exp()
    entropy = -(probs * logp_all).masked_fill(~mb["mask"], 0.0).sum(-1)
    adv = (mb["adv"] - mb["adv"].mean()) / (mb["adv"].std() + 1e-8)
    ratio = torch.exp(logp - mb["old_logp"])
    policy_loss = -torch.min(adv * ratio, adv * torch.clamp(ratio, 0.8, 1.2)).mean()
    values = critic(mb["obs"]).squeeze(1)
    value_loss = ((mb["returns"] - values) ** 2).mean()
    return policy_loss - 0.01 * entropy.mean() + 0.5 * value_loss


def time_net(hidden, threads, args):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    actor = mlp([args.obs, *hidden], args.actions)
    critic = mlp([args.obs, *hidden], 1)
    params = list(actor.parameters()) + list(critic.parameters())
    opt = torch.optim.Adam(params, lr=3e-4, eps=1e-5)
    batches = [minibatch(gen, args.batch, args.obs, args.actions) for _ in range(8)]

    def step(mb, timings=None):
        t0 = time.perf_counter()
        loss = forward(actor, critic, mb)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 0.5)
        opt.step()
        t2 = time.perf_counter()
        if timings is not None:
            timings[0] += t1 - t0
            timings[1] += t2 - t1

    for i in range(args.warmup):
        step(batches[i % len(batches)])
    fwd, bwd, whole = [], [], []
    for _ in range(args.repeats):
        timings = [0.0, 0.0]
        t0 = time.perf_counter()
        for i in range(args.steps):
            step(batches[i % len(batches)], timings)
        elapsed = time.perf_counter() - t0
        fwd.append(timings[0] / args.steps * 1e3)
        bwd.append(timings[1] / args.steps * 1e3)
        whole.append(elapsed / args.steps * 1e3)
    return {
        "forward_ms": statistics.median(fwd),
        "backward_optimizer_ms": statistics.median(bwd),
        "update_ms": statistics.median(whole),
    }


def sgemm_gflops():
    """The BLAS behind torch at our shapes, one thread (Debian's torch uses the system libblas.so.3:
    the reference BLAS unless OpenBLAS is installed, 30x apart)."""
    torch.set_num_threads(1)
    a, w = torch.rand(64, 256), torch.rand(256, 256)
    for _ in range(20):
        a @ w
    t0 = time.perf_counter()
    for _ in range(500):
        a @ w
    return 2 * 64 * 256 * 256 * 500 / (time.perf_counter() - t0) / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nets", nargs="+", default=["256,256", "64,64"])
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--obs", type=int, default=163)
    p.add_argument("--actions", type=int, default=31)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=200, help="minibatch updates per timed block")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=50)
    args = p.parse_args()
    results = {}
    for net in args.nets:
        hidden = [int(h) for h in net.split(",")]
        for threads in args.threads:
            results[f"{net}/{threads}"] = time_net(hidden, threads, args)
    print(
        json.dumps(
            {"torch": torch.__version__, "sgemm_gflops": sgemm_gflops(), "batch": args.batch, "results": results}
        )
    )


if __name__ == "__main__":
    main()
