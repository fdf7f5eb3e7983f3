"""Input validation at the public boundary.

Every public function validates its inputs once, here, and raises a ``ValueError``
that names the argument, what was expected and what was received. Internal
``_compute_*`` helpers trust their inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "to_numpy",
    "check_array",
    "check_logits",
    "check_probs",
    "check_stochastic_probs",
    "check_labels",
    "check_binary",
    "check_scores",
    "check_same_length",
    "check_fraction",
    "check_positive",
    "check_integer",
    "check_number",
    "check_num_classes",
    "check_ids",
    "check_simplex",
    "check_name",
    "check_choice",
]


def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a numpy array (torch tensors are detached and moved to the CPU)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _describe(a: np.ndarray) -> str:
    return f"array of shape {tuple(a.shape)} and dtype {a.dtype}"


def check_array(
    x: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    dtype: Any = np.float64,
    finite: bool = True,
    allow_empty: bool = False,
) -> np.ndarray:
    """Convert ``x`` to a numpy array of ``dtype`` and check dimension, emptiness, finiteness."""
    try:
        a = to_numpy(x)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"{name}: expected an array-like, got {type(x).__name__}") from exc
    if a.dtype == object:
        raise ValueError(f"{name}: expected a numeric array, got an object array")
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else ndim
        if a.ndim not in dims:
            raise ValueError(
                f"{name}: expected {' or '.join(map(str, dims))}-D, got {_describe(a)}"
            )
    if not allow_empty and a.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got {_describe(a)}")
    if dtype is not None:
        wants_number = np.issubdtype(np.dtype(dtype), np.number)
        if wants_number and not np.issubdtype(a.dtype, np.number) and a.dtype != bool:
            raise ValueError(f"{name}: expected numbers, got {_describe(a)}")
        if np.issubdtype(a.dtype, np.complexfloating) and not np.issubdtype(
            np.dtype(dtype), np.complexfloating
        ):  # astype would silently drop the imaginary part
            raise ValueError(f"{name}: expected real numbers, got {_describe(a)}")
        a = a.astype(dtype, copy=False)
    if finite and np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(f"{name}: expected finite values, got {bad} NaN/inf entries")
    return a


def check_logits(
    logits: Any, name: str = "logits", *, num_classes: int | None = None
) -> np.ndarray:
    """Validate logits of shape ``(N, C)`` with ``C >= 2``; return float64."""
    a = check_array(logits, name, ndim=2)
    if a.shape[1] < 2:
        raise ValueError(f"{name}: expected (N, C) with C >= 2 classes, got shape {a.shape}")
    if num_classes is not None and a.shape[1] != num_classes:
        raise ValueError(f"{name}: expected {num_classes} columns, got shape {a.shape}")
    return a


def check_probs(probs: Any, name: str = "probs", *, atol: float = 1e-4) -> np.ndarray:
    """Validate probabilities of shape ``(N, C)``: entries in [0, 1], rows summing to 1."""
    a = check_array(probs, name, ndim=2)
    if a.shape[1] < 2:
        raise ValueError(f"{name}: expected (N, C) with C >= 2 classes, got shape {a.shape}")
    _check_simplex(a, name, atol)
    return a


def check_stochastic_probs(probs: Any, name: str = "probs", *, atol: float = 1e-4) -> np.ndarray:
    """Validate stacked stochastic probabilities ``(S, N, C)`` (MC samples / members / views)."""
    a = check_array(probs, name, ndim=3)
    if a.shape[2] < 2:
        raise ValueError(f"{name}: expected (S, N, C) with C >= 2 classes, got shape {a.shape}")
    _check_simplex(a, name, atol)
    return a


def check_simplex(a: np.ndarray, name: str, *, axis: int = -1, atol: float = 1e-4) -> np.ndarray:
    """Check that a finite float array holds probabilities along ``axis`` (in [0, 1], summing to 1)."""
    if a.size:
        _check_simplex(np.moveaxis(a, axis, -1), name, atol)
    return a


def _check_simplex(a: np.ndarray, name: str, atol: float) -> None:
    if a.min() < -atol or a.max() > 1 + atol:
        raise ValueError(
            f"{name}: expected probabilities in [0, 1], got values in [{a.min():.4g}, {a.max():.4g}]"
            " (pass logits= if these are logits)"
        )
    s = a.sum(axis=-1)
    if not np.allclose(s, 1.0, atol=max(atol, 1e-3)):
        worst = float(np.abs(s - 1).max())
        raise ValueError(
            f"{name}: expected rows summing to 1, got a deviation of {worst:.4g}"
            " (pass logits= if these are logits)"
        )


def check_labels(
    labels: Any,
    name: str = "labels",
    *,
    num_classes: int | None = None,
    n: int | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Validate integer labels of shape ``(N,)`` in ``[0, num_classes)``; return int64."""
    if num_classes is not None:
        num_classes = check_num_classes(num_classes, minimum=1)
    a = to_numpy(labels)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of class indices, got {_describe(a)}")
    if not allow_empty and a.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got {_describe(a)}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if (
            np.issubdtype(a.dtype, np.floating)
            and np.all(np.isfinite(a))
            and np.all(a == np.round(a))
        ):
            a = a.astype(np.int64)
        else:
            raise ValueError(f"{name}: expected integer class indices, got {_describe(a)}")
    a = a.astype(np.int64, copy=False)
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name}: expected {n} labels (one per sample), got {a.shape[0]}")
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or (num_classes is not None and hi >= num_classes):
            upper = "C" if num_classes is None else str(num_classes)
            raise ValueError(f"{name}: expected labels in [0, {upper}), got values in [{lo}, {hi}]")
    return a


