"""Which networks the stacked trainer can train, and when stacking wins.

A supported network is an ``nn.Sequential`` of an optional leading ``nn.Flatten``,
``nn.Linear``, parameter-free element-wise activations and ``nn.Dropout`` ending in a Linear
(e.g. :func:`samplescope.models.mlp`). Its *layer plan* is the list
``[("linear", k) | ("act", module) | ("dropout", p)]`` the stacked loop executes.
"""

from __future__ import annotations

from typing import Any

from torch import nn

__all__ = [
    "OPTIMIZERS",
    "PRECISIONS",
    "can_vectorize",
    "layer_plan",
    "linear_layers",
    "should_vectorize",
]

_ACTIVATIONS = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Identity,
    nn.ReLU6,
    nn.Mish,
)
OPTIMIZERS = ("adam", "adamw", "sgd")
PRECISIONS = ("fp32", "bf16")
_MEMORY_BUDGET = 1 << 30  # bytes of stacked weights + optimizer state + activations
_WORK_PER_STEP = 1 << 24  # parameters x batch size per model step above which stacking ties


# --------------------------------------------------------------------------------------------
# Which networks can be stacked
# --------------------------------------------------------------------------------------------


def layer_plan(model: nn.Module) -> list[tuple[str, Any]] | None:
    """The layer plan ``[("linear", i) | ("act", module) | ("dropout", p)]``, or None."""
    if not isinstance(model, nn.Sequential) or len(model) == 0:
        return None
    plan: list[tuple[str, Any]] = []
    n_linear = 0
    for i, layer in enumerate(model):
        if (
            isinstance(layer, nn.Flatten)
            and i == 0
            and layer.start_dim == 1
            and layer.end_dim == -1
        ):
            continue
        if type(layer) is nn.Linear:
            plan.append(("linear", n_linear))
            n_linear += 1
        elif isinstance(layer, _ACTIVATIONS) and not any(True for _ in layer.parameters()):
            plan.append(("act", layer))
        elif type(layer) is nn.Dropout:
            plan.append(("dropout", float(layer.p)))
        else:
            return None
    if n_linear == 0 or plan[-1][0] != "linear":
        return None
    return plan


def can_vectorize(model: nn.Module) -> bool:
    """Whether ``model``'s architecture can be trained stacked (Flatten/Linear/activation/Dropout)."""
    return layer_plan(model) is not None


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model if type(m) is nn.Linear]


def should_vectorize(
    model: nn.Module,
    n_models: int,
    *,
    batch_size: int = 128,
    optimizer: Any = "adam",
    memory_budget: int = _MEMORY_BUDGET,
    precision: str = "fp32",
    exact: bool = False,
) -> bool:
    """The ``vectorize="auto"`` heuristic: stack the models when it is supported and it wins.

    Stacking saves per-op overhead (kernel launches, autograd nodes, optimizer calls), never
    FLOPs, so it wins for small minibatched models and ties once the matmuls dominate.
    Measured on the shared 2-core machine, one thread, ``benchmarks/vectorized.py``: M = 10
    digits MLPs 64-64-32-10 at batch 64 (6.5k params × 64): 3.6-5.3× faster than a loop of
    ``fit``; 64-256-128-10 at batch 128 (50k × 128): 1.4-2.5×; MNIST 784-256-128-10 at batch
    128 (235k × 128): 0.9-1.8× (noise around a tie). Hence the rule params × batch ≤ 2^24.
    Rules: ``n_models >= 2``; the network is a supported MLP (:func:`can_vectorize`); the
    optimizer is one of ``"adam" | "adamw" | "sgd"``; parameters × batch size ≤ 2^24; and
    the stacked weights, gradients,
    optimizer state and one batch of activations (float32) fit in ``memory_budget`` bytes.
    The params × batch rule applies only to the exact mode (``exact=True``, op-by-op Adam):
    with the default fused Adam step (and with ``precision="bf16"``) stacking also wins for
    the compute-bound networks — MNIST-10k 784-256-128-10, M = 5: 1.76× over a loop of
    ``fit`` in fp32 fused, 2.8× in bf16 (``benchmarks/results/run_all.json``).
    """
    if n_models < 2 or not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        return False
    if not can_vectorize(model):
        return False
    n_params = sum(p.numel() for p in model.parameters())
    if exact and precision == "fp32" and n_params * batch_size > _WORK_PER_STEP:
        return False  # compute-bound already: stacking saves overhead, not FLOPs
    widest = max(max(lin.in_features, lin.out_features) for lin in linear_layers(model))
    n_layers = len(linear_layers(model))
    need = 4 * n_models * (4 * n_params + 3 * batch_size * widest * n_layers)
    return need <= memory_budget
