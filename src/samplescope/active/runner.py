"""Grids of active-learning runs (acquisitions × repeats) with resumable per-run checkpoints.

``run_grid`` runs each ``(acquisition, repeat)`` as an :class:`ActiveLoop` checkpointed
under ``out/runs/<label>_r<repeat>/`` and rewrites ``out/curves.csv`` (one row per
evaluated step: label, acquisition, repeat, n_labelled, n_acquired, accuracy, ...) after
every step, so an interrupted grid resumes where it stopped and its partial curves are
always on disk. ``labels_to_reach`` reads the labels needed for a target test error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_fraction, check_integer
from ..data.split import as_split
from ..io import atomic_path, atomic_write_json
from .loop import ActiveLoop

__all__ = ["RunSpec", "run_grid", "load_curves", "labels_to_reach", "plot_curves"]


@dataclass
class RunSpec:
    """One curve: ``label`` (e.g. the acquisition), the acquisition, and ActiveLoop kwargs."""

    label: str
    acquisition: str
    repeat: int = 0
    loop_kwargs: dict[str, Any] = field(default_factory=dict)
    learner_factory: Callable[[], Any] | None = None

    def __post_init__(self) -> None:
        from .acquisitions import get_acquisition

        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"label: expected a non-empty name, got {self.label!r}")
        get_acquisition(self.acquisition)
        self.repeat = check_integer(self.repeat, "repeat", minimum=0)
        if not isinstance(self.loop_kwargs, dict):
            raise ValueError(
                f"loop_kwargs: expected a dict of ActiveLoop arguments, got {self.loop_kwargs!r}"
            )
        import inspect

        # run_grid passes the learner, the splits, the acquisition, the checkpoint folder,
        # progress and on_step itself
        known = set(inspect.signature(ActiveLoop).parameters) - {
            "learner",
            "pool_split",
            "test",
            "acquisition",
            "checkpoint_dir",
            "progress",
            "on_step",
        }
        unknown = sorted(set(self.loop_kwargs) - known)
        if unknown:
            raise ValueError(f"loop_kwargs: unknown ActiveLoop arguments {unknown}")
        if self.learner_factory is not None and not callable(self.learner_factory):
            raise ValueError(f"learner_factory: expected a callable, got {self.learner_factory!r}")

    @property
    def run_name(self) -> str:
        return f"{self.label}_r{self.repeat}"


def load_curves(out: str | os.PathLike) -> pd.DataFrame:
    """All runs' histories under ``out/runs`` as one table (read from the checkpoints)."""
    import json

    if not isinstance(out, (str, os.PathLike)) or not Path(out).is_dir():
        raise ValueError(f"out: expected an existing run_grid folder, got {out!r}")
    rows = []
    for state in sorted(Path(out, "runs").glob("*/state.npz")):
        with np.load(state, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
        info = (
            json.loads((state.parent / "spec.json").read_text())
            if (state.parent / "spec.json").exists()
            else {}
        )
        for rec in meta["history"]:
            rows.append({"run": state.parent.name, **info, **rec})
    df = pd.DataFrame(rows)
    if len(df) and "initial" in df:
        df["n_acquired"] = df["n_labelled"] - df["initial"]
    return df


def _write_curves(out: Path) -> pd.DataFrame:
    df = load_curves(out)
    with atomic_path(out / "curves.csv") as tmp:
        df.to_csv(tmp, index=False)
    return df


def run_grid(
    specs: Sequence[RunSpec],
    learner_factory: Callable[[], Any],
    pool_split: Any,
    test: Any,
    out: str | os.PathLike,
    *,
    resume: bool = True,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    executor: Any = None,
    workers: int | None = None,
    address: str | None = None,
) -> pd.DataFrame:
    """Run every spec (skipping finished runs when ``resume``); return the curves table.

    ``executor`` (with ``workers``, ``address``) fans the runs out like every other fan-out of
    the library (None/"inprocess",
    "process", "dask", "ray" or any ``concurrent.futures.Executor``; see
    :func:`samplescope.executors.run_tasks`); ``learner_factory`` and the specs then travel to
    the workers (loky, Dask and Ray pickle closures with cloudpickle; a stdlib
    ``ProcessPoolExecutor`` needs top-level functions). Workers log with ``print`` unless
    ``log`` is None. Each run owns its checkpoint directory and ``curves.csv`` is rewritten
    atomically, so concurrent runs do not clash.
    """
    if isinstance(specs, (str, bytes)) or not isinstance(specs, Sequence) or not specs:
        raise ValueError(f"specs: expected a non-empty sequence of RunSpec, got {specs!r}")
    for i, spec in enumerate(specs):
        if not isinstance(spec, RunSpec):
            raise ValueError(f"specs[{i}]: expected a RunSpec, got {type(spec).__name__}")
    if not callable(learner_factory):
        raise ValueError(f"learner_factory: expected a callable, got {learner_factory!r}")
    pool_split = as_split(pool_split)  # checked once, before any run starts
    test = as_split(test)
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    if executor is None or executor == "inprocess":
        for spec in specs:
            _run_spec(learner_factory, pool_split, test, str(out), resume, progress, log, spec)
    else:
        from ..executors import run_tasks

        run_tasks(
            _run_spec,
            [(spec,) for spec in specs],
            executor,
            workers=workers,
            address=address,
            common=(
                learner_factory,
                pool_split,
                test,
                str(out),
                resume,
                False,
                None if log is None else _print_log,  # a worker prints; callables may not pickle
            ),
        )
    return _write_curves(out)


def _print_log(msg: str) -> None:
    print(msg, flush=True)


def _run_spec(
    learner_factory: Callable[[], Any],
    pool_split: Any,
    test: Any,
    out_dir: str,
    resume: bool,
    progress: bool,
    log: Callable[[str], None] | None,
    spec: RunSpec,
) -> None:
    """One checkpointed run of ``spec`` under ``out_dir/runs/<run_name>`` (a task of run_grid)."""
    out = Path(out_dir)
    run_dir = out / "runs" / spec.run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    kw = dict(spec.loop_kwargs)
    kw.setdefault("seed", spec.repeat)
    info = {
        "label": spec.label,
        "acquisition": spec.acquisition,
        "repeat": spec.repeat,
        "initial": kw.get("initial", 20),
    }
    atomic_write_json(run_dir / "spec.json", info)
    factory = spec.learner_factory or learner_factory
    loop = ActiveLoop(
        factory(),
        pool_split,
        test,
        acquisition=spec.acquisition,
        checkpoint_dir=run_dir,
        progress=progress,
        on_step=lambda _loop, _rec: _write_curves(out),
        **kw,
    )
    if resume and loop.load() and loop.done:
        return
    if log is not None:
        log(f"[{spec.run_name}] starting at step {loop.next_step}/{loop.steps}")
    loop.run(resume=resume)
    if log is not None and loop.history:
        last = loop.history[-1]
        log(f"[{spec.run_name}] done: {last['n_labelled']} labels, accuracy {last['accuracy']:.4f}")


def _check_curves(curves: Any, **columns: Any) -> None:
    if not isinstance(curves, pd.DataFrame):
        raise ValueError(
            f"curves: expected the DataFrame of load_curves, got {type(curves).__name__}"
        )
    for arg, col in (*columns.items(), ("curves", "repeat")):
        if not isinstance(col, str) or col not in curves.columns:
            raise ValueError(
                f"{arg}: expected a column of curves {list(curves.columns)}, got {col!r}"
            )


def labels_to_reach(
    curves: pd.DataFrame, error: float, *, by: str = "label", x: str = "n_acquired"
) -> dict[str, float]:
    """Per group, the smallest ``x`` where the repeat-averaged test error is ``<= error``.

    Only x values reached by every repeat of the group are averaged; NaN when never reached.
    """
    _check_curves(curves, by=by, x=x, y="accuracy")
    error = check_fraction(error, "error")
    out: dict[str, float] = {}
    for name, g in curves.groupby(by):
        n_rep = g["repeat"].nunique()
        mean = g.groupby(x).agg(acc=("accuracy", "mean"), n=("accuracy", "size"))
        mean = mean[mean["n"] == n_rep]
        hit = mean.index[(1 - mean["acc"]) <= error]
        out[str(name)] = float(hit.min()) if len(hit) else float("nan")
    return out


def plot_curves(
    curves: pd.DataFrame,
    path: str | os.PathLike,
    *,
    by: str = "label",
    x: str = "n_acquired",
    y: str = "accuracy",
    title: str = "",
) -> None:
    """Mean ± std over repeats of ``y`` vs ``x`` per group, saved to ``path`` (PNG)."""
    from ..io.figures import plt, save_figure

    _check_curves(curves, by=by, x=x, y=y)

    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6.5, 4.2))
    for name, g in curves.groupby(by):
        agg = g.groupby(x)[y].agg(["mean", "std", "size"])
        ax.plot(agg.index, agg["mean"], label=f"{name} (n={g['repeat'].nunique()})")
        ax.fill_between(
            agg.index,
            agg["mean"] - agg["std"].fillna(0),
            agg["mean"] + agg["std"].fillna(0),
            alpha=0.15,
        )
    ax.set_xlabel("acquired labels" if x == "n_acquired" else x)
    ax.set_ylabel(y)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)
