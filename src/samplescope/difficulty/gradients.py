"""Per-sample gradient norms ``‖∂ℓ_i/∂θ‖₂`` (higher = harder).

Three exact methods over *all* parameters, computed in eval mode (dropout off, BatchNorm
using its running statistics, so every sample's gradient is independent of the batch):

- ``"ghost"`` (default): one batched forward + backward of ``Σ_i ℓ_i``; per-layer hooks keep
  each layer's input ``a`` and output gradient ``g``, and the per-sample squared norm of the
  layer's weight gradient ``G_i = Σ_t g_{i,t} a_{i,t}ᵀ`` is obtained without materialising
  ``G_i`` by the ghost-norm identity ``‖G_i‖_F² = Σ_{t,t'} (a_{i,t}·a_{i,t'})(g_{i,t}·g_{i,t'})``
  (Goodfellow 2015; Li et al. 2022). A Linear on ``(B, D)`` inputs reduces to
  ``‖g_i‖²‖a_i‖²``; a Conv2d uses the unfolded input (``t`` = output positions), taking the
  cheaper of the ghost form and the explicit ``g_i U_iᵀ``; biases add ``‖Σ_t g_{i,t}‖²``;
  BatchNorm / LayerNorm affine parameters use ``Σ_t g ⊙ x̂``. Any other layer with parameters,
  a shared parameter or a module called twice falls back to ``"vmap"``.
- ``"vmap"``: ``torch.func.vmap(torch.func.grad(...))`` over the batch (general fallback).
- ``"loop"``: one backward pass per sample (the reference).

And the closed-form last-layer norm (REFERENCE §1) for cross-entropy and a linear head on
features ``h``: ``‖∂ℓ/∂(W, b)‖ = ‖p - onehot(y)‖ · ‖[h, 1]‖``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_array, check_choice, check_integer, check_labels, check_logits
from ..data.split import as_split
from ..functional import softmax
from ..training.checks import check_module, probe_classes
from .registry import register_measure

__all__ = [
    "GRAD_NORM_METHODS",
    "per_sample_grad_norms",
    "last_layer_grad_norm",
    "last_layer_grad_norm_from_features",
    "grad_norm_score",
    "last_layer_grad_norm_score",
]

GRAD_NORM_METHODS = ("auto", "ghost", "vmap", "loop")

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm)
LossFn = Callable[[Any, torch.Tensor], Any]


def _ce(outputs: Any, labels: torch.Tensor) -> torch.Tensor:
    logits = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
    return nn.functional.cross_entropy(logits, labels, reduction="none")


def _total(loss_out: Any) -> torch.Tensor:
    if isinstance(loss_out, dict):
        return torch.stack(list(loss_out.values())).sum(0)
    return loss_out


def _ghost_supported(model: nn.Module) -> bool:
    """Every parameter belongs to exactly one supported leaf module, used once per forward."""
    seen: set[int] = set()
    for m in model.modules():
        own = list(m.parameters(recurse=False))
        if not own:
            continue
        if isinstance(m, nn.Conv2d):
            if m.groups != 1 or m.padding_mode != "zeros" or isinstance(m.padding, str):
                return False
        elif isinstance(m, _NORMS):
            if isinstance(m, nn.GroupNorm):
                return False
        elif not isinstance(m, nn.Linear):
            return False
        for p in own:
            if id(p) in seen:
                return False
            seen.add(id(p))
    return True


def _sq(x: torch.Tensor) -> torch.Tensor:
    return x.pow(2).flatten(1).sum(1)


def _linear_sq(m: nn.Linear, a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    B = a.shape[0]
    if a.dim() == 2:
        out = (
            _sq(g) * _sq(a)
            if m.weight.requires_grad
            else torch.zeros(B, dtype=a.dtype, device=a.device)
        )
        if m.bias is not None and m.bias.requires_grad:
            out = out + _sq(g)
        return out
    a3, g3 = a.reshape(B, -1, a.shape[-1]), g.reshape(B, -1, g.shape[-1])
    out = torch.zeros(B, dtype=a.dtype, device=a.device)
    if m.weight.requires_grad:
        out = out + (torch.bmm(a3, a3.transpose(1, 2)) * torch.bmm(g3, g3.transpose(1, 2))).sum(
            (1, 2)
        )
    if m.bias is not None and m.bias.requires_grad:
        out = out + _sq(g3.sum(1))
    return out


def _conv_sq(m: nn.Conv2d, a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    B = a.shape[0]
    g3 = g.reshape(B, g.shape[1], -1)  # (B, Cout, L)
    out = torch.zeros(B, dtype=a.dtype, device=a.device)
    if m.weight.requires_grad:
        u = nn.functional.unfold(
            a, m.kernel_size, dilation=m.dilation, padding=m.padding, stride=m.stride
        )
        L, D, Co = u.shape[2], u.shape[1], g3.shape[1]
        if Co * D >= L * L:  # ghost form: Gram matrices over output positions
            out = out + (torch.bmm(u.transpose(1, 2), u) * torch.bmm(g3.transpose(1, 2), g3)).sum(
                (1, 2)
            )
        else:  # explicit per-sample weight gradient (B, Cout, D)
            out = out + _sq(torch.bmm(g3, u.transpose(1, 2)))
    if m.bias is not None and m.bias.requires_grad:
        out = out + _sq(g3.sum(2))
    return out


def _norm_sq(m: nn.Module, a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    B = a.shape[0]
    if isinstance(m, nn.LayerNorm):
        dims = tuple(range(a.dim() - len(m.normalized_shape), a.dim()))
        mu = a.mean(dims, keepdim=True)
        var = a.var(dims, unbiased=False, keepdim=True)
        xhat = (a - mu) / torch.sqrt(var + m.eps)
        lead = a.dim() - len(m.normalized_shape)
        gw = (g * xhat).reshape(B, -1, *m.normalized_shape).sum(1) if lead > 1 else g * xhat
        gb = g.reshape(B, -1, *m.normalized_shape).sum(1) if lead > 1 else g
    else:  # BatchNorm in eval mode: affine map of the running-statistics normalisation
        shape = [1, -1] + [1] * (a.dim() - 2)
        rm = m.running_mean if m.running_mean is not None else a.new_zeros(a.shape[1])
        rv = m.running_var if m.running_var is not None else a.new_ones(a.shape[1])
        xhat = (a - rm.view(shape)) / torch.sqrt(rv.view(shape) + m.eps)
        red = tuple(range(2, a.dim()))
        gw = (g * xhat).sum(red) if red else g * xhat
        gb = g.sum(red) if red else g
    out = torch.zeros(B, dtype=a.dtype, device=a.device)
    if m.weight is not None and m.weight.requires_grad:
        out = out + _sq(gw)
    if m.bias is not None and m.bias.requires_grad:
        out = out + _sq(gb)
    return out


def _ghost_batch(
    model: nn.Module, xb: torch.Tensor, yb: torch.Tensor, loss_fn: LossFn
) -> torch.Tensor:
    records: list[tuple[nn.Module, torch.Tensor, torch.Tensor]] = []
    calls: dict[int, int] = {}
    grads: dict[int, torch.Tensor] = {}
    handles = []

    def fwd(mod: nn.Module, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        calls[id(mod)] = calls.get(id(mod), 0) + 1
        idx = len(records)
        records.append((mod, inputs[0].detach(), output))
        if output.requires_grad:
            output.register_hook(lambda g, i=idx: grads.__setitem__(i, g.detach()))

    for m in model.modules():
        if any(True for _ in m.parameters(recurse=False)):
            handles.append(m.register_forward_hook(fwd))
    try:
        out = model(xb)
        total = _total(loss_fn(out, yb))
        if total.shape != (len(xb),):
            raise ValueError(
                f"loss_fn: expected per-sample losses of shape ({len(xb)},), got {tuple(total.shape)}"
            )
        total.sum().backward()
    finally:
        for h in handles:
            h.remove()
    if any(c > 1 for c in calls.values()):
        return None  # type: ignore[return-value]
    sq = torch.zeros(len(xb), dtype=torch.float64, device=xb.device)
    for i, (mod, a, _) in enumerate(records):
        g = grads.get(i)
        if g is None:
            continue
        a64, g64 = a.double(), g.double()
        if isinstance(mod, nn.Linear):
            sq += _linear_sq(mod, a64, g64)
        elif isinstance(mod, nn.Conv2d):
            sq += _conv_sq(mod, a64, g64)
        else:
            sq += _norm_sq(mod, a64, g64)
    return sq.sqrt()


def _vmap_batch(
    model: nn.Module, xb: torch.Tensor, yb: torch.Tensor, loss_fn: LossFn
) -> torch.Tensor:
    from torch.func import functional_call, grad, vmap

    # the parameter objects themselves (not detached copies): with tied/reused modules,
    # functional_call restores whatever it was given
    params = {k: v for k, v in model.named_parameters() if v.requires_grad}
    buffers = dict(model.named_buffers())

    def one(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return _total(loss_fn(out, y.unsqueeze(0))).sum()

    saved = [
        (m, d, k, v)
        for m in model.modules()
        for d in (m._parameters, m._buffers)
        for k, v in d.items()
    ]
    try:
        g = vmap(grad(one), in_dims=(None, 0, 0))(params, xb, yb)
    finally:  # functional_call may leave plain tensors behind in reused (tied) modules
        for _, d, k, v in saved:
            d[k] = v
    return torch.sqrt(sum(_sq(v.double()) for v in g.values()))


def _loop_batch(
    model: nn.Module, xb: torch.Tensor, yb: torch.Tensor, loss_fn: LossFn
) -> torch.Tensor:
    params = [p for p in model.parameters() if p.requires_grad]
    out = torch.empty(len(xb), dtype=torch.float64)
    for i in range(len(xb)):
        loss = _total(loss_fn(model(xb[i : i + 1]), yb[i : i + 1])).sum()
        gs = torch.autograd.grad(loss, params, allow_unused=True)
        out[i] = torch.sqrt(sum(g.double().pow(2).sum() for g in gs if g is not None))
    return out


def per_sample_grad_norms(
    model: nn.Module,
    data: Any,
    *,
    loss_fn: LossFn | None = None,
    method: str = "auto",
    batch_size: int = 256,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Exact per-sample gradient norms ``‖∂ℓ_i/∂θ‖₂`` over all trainable parameters.

    Args:
        model: any module returning logits ``(B, C)`` (or a tuple starting with them).
        data: a split, ``(x, y)`` arrays or a torch Dataset; ``N`` samples.
        loss_fn: per-sample loss ``(outputs, labels) -> (B,)`` (or a dict of terms, summed);
            default cross-entropy.
        method: ``"auto"`` (ghost when every parameterised layer is supported, else vmap),
            ``"ghost"``, ``"vmap"`` or ``"loop"``.
        batch_size: samples per backward pass.

    Returns:
        ``(N,)`` float64 norms in the split's order; higher = harder. Computed in eval mode.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    check_choice(method, "method", GRAD_NORM_METHODS)
    batch_size = check_integer(batch_size, "batch_size")
    s = as_split(data)
    if len(s) == 0:
        raise ValueError("data: expected at least one sample, got 0")
    if loss_fn is None:  # the default cross-entropy needs logits covering the labels
        probe_classes(model, s.x, int(s.y.max()), device=device)
    loss_fn = loss_fn or _ce
    if method == "auto":
        method = "ghost" if _ghost_supported(model) else "vmap"
    elif method == "ghost" and not _ghost_supported(model):
        raise ValueError(
            "method: 'ghost' supports Linear, Conv2d (groups=1), BatchNorm and LayerNorm layers with "
            "unshared parameters; use 'vmap' or 'auto' for this model"
        )
    device = torch.device(device)
    was_training = model.training
    model.to(device).eval()
    fn = {"ghost": _ghost_batch, "vmap": _vmap_batch, "loop": _loop_batch}[method]
    out = []
    try:
        for lo in range(0, len(s), batch_size):
            xb = torch.as_tensor(s.x[lo : lo + batch_size], device=device)
            yb = torch.as_tensor(s.y[lo : lo + batch_size], device=device)
            with torch.enable_grad():
                r = fn(model, xb, yb, loss_fn)
                if r is None:  # a module was called twice: ghost norms would be wrong
                    r = _vmap_batch(model, xb, yb, loss_fn)
            out.append(r.detach().cpu())
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return torch.cat(out).numpy().astype(np.float64)


def last_layer_grad_norm_from_features(
    features: Any, logits: Any, labels: Any, *, bias: bool = True
) -> np.ndarray:
    """Closed-form CE gradient norm w.r.t. a linear head: ``‖p - onehot(y)‖ · ‖[h, 1]‖``.

    Args:
        features: penultimate features ``h`` ``(N, D)``; logits: ``(N, C)`` = head(h); labels ``(N,)``.
        bias: whether the head has a bias (adds 1 to ``‖h‖²``).

    Returns:
        ``(N,)``; higher = harder.
    """
    z = check_logits(logits)
    h = check_array(features, "features", ndim=2)
    if len(h) != len(z):
        raise ValueError(f"features: expected {len(z)} rows (one per logit row), got {len(h)}")
    y = check_labels(labels, num_classes=z.shape[1], n=len(z))
    p = softmax(z, axis=1)
    p[np.arange(len(y)), y] -= 1.0
    return np.linalg.norm(p, axis=1) * np.sqrt((h**2).sum(1) + (1.0 if bias else 0.0))


def last_layer_grad_norm(
    model: nn.Module, data: Any, *, batch_size: int = 1024, device: str | torch.device = "cpu"
) -> np.ndarray:
    """Closed-form last-layer CE gradient norm of an ``nn.Sequential`` ending in ``nn.Linear``, ``(N,)``."""
    from ..models.surgery import split_head

    trunk, head = split_head(check_module(model))
    s = as_split(data)
    batch_size = check_integer(batch_size, "batch_size")
    if len(s) == 0:
        raise ValueError("data: expected at least one sample, got 0")
    probe_classes(model, s.x, int(s.y.max()), device=device)
    device = torch.device(device)
    was_training = model.training
    model.to(device).eval()
    hs, zs = [], []
    try:
        with torch.no_grad():
            for lo in range(0, len(s), batch_size):
                h = trunk(torch.as_tensor(s.x[lo : lo + batch_size], device=device)).flatten(1)
                hs.append(h.double().cpu())
                zs.append(head(h).double().cpu())
    finally:
        model.train(was_training)
    return last_layer_grad_norm_from_features(
        torch.cat(hs).numpy(), torch.cat(zs).numpy(), s.y, bias=head.bias is not None
    )


@register_measure(
    "grad_norm", "gradient", "exact per-sample CE gradient norm over all parameters (ghost norms)"
)
def grad_norm_score(model: nn.Module, data: Any, **kwargs: Any) -> np.ndarray:
    """:func:`per_sample_grad_norms` of a trained ``model`` on ``data``, ``(N,)``; higher = harder."""
    return per_sample_grad_norms(model, data, **kwargs)


@register_measure(
    "last_layer_grad_norm",
    "gradient",
    "closed form ||p - onehot(y)|| * ||[h, 1]|| of the linear head",
)
def last_layer_grad_norm_score(model: nn.Module, data: Any, **kwargs: Any) -> np.ndarray:
    """:func:`last_layer_grad_norm` of a trained ``model`` on ``data``, ``(N,)``; higher = harder."""
    return last_layer_grad_norm(model, data, **kwargs)
