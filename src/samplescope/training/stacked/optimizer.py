"""The stacked optimizer: torch's Adam / AdamW / SGD(momentum 0.9) on ``(M, ...)`` parameters.

Two paths with the same state (first/second moments, per-model step counts):

- the **fused** step (default): when every model steps with the same ``t`` and ``lr``, one
  call of torch's fused CPU/GPU Adam/AdamW kernel (the kernel ``torch.optim.Adam(fused=True)``
  runs) updates all M models in one pass over memory;
- the **exact** step: the op-by-op arithmetic of ``torch.optim``'s single-tensor
  implementation, per-model ``t`` and ``lr`` and a mask of models that step — bit-identical to
  training each model alone with ``torch.optim`` (used whenever the fused conditions fail).
"""

from __future__ import annotations

import torch

__all__ = ["StackedOptimizer"]


class StackedOptimizer:
    """Element-wise optimizers applied to stacked parameters ``(M, ...)``.

    The update of model ``m`` is the one ``torch.optim`` computes for that model alone
    (single-tensor implementation): Adam ``g += wd·p``; AdamW ``p *= 1 - lr·wd``; then
    ``m1 = lerp(m1, g, 1-β1)``, ``m2 = β2·m2 + (1-β2)·g²``,
    ``p += (-lr/(1-β1^t))·m1 / (sqrt(m2)/sqrt(1-β2^t) + ε)``; SGD ``buf = 0.9·buf + g``,
    ``p -= lr·buf``. ``t`` and ``lr`` are per model; inactive models are left untouched.
    """

    betas = (0.9, 0.999)
    eps = 1e-8
    momentum = 0.9

    def __init__(
        self,
        params: list[torch.Tensor],
        kind: str,
        weight_decay: float,
        M: int,
        fused: bool = False,
    ) -> None:
        self.params = params
        self.fused = fused and hasattr(torch, "_fused_adam_") and hasattr(torch, "_fused_adamw_")
        self.kind = kind
        self.wd = weight_decay
        self.m1 = [torch.zeros_like(p) for p in params]
        self.m2 = [torch.zeros_like(p) for p in params] if kind != "sgd" else []
        self.t = torch.zeros(M, dtype=torch.float64)

    @torch.no_grad()
    def step(
        self, grads: list[torch.Tensor], lr: torch.Tensor, active: torch.Tensor | None
    ) -> None:
        """``lr`` (M,) float64; ``active`` (M,) bool or None (all models step)."""
        if active is not None:
            self.t += active.to(torch.float64)
        else:
            self.t += 1
        if active is None and self._fused_step(grads, lr):
            return
        t = self.t.clamp(min=1)
        b1, b2 = self.betas
        coef = {
            "neg_lr": (-lr).to(torch.float32),
            "neg_step": (-(lr / (1 - b1**t))).to(torch.float32),
            "bc2_sqrt": torch.sqrt(1 - b2**t).to(torch.float32),
            "wd_scale": (1 - lr * self.wd).to(torch.float32),
        }
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            shape = (-1,) + (1,) * (p.ndim - 1)
            if active is not None:  # a masked step: compute aside, then keep the active rows
                olds = [p, self.m1[i]] + ([self.m2[i]] if self.m2 else [])
                news = [o.clone() for o in olds]
                self._update(news[0], g, news[1], news[2] if self.m2 else None, shape, coef)
                for old, new in zip(olds, news, strict=True):
                    old.copy_(torch.where(active.view(shape), new, old))
            else:
                self._update(p, g, self.m1[i], self.m2[i] if self.m2 else None, shape, coef)

    def _fused_step(self, grads: list[torch.Tensor], lr: torch.Tensor) -> bool:
        """Fast path: every model steps with the same ``t`` and ``lr`` -> torch's fused CPU
        Adam/AdamW kernel (``torch.optim.Adam(fused=True)``'s), one pass over the memory
        instead of eight; equal to the single-tensor arithmetic up to float rounding."""
        if self.kind == "sgd" or not self.fused:
            return False
        t0, lr0 = float(self.t[0]), float(lr[0])
        if not (bool((self.t == t0).all()) and bool((lr == lr0).all())):
            return False
        func = torch._fused_adamw_ if self.kind == "adamw" else torch._fused_adam_
        steps = [torch.tensor(t0, dtype=torch.float32) for _ in self.params]
        func(
            self.params,
            grads,
            self.m1,
            self.m2,
            [],
            steps,
            amsgrad=False,
            lr=lr0,
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=self.wd,
            eps=self.eps,
            maximize=False,
        )
        return True

    def _update(
        self,
        p: torch.Tensor,
        g: torch.Tensor,
        m1: torch.Tensor,
        m2: torch.Tensor | None,
        shape: tuple[int, ...],
        coef: dict[str, torch.Tensor],
    ) -> None:
        """In-place update of ``p``, ``m1``, ``m2`` (same op order as ``torch.optim``)."""
        b1, b2 = self.betas
        if self.kind == "sgd":
            if self.wd:
                g = g.add(p, alpha=self.wd)
            m1.mul_(self.momentum).add_(g)
            p.addcmul_(coef["neg_lr"].view(shape), m1)
            return
        assert m2 is not None
        if self.kind == "adamw":
            if self.wd:
                p.mul_(coef["wd_scale"].view(shape))
        elif self.wd:
            g = g.add(p, alpha=self.wd)
        m1.lerp_(g, 1 - b1)
        m2.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (m2.sqrt() / coef["bc2_sqrt"].view(shape)).add_(self.eps)
        p.add_((coef["neg_step"].view(shape) * m1).div_(denom))