def check_binary(x: Any, name: str) -> np.ndarray:
    """Validate a 1-D array of booleans or 0/1 values; return a bool array ``(N,)``."""
    a = to_numpy(x)
    if a.ndim != 1:
        raise ValueError(
            f"{name}: expected a 1-D array of 0/1 or booleans, got shape {tuple(a.shape)}"
        )
    if a.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got 0 entries")
    if a.dtype == bool:
        return a
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{name}: expected 0/1 or booleans, got dtype {a.dtype}")
    vals = np.unique(a)
    if not np.all(np.isin(vals, (0, 1))):
        raise ValueError(f"{name}: expected only 0/1 values, got values {vals[:5].tolist()}...")
    return a.astype(bool)


def check_scores(scores: Any, name: str = "scores", *, n: int | None = None) -> np.ndarray:
    """Validate per-sample scores of shape ``(N,)``, finite; return float64."""
    a = check_array(scores, name, ndim=1)
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name}: expected {n} values (one per sample), got {a.shape[0]}")
    return a


def check_same_length(**arrays: Any) -> int:
    """Check that all given arrays have the same first dimension; return it."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise ValueError(f"mismatched lengths: expected equal first dimensions, got {desc}")
    return next(iter(lengths.values())) if lengths else 0


def _real(x: Any) -> float:
    """``float(x)`` for a real number; ``TypeError``/``ValueError`` for anything else (strings too)."""
    if isinstance(x, (str, bytes)) or np.ndim(x) != 0:
        raise TypeError(type(x).__name__)
    if np.iscomplexobj(x):
        raise TypeError("complex")
    return float(x)


def check_fraction(
    x: float, name: str, *, low: float = 0.0, high: float = 1.0, inclusive_high: bool = True
) -> float:
    """Check ``low <= x <= high`` (or ``< high``) and finiteness."""
    try:
        v = _real(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a number in [{low}, {high}], got {x!r}") from exc
    ok = np.isfinite(v) and v >= low and (v <= high if inclusive_high else v < high)
    if not ok:
        br = "]" if inclusive_high else ")"
        raise ValueError(f"{name}: expected a number in [{low}, {high}{br}, got {x!r}")
    return v


def check_positive(x: float, name: str, *, strict: bool = True) -> float:
    """Check ``x > 0`` (or ``>= 0`` when ``strict=False``) and finiteness."""
    try:
        v = _real(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a positive number, got {x!r}") from exc
    if not np.isfinite(v) or (v <= 0 if strict else v < 0):
        raise ValueError(
            f"{name}: expected a {'positive' if strict else 'non-negative'} number, got {x!r}"
        )
    return v


def check_number(x: Any, name: str) -> float:
    """Check that ``x`` is a finite real number (not a string, not NaN/inf); return it as float."""
    try:
        v = _real(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a finite number, got {x!r}") from exc
    if not np.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {x!r}")
    return v


def check_integer(x: Any, name: str, *, minimum: int | None = 1, maximum: int | None = None) -> int:
    """Check that ``x`` is an integer (an int, a numpy integer or an integral float such as
    ``2.0``; not a bool or a string) in ``[minimum, maximum]``; return it as int."""
    ok = not isinstance(x, (bool, np.bool_, str, bytes))
    if ok:
        try:
            v = _real(x)
            ok = bool(np.isfinite(v)) and v == int(v)
        except (TypeError, ValueError):
            ok = False
    if maximum is None and minimum in (0, 1):
        want = "a positive integer" if minimum == 1 else "a non-negative integer"
    else:
        lo = "-inf" if minimum is None else str(minimum)
        hi = "inf" if maximum is None else str(maximum)
        want = f"an integer in [{lo}, {hi}]"
    if not ok:
        raise ValueError(f"{name}: expected {want}, got {x!r}")
    i = int(v)
    if (minimum is not None and i < minimum) or (maximum is not None and i > maximum):
        raise ValueError(f"{name}: expected {want}, got {x!r}")
    return i


def check_num_classes(num_classes: Any, name: str = "num_classes", *, minimum: int = 2) -> int:
    """Check a class count ``C``: an integer ``>= minimum`` (2 by default)."""
    return check_integer(num_classes, name, minimum=minimum)


def check_ids(
    sample_ids: Any,
    name: str = "sample_ids",
    *,
    n: int | None = None,
    unique: bool = True,
    allow_empty: bool = False,
) -> np.ndarray:
    """Validate sample ids ``(N,)``: non-negative integers (unique by default); return int64."""
    ids = check_labels(sample_ids, name, n=n, allow_empty=allow_empty)
    if n is not None and len(ids) != n:  # pragma: no cover - check_labels checks it
        raise ValueError(f"{name}: expected {n} ids, got {len(ids)}")
    if unique and len(np.unique(ids)) != len(ids):
        raise ValueError(f"{name}: expected unique ids, got duplicates")
    return ids


def check_name(value: Any, name: str = "name") -> str:
    """Check a registry name: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a non-empty string, got {value!r}")
    return value


def check_choice(value: str, name: str, choices: Any) -> str:
    """Check that ``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")
    return value
