"""Label-noise injection with exact rates, reproducible by seed.

Kinds:

- ``symmetric``: exactly ``round(rate * N)`` samples, chosen uniformly, get a label drawn
  uniformly from the *other* ``C - 1`` classes (so every chosen sample is really noisy).
- ``pairflip``: exactly ``round(rate * N)`` samples move ``c -> (c + 1) mod C``
  (Han et al. 2018, Co-teaching).
- ``asymmetric``: class-dependent flips between visually similar classes. Within every
  source class ``c`` of the map, exactly ``round(rate * n_c)`` samples move to
  ``mapping[c]``; classes outside the map are untouched (so the overall noisy fraction is
  ``rate`` times the fraction of samples in source classes). Maps:

  * ``mnist`` (Patrini et al. 2017): 2→7, 3→8, 5↔6, 7→1.
  * ``fashion-mnist``: T-shirt↔Shirt (0↔6), Pullover↔Coat (2↔4), Sandal↔Sneaker (5↔7)
    — the similar-pair swaps used with Fashion-MNIST in the noisy-label literature.
  * ``cifar10`` (Patrini et al. 2017): truck→automobile, bird→airplane, deer→horse, cat↔dog.
  * ``cifar10-swap`` (Kornaev lecture): airplane↔bird, automobile↔truck, cat↔dog, deer↔horse.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._validation import (
    check_choice,
    check_fraction,
    check_integer,
    check_labels,
    check_num_classes,
)

__all__ = ["ASYMMETRIC_MAPS", "NOISE_KINDS", "inject_label_noise", "transition_matrix"]

NOISE_KINDS = ("symmetric", "pairflip", "asymmetric")

ASYMMETRIC_MAPS: dict[str, dict[int, int]] = {
    "mnist": {2: 7, 3: 8, 5: 6, 6: 5, 7: 1},
    "fashion-mnist": {0: 6, 6: 0, 2: 4, 4: 2, 5: 7, 7: 5},
    "cifar10": {9: 1, 2: 0, 4: 7, 3: 5, 5: 3},
    "cifar10-swap": {0: 2, 2: 0, 1: 9, 9: 1, 3: 5, 5: 3, 4: 7, 7: 4},
}


def _asym_map(mapping: Mapping[int, int] | str | None, num_classes: int) -> dict[int, int]:
    if mapping is None:
        mapping = "mnist"
    if isinstance(mapping, str):
        key = "fashion-mnist" if mapping in ("fashion_mnist", "fmnist") else mapping
        check_choice(key, "mapping", ASYMMETRIC_MAPS)
        mapping = ASYMMETRIC_MAPS[key]
    try:
        items = dict(mapping).items()
        out = {
            check_integer(k, "mapping", minimum=None): check_integer(v, "mapping", minimum=None)
            for k, v in items
        }
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith("mapping"):
            raise
        raise ValueError(
            f"mapping: expected a dict {{source class: target class}} or a map name, got {mapping!r}"
        ) from exc
    for k, v in out.items():
        if not (0 <= k < num_classes and 0 <= v < num_classes) or k == v:
            raise ValueError(
                f"mapping: expected distinct source/target classes in [0, {num_classes}), got {k}->{v}"
            )
    return out


def inject_label_noise(
    labels: np.ndarray,
    rate: float,
    kind: str = "symmetric",
    num_classes: int | None = None,
    seed: int = 0,
    *,
    mapping: Mapping[int, int] | str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Corrupt labels with an exact noise rate.

    Args:
        labels: clean labels ``(N,)`` in ``[0, C)``.
        rate: fraction in [0, 1] (of all samples, or of each source class for asymmetric).
        kind: ``"symmetric"``, ``"pairflip"`` or ``"asymmetric"``.
        num_classes: ``C``; default ``max(labels) + 1``.
        seed: random seed (same seed, same corruption).
        mapping: for ``asymmetric``: a dict ``{source: target}`` or the name of a built-in
            map (``"mnist"`` default, ``"fashion-mnist"``, ``"cifar10"``, ``"cifar10-swap"``).

    Returns:
        ``(noisy_labels, is_noisy)``: int64 ``(N,)`` and bool ``(N,)`` with
        ``is_noisy == (noisy_labels != labels)``.
    """
    if num_classes is not None:
        num_classes = check_num_classes(num_classes)
    y = check_labels(labels, "labels", num_classes=num_classes)
    rate = check_fraction(rate, "rate")
    check_choice(kind, "kind", NOISE_KINDS)
    seed = check_integer(seed, "seed", minimum=0)
    C = num_classes if num_classes is not None else int(y.max()) + 1
    if C < 2:
        raise ValueError(f"num_classes: expected at least 2 classes, got {C}")
    rng = np.random.default_rng(seed)
    noisy = y.copy()
    n = len(y)
    if kind in ("symmetric", "pairflip"):
        k = int(round(rate * n))
        chosen = rng.choice(n, size=k, replace=False)
        if kind == "symmetric":
            shift = rng.integers(1, C, size=k)  # never 0: the new label always differs
            noisy[chosen] = (y[chosen] + shift) % C
        else:
            noisy[chosen] = (y[chosen] + 1) % C
    else:
        amap = _asym_map(mapping, C)
        for src in sorted(amap):
            members = np.flatnonzero(y == src)
            k = int(round(rate * len(members)))
            if k:
                chosen = rng.choice(members, size=k, replace=False)
                noisy[chosen] = amap[src]
    return noisy, noisy != y


def transition_matrix(
    kind: str, rate: float, num_classes: int, *, mapping: Mapping[int, int] | str | None = None
) -> np.ndarray:
    """Expected label transition matrix ``T[i, j] = P(noisy = j | clean = i)``, shape ``(C, C)``."""
    check_choice(kind, "kind", NOISE_KINDS)
    rate = check_fraction(rate, "rate")
    C = check_num_classes(num_classes)
    T = np.eye(C) * (1 - rate)
    if kind == "symmetric":
        T += (1 - np.eye(C)) * rate / (C - 1)
    elif kind == "pairflip":
        for c in range(C):
            T[c, (c + 1) % C] += rate
    else:
        amap = _asym_map(mapping, C)
        T = np.eye(C)
        for s, t in amap.items():
            T[s, s] = 1 - rate
            T[s, t] = rate
    return T
