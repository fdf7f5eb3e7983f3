"""The stacked trainer's training step vs torch's own pieces for the same job.

Issue 12 asks to prefer ``torch.func.stack_module_state`` / ``functional_call`` (under
``vmap``) and torch's optimizers where they give the same numbers, and to keep whatever is
faster, measured. One training step of M MLPs on M different mini-batches:

- ours: :func:`samplescope.training.stacked.fit_group`'s arithmetic — stacked weights
  ``(M, D_in, D_out)``, one ``torch.baddbmm`` per layer, the stacked fused Adam step;
- anchor: ``stack_module_state`` + ``vmap(functional_call)`` forward/backward and
  ``torch.optim.Adam(fused=True)`` over the stacked parameters (the same fused kernel).

Both compute the same function (checked: the logits of one step agree to float rounding),
so the ratio is the cost of the machinery. Workloads: the digits default MLP
(64-256-128-10, M = 15, batch 128) and the MNIST one (784-256-128-10, M = 5, batch 128).
"""

from __future__ import annotations

import copy
import functools

import torch
from _common import best_of, row, standalone

from samplescope.models import mlp
from samplescope.training.stacked import StackedOptimizer, layer_plan, linear_layers


def _setup(d_in: int, M: int, B: int):
    torch.manual_seed(0)
    nets = [mlp(d_in, 10, (256, 128)) for _ in range(M)]
    x = torch.randn(M, B, d_in)
    y = torch.randint(0, 10, (M, B))
    return nets, x, y


def _ours(nets, x, y, steps: int):
    plan = layer_plan(nets[0])
    lins = [linear_layers(n) for n in nets]
    params = []
    ws, bs = [], []
    for k in range(len(lins[0])):
        w = torch.stack([ls[k].weight.detach().T for ls in lins]).contiguous().requires_grad_()
        b = torch.stack([ls[k].bias.detach() for ls in lins]).unsqueeze(1).contiguous()
        b.requires_grad_()
        ws.append(w)
        bs.append(b)
        params += [w, b]
    M = len(nets)
    opt = StackedOptimizer(params, "adam", 0.0, M, fused=True)
    lr = torch.full((M,), 1e-3, dtype=torch.float64)
    for _ in range(steps):
        h = x
        for kind, arg in plan:
            if kind == "linear":
                h = torch.baddbmm(bs[arg], h, ws[arg])
            elif kind == "act":
                h = arg(h)
        loss = torch.nn.functional.cross_entropy(h.reshape(-1, 10), y.reshape(-1))
        grads = torch.autograd.grad(loss * M, params)
        opt.step([g.contiguous() for g in grads], lr, None)
    return h.detach()


def _torch_func(nets, x, y, steps: int):
    from torch.func import functional_call, stack_module_state

    params, buffers = stack_module_state(copy.deepcopy(nets))
    base = copy.deepcopy(nets[0]).to("meta")
    leaves = list(params.values())
    opt = torch.optim.Adam(leaves, lr=1e-3, fused=True)

    def one(p, b, xb):
        return functional_call(base, (p, b), (xb,))

    for _ in range(steps):
        out = torch.vmap(one)(params, buffers, x)
        loss = torch.nn.functional.cross_entropy(out.reshape(-1, 10), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        (loss * len(nets)).backward()
        opt.step()
    return out.detach()


def run(quick: bool) -> list[dict]:
    rows = []
    cases = [("digits MLP 64-256-128-10", 64, 15, 128)]
    if not quick:
        cases.append(("MNIST MLP 784-256-128-10", 784, 5, 128))
    steps = 5 if quick else 30
    for label, d_in, M, B in cases:
        nets, x, y = _setup(d_in, M, B)
        first_ours = _ours(nets, x, y, 1)
        first_func = _torch_func(nets, x, y, 1)
        agree = float((first_ours - first_func).abs().max())
        fns = {
            "ours": functools.partial(_ours, nets, x, y, steps),
            "func": functools.partial(_torch_func, nets, x, y, steps),
        }
        best, _ = best_of(fns, reps=3)
        rows.append(
            row(
                f"{steps} training steps, M={M} {label}, B={B}",
                "stacked bmm + stacked fused Adam",
                best["ours"],
                "torch.func vmap(functional_call) + Adam(fused=True)",
                best["func"],
                target=">= 1x (keep the faster)",
                note=f"max |dlogit| after one step {agree:.1e}",
            )
        )
    return rows


if __name__ == "__main__":
    standalone("stacked_vs_torch_func", run)
