"""Corruptions for the fuzz battery of the public API (tests/fuzz/test_fuzz_api.py).

A :class:`Case` is one public callable with a valid baseline call (``make()`` returns fresh
keyword arguments) and a description of its arguments (:class:`Arg`): what kind of value
each is (a float array, labels, a 0/1 outcome, a registry name, a data split, a model, a
scalar) and which of them share the sample axis. :func:`corruption` draws, with hypothesis,
one way to break one argument of a family:

==============  ==============================================================================
family          what is drawn
==============  ==============================================================================
``nonfinite``   NaN / +inf / -inf at a random position of a float array (or of ``data.x``)
``ndim``        one axis too many or too few
``trailing``    the class axis with one class, or a fixed feature axis one too wide
``empty``       zero samples
``dtype``       strings, an object array, complex numbers
``type``        ``None``, a string, a dict where an array (or model, data) goes
``length``      one argument one sample shorter than the others it must match
``range``       labels out of range (negative, ``>= C``, ``1.5``, NaN), 0/1 outcomes that are
                not 0/1, probabilities off the simplex
``name``        an unknown registry / choice name, or a non-string
``scalar``      a bad scalar parameter (``0``, ``-1``, ``1.5``, NaN, inf, a string)
==============  ==============================================================================

Every corruption must be rejected: ``ValueError`` naming the argument, or ``TypeError``
for a wrong type (families ``type``, ``dtype``, ``name``, ``scalar``).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from samplescope.data import DataSplit

#: examples tried per case id, and failing tests per case id (printed by tests/fuzz/conftest.py)
EXAMPLES: Counter[str] = Counter()
FAILURES: Counter[str] = Counter()

FAMILIES = (
    "nonfinite",
    "ndim",
    "trailing",
    "empty",
    "dtype",
    "type",
    "length",
    "range",
    "name",
    "scalar",
)
#: families where a TypeError is an acceptable answer
TYPE_FAMILIES = frozenset({"type", "dtype", "name", "scalar"})


# --- argument descriptions --------------------------------------------------------------------


@dataclass(frozen=True)
class Arg:
    """How to corrupt one argument.

    kind: ``"array"`` (float array), ``"labels"`` (ints in ``[0, classes)``), ``"binary"``
    (0/1 outcomes), ``"name"`` (a registry / choice name), ``"data"`` (a split: a
    :class:`DataSplit` or an ``(x, y)`` tuple), ``"model"`` (an ``nn.Module``), ``"int"``
    (a positive integer), ``"positive"`` (a positive number), ``"fraction"`` (in [0, 1]),
    ``"object"`` (anything else: only wrong types).
    """

    kind: str
    #: accepted dimensions (arrays); a corruption draws one outside this set
    ndims: tuple[int, ...] = (1,)
    #: the sample axis (length groups and ``empty``)
    n_axis: int = 0
    #: arrays with classes on the last axis: ``C -> 1`` is invalid
    classes: bool = False
    #: the last axis is fixed (features a model or another argument expects): ``D -> D + 1``
    fixed_trailing: bool = False
    #: rows on the simplex (probabilities): off-simplex values are invalid
    simplex: bool = False
    #: arguments sharing a group share the sample axis (``length``)
    group: str | None = "n"
    #: labels: the number of classes (``None``: no upper bound known to the callee)
    num_classes: int | None = None
    #: names accepted in the error message besides the parameter name
    aliases: tuple[str, ...] = ()
    #: ``None`` is a valid value (not a ``type`` corruption)
    optional: bool = False
    #: explicit bad values (kinds ``name`` / ``int`` / ``positive`` / ``fraction`` / ``object``)
    bad: tuple[Any, ...] | None = None
    #: families to leave out for this argument (with the reason in the case table)
    skip: frozenset[str] = frozenset()


def array(ndims: int | tuple[int, ...] = 1, **kw: Any) -> Arg:
    return Arg("array", ndims=(ndims,) if isinstance(ndims, int) else ndims, **kw)


def probs(**kw: Any) -> Arg:
    """Probabilities ``(N, C)``."""
    return Arg("array", ndims=(2,), classes=True, simplex=True, **kw)


def sprobs(**kw: Any) -> Arg:
    """Stochastic probabilities ``(S, N, C)``."""
    return Arg("array", ndims=(3,), n_axis=1, classes=True, simplex=True, **kw)


def logits(**kw: Any) -> Arg:
    """Logits ``(N, C)``."""
    return Arg("array", ndims=(2,), classes=True, **kw)


def labels(num_classes: int | None, **kw: Any) -> Arg:
    return Arg("labels", num_classes=num_classes, **kw)


def binary(**kw: Any) -> Arg:
    return Arg("binary", **kw)


def name(bad: tuple[Any, ...] = ("nope", "", 3, None), **kw: Any) -> Arg:
    return Arg("name", group=None, bad=bad, **kw)


def data(num_classes: int | None, **kw: Any) -> Arg:
    return Arg("data", num_classes=num_classes, **kw)


def model(**kw: Any) -> Arg:
    return Arg("model", group=None, **kw)


def integer(bad: tuple[Any, ...] = (0, -1, 1.5, float("nan"), "2"), **kw: Any) -> Arg:
    return Arg("int", group=None, bad=bad, **kw)


def positive(bad: tuple[Any, ...] = (0.0, -1.0, float("nan"), float("inf"), "x"), **kw: Any) -> Arg:
    return Arg("positive", group=None, bad=bad, **kw)


def fraction(bad: tuple[Any, ...] = (-0.1, 1.5, float("nan"), "x"), **kw: Any) -> Arg:
    return Arg("fraction", group=None, bad=bad, **kw)


def obj(bad: tuple[Any, ...] = (None, "abc", {"a": 1}), **kw: Any) -> Arg:
    return Arg("object", group=None, bad=bad, **kw)


@dataclass
class Case:
    """One public callable: ``call(**make())`` is a valid call; ``check(result, kwargs)``
    asserts its result is finite and of the right shape."""

    id: str
    call: Callable[..., Any]
    make: Callable[[], dict[str, Any]]
    args: dict[str, Arg]
    check: Callable[[Any, dict[str, Any]], None]
    #: training-based: fewer examples by default
    slow: bool = False

    def families(self) -> list[str]:
        fams = set()
        for a, spec in self.args.items():
            fams |= set(families_of(spec, self.args, a))
        return [f for f in FAMILIES if f in fams]


def _is_float_array(spec: Arg) -> bool:
    return spec.kind == "array"


def families_of(spec: Arg, args: dict[str, Arg], argname: str) -> list[str]:
    k = spec.kind
    out: list[str] = []
    grouped = spec.group is not None and any(
        o.group == spec.group and n != argname and o.kind in ("array", "labels", "binary", "data")
        for n, o in args.items()
    )
    if k == "array":
        out = ["nonfinite", "ndim", "empty", "dtype", "type"]
        if spec.classes or spec.fixed_trailing:
            out.append("trailing")
        if spec.simplex:
            out.append("range")
        if grouped:
            out.append("length")
    elif k in ("labels", "binary"):
        out = ["range", "ndim", "empty", "dtype", "type"]
        if grouped:
            out.append("length")
    elif k == "data":
        out = ["nonfinite", "ndim", "empty", "dtype", "type", "range", "length"]
        if spec.fixed_trailing:
            out.append("trailing")
    elif k == "name":
        out = ["name"]
    elif k == "model":
        out = ["type"]
    elif k in ("int", "positive", "fraction"):
        out = ["scalar"]
    elif k == "object":
        out = ["type"]
    return [f for f in out if f not in spec.skip]


# --- corruptions ----------------------------------------------------------------------------


@dataclass
class Corruption:
    """A corrupted call: the new keyword arguments, what was broken, which names may appear."""

    kwargs: dict[str, Any]
    family: str
    arg: str
    what: str
    names: tuple[str, ...]

    def __repr__(self) -> str:  # shown by hypothesis on failure
        return f"Corruption({self.family}: {self.arg} <- {self.what})"


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _like(orig: Any, new: np.ndarray) -> Any:
    """Return ``new`` in the container type of ``orig`` (torch tensors stay tensors)."""
    if hasattr(orig, "detach"):
        import torch

        if new.dtype.kind in "fiub":
            return torch.as_tensor(new)
        return new
    return new


def _inject_nonfinite(draw: Any, a: np.ndarray) -> tuple[np.ndarray, str]:
    a = np.array(a, dtype=np.float64 if a.dtype.kind != "f" else a.dtype, copy=True)
    val = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    pos = draw(st.integers(0, a.size - 1))
    a.flat[pos] = val
    return a, f"{val} at flat position {pos} of shape {a.shape}"


def _wrong_ndim(draw: Any, a: np.ndarray, ndims: tuple[int, ...]) -> tuple[Any, str]:
    options = []
    if a.ndim + 1 not in ndims and a.ndim + 1 <= 6:
        options += ["lead", "trail"]
    if a.ndim - 1 not in ndims and a.ndim >= 1:
        options.append("drop")
    if 0 not in ndims:
        options.append("scalar")
    how = draw(st.sampled_from(options))
    if how == "lead":
        return a[None], f"shape {(1, *a.shape)}"
    if how == "trail":
        return a[..., None], f"shape {(*a.shape, 1)}"
    if how == "drop":
        b = a[0] if a.ndim > 1 else a[:1].reshape(())
        return b, f"shape {b.shape}"
    return a.reshape(-1)[0].item(), "a scalar"


def _take(a: np.ndarray, axis: int, idx: Any) -> np.ndarray:
    return np.take(a, idx, axis=axis)


def _bad_dtype(draw: Any, a: np.ndarray) -> tuple[Any, str]:
    how = draw(st.sampled_from(["str", "object", "complex"]))
    if how == "str":
        return a.astype(str), "strings"
    if how == "object":
        b = np.empty(a.shape, dtype=object)
        b.flat[:] = list(a.flat)
        if b.size:
            b.flat[0] = "x"
        return b, "an object array"
    return a.astype(np.complex128) + 1j, "complex numbers"


def _bad_type(draw: Any, optional: bool, bad: tuple[Any, ...] | None = None) -> tuple[Any, str]:
    choices = list(bad) if bad is not None else [None, "abc", {"a": 1}]
    if optional:
        choices = [c for c in choices if c is not None]
    v = draw(st.sampled_from(choices))
    return copy.deepcopy(v), repr(v)


def _group_names(args: dict[str, Arg], group: str | None, argname: str) -> tuple[str, ...]:
    if group is None:
        return (argname,)
    return tuple(n for n, o in args.items() if o.group == group) + tuple(
        al for n, o in args.items() if o.group == group for al in o.aliases
    )


def _split_parts(v: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    if isinstance(v, DataSplit):
        return v.x, v.y, v.sample_id, "split"
    x, y = v[0], v[1]
    ids = v[2] if len(v) > 2 else None
    return _np(x), _np(y), None if ids is None else _np(ids), "tuple"


def _rebuild(draw: Any, x: np.ndarray, y: np.ndarray, ids: np.ndarray | None) -> Any:
    """A corrupted split as a DataSplit (when its lengths agree) or an (x, y) tuple."""
    n_ok = len(np.atleast_1d(x)) == len(np.atleast_1d(y)) if np.ndim(x) and np.ndim(y) else False
    if n_ok and np.ndim(y) == 1 and draw(st.booleans()):
        sid = np.arange(len(y), dtype=np.int64) if ids is None else ids[: len(y)]
        try:
            return DataSplit(x, y, sid)
        except ValueError:  # the dataclass refused it itself: fall back to the tuple form
            pass
    return (x, y)


def _label_out_of_range(draw: Any, y: np.ndarray, c: int | None) -> tuple[np.ndarray, str]:
    opts = ["negative", "half", "nan"] + (["too_big"] if c is not None else [])
    how = draw(st.sampled_from(opts))
    pos = draw(st.integers(0, len(y) - 1))
    if how == "negative":
        b = y.astype(np.int64).copy()
        b[pos] = -draw(st.integers(1, 3))
        return b, f"label {b[pos]} at {pos}"
    if how == "too_big":
        b = y.astype(np.int64).copy()
        b[pos] = c + draw(st.integers(0, 2))
        return b, f"label {b[pos]} >= C={c} at {pos}"
    b = y.astype(np.float64).copy()
    b[pos] = 1.5 if how == "half" else np.nan
    return b, f"label {b[pos]} at {pos}"


def _binary_out_of_range(
    draw: Any, y: np.ndarray, bad: tuple[Any, ...] | None = None
) -> tuple[np.ndarray, str]:
    b = y.astype(np.float64).copy()
    pos = draw(st.integers(0, len(b) - 1))
    b[pos] = draw(st.sampled_from(list(bad or (2.0, -1.0, 0.5, np.nan))))
    return b, f"outcome {b[pos]} at {pos}"


def _off_simplex(draw: Any, a: np.ndarray, n_axis: int) -> tuple[np.ndarray, str]:
    b = np.array(a, dtype=np.float64, copy=True)
    flat = b.reshape(-1, b.shape[-1])
    row = draw(st.integers(0, flat.shape[0] - 1))
    how = draw(st.sampled_from(["negative", "above_one", "unnormalised"]))
    if how == "negative":
        flat[row, 0] = -0.5
        flat[row, 1] += 0.5
    elif how == "above_one":
        flat[row, 0] = 1.5
    else:
        flat[row] *= 2.0
    return flat.reshape(b.shape), f"row {row} {how}"


def _choose_arg(draw: Any, case: Case, family: str) -> tuple[str, Arg]:
    names = [n for n, spec in case.args.items() if family in families_of(spec, case.args, n)]
    n = draw(st.sampled_from(names))
    return n, case.args[n]


@st.composite
def corruption(draw: Any, case: Case, family: str) -> Corruption:
    """Draw one corrupted call of ``case`` in ``family``."""
    kw = case.make()
    argname, spec = _choose_arg(draw, case, family)
    names = (argname, *spec.aliases)
    v = kw.get(argname)

    if spec.kind == "data":
        x, y, ids, _ = _split_parts(v)
        names = (argname, "x", "y", "labels", "data", *spec.aliases)
        if family == "nonfinite":
            xb, what = _inject_nonfinite(draw, x)
            kw[argname] = _rebuild(draw, xb.astype(x.dtype), y, ids)
        elif family == "ndim":
            which = draw(st.sampled_from(["x", "y"]))
            if which == "x":
                xb, what = _wrong_ndim(draw, x, (2, 3, 4, 5))
                kw[argname] = (xb, y)
            else:
                yb, what = _wrong_ndim(draw, y, (1,))
                kw[argname] = (x, yb)
            what = f"{which}: {what}"
        elif family == "trailing":
            xb = np.concatenate([x, x[..., :1]], axis=-1)
            kw[argname], what = _rebuild(draw, xb, y, ids), f"x of shape {xb.shape}"
        elif family == "empty":
            kw[argname] = _rebuild(draw, x[:0], y[:0], None if ids is None else ids[:0])
            what = "0 samples"
        elif family == "dtype":
            which = draw(st.sampled_from(["x", "y"]))
            if which == "x":
                xb, what = _bad_dtype(draw, x)
                kw[argname] = (xb, y)
            else:
                yb, what = _bad_dtype(draw, y)
                kw[argname] = (x, yb)
            what = f"{which}: {what}"
        elif family == "type":
            kw[argname], what = _bad_type(draw, spec.optional)
        elif family == "range":
            yb, what = _label_out_of_range(draw, y, spec.num_classes)
            kw[argname] = _rebuild(draw, x, yb, ids)
        elif family == "length":
            which = draw(st.sampled_from(["x", "y"]))
            xb, yb = (x[:-1], y) if which == "x" else (x, y[:-1])
            kw[argname], what = (xb, yb), f"len(x)={len(xb)}, len(y)={len(yb)}"
        else:  # pragma: no cover
            raise AssertionError(family)
        return Corruption(kw, family, argname, what, names)

    if family == "name" or family == "scalar" or (family == "type" and spec.bad is not None):
        val, what = _bad_type(draw, spec.optional, spec.bad)
        kw[argname] = val
        return Corruption(kw, family, argname, what, names)
    if family == "type":
        kw[argname], what = _bad_type(draw, spec.optional)
        return Corruption(kw, family, argname, what, names)

    a = _np(v)
    if family == "nonfinite":
        b, what = _inject_nonfinite(draw, a)
        kw[argname] = _like(v, b.astype(a.dtype) if a.dtype.kind == "f" else b)
    elif family == "ndim":
        b, what = _wrong_ndim(draw, a, spec.ndims)
        kw[argname] = _like(v, np.asarray(b)) if isinstance(b, np.ndarray) else b
    elif family == "trailing":
        if spec.classes:
            b = a[..., :1]
            if spec.simplex:
                b = np.ones_like(b)
        else:
            b = np.concatenate([a, a[..., :1]], axis=-1)
        kw[argname], what = _like(v, b), f"shape {b.shape}"
    elif family == "empty":
        b = _take(a, spec.n_axis, np.arange(0))
        kw[argname], what = _like(v, b), f"shape {b.shape}"
    elif family == "dtype":
        kw[argname], what = _bad_dtype(draw, a)
    elif family == "range":
        if spec.kind == "labels":
            b, what = _label_out_of_range(draw, a, spec.num_classes)
        elif spec.kind == "binary":
            b, what = _binary_out_of_range(draw, a, spec.bad)
        else:
            b, what = _off_simplex(draw, a, spec.n_axis)
        kw[argname] = _like(v, b)
    elif family == "length":
        others = [
            n
            for n, o in case.args.items()
            if o.group == spec.group and o.kind in ("array", "labels", "binary")
        ]
        b = _take(a, spec.n_axis, np.arange(a.shape[spec.n_axis] - 1))
        kw[argname], what = _like(v, b), f"{a.shape[spec.n_axis] - 1} samples"
        names = _group_names(case.args, spec.group, argname) + tuple(others)
    else:  # pragma: no cover
        raise AssertionError(family)
    return Corruption(kw, family, argname, what, names)


# --- result checks ----------------------------------------------------------------------------


def assert_finite(x: Any, where: str = "result") -> None:
    """Every number reachable in ``x`` (arrays, tensors, floats, dicts, tuples) is finite."""
    if x is None or isinstance(x, (str, bool, np.bool_)):
        return
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    if isinstance(x, dict):
        for k, v in x.items():
            assert_finite(v, f"{where}[{k!r}]")
        return
    if isinstance(x, (tuple, list)):
        for i, v in enumerate(x):
            assert_finite(v, f"{where}[{i}]")
        return
    if isinstance(x, (int, float, np.number, np.ndarray)):
        a = np.asarray(x)
        if a.dtype.kind in "fc":
            assert np.all(np.isfinite(a)), f"{where}: non-finite values {a}"
        return
    # other objects (models, tables, fitted estimators): nothing numeric to check here


def vec(n: int | Callable[[dict[str, Any]], int], *, dtype_kind: str | None = None) -> Callable:
    """Check: a finite ``(n,)`` array."""

    def check(res: Any, kw: dict[str, Any]) -> None:
        expected = n(kw) if callable(n) else n
        a = _np(res)
        assert a.shape == (expected,), f"expected shape ({expected},), got {a.shape}"
        if dtype_kind is not None:
            assert a.dtype.kind in dtype_kind, a.dtype
        assert_finite(a)

    return check


def shape(*dims: int) -> Callable:
    def check(res: Any, kw: dict[str, Any]) -> None:
        a = _np(res)
        assert a.shape == dims, f"expected shape {dims}, got {a.shape}"
        assert_finite(a)

    return check


def scalar(res: Any, kw: dict[str, Any]) -> None:
    assert np.ndim(res) == 0, f"expected a scalar, got {type(res).__name__}"
    assert_finite(float(res))


def finite(res: Any, kw: dict[str, Any]) -> None:
    assert_finite(res)


def each(check: Callable) -> Callable:
    """Apply ``check`` to every value of a dict / tuple result."""

    def run(res: Any, kw: dict[str, Any]) -> None:
        vals = res.values() if isinstance(res, dict) else res
        for v in vals:
            check(v, kw)

    return run


def isinstance_of(*types: type) -> Callable:
    def check(res: Any, kw: dict[str, Any]) -> None:
        assert isinstance(res, types), f"expected {types}, got {type(res).__name__}"
        assert_finite(getattr(res, "__dict__", None) and None)

    return check
