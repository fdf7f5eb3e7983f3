"""``samplescope active query`` / ``active teach``: active learning with a person labelling.

    samplescope active query --pool pool.csv --n 20 --out session/   # writes session/queries.csv
    # fill in the label column of session/queries.csv
    samplescope active teach --answers session/queries.csv          # adds them, queries again

The session folder holds ``state.npz`` (the pool's labelled / pending ids, written
atomically after every command), ``session.json`` (the pool file, the settings and the class
names in order of first answer) and ``queries.csv``. Every command retrains from scratch on
the labels so far, so a killed command loses nothing and can simply be rerun.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from .active_group import ACQUISITIONS, BATCH_MODES, active_app
from .common import echo
from .options import (
    answers_option,
    budget_option,
    check_choice,
    check_out_dir,
    check_positive,
    n_option,
    pool_option,
    quiet_option,
    samples_option,
    seed_option,
)

LEARNERS = ("auto", "logistic", "mlp", "cnn", "gal_cnn")
_SESSION = "session.json"


def _check_acquisition(name: str) -> str:
    from ..active import get_acquisition, list_acquisitions

    if name not in list_acquisitions(include_aliases=True):
        raise ValueError(f"--acquisition: expected one of {list(ACQUISITIONS)}, got {name!r}")
    return get_acquisition(name).name


def _learner(cfg: dict[str, Any], data: Any) -> Any:
    """The session's active learner over ``data`` (UserData), built from ``session.json``."""
    from ..active import ActiveLearner, BudgetStop, MCDropoutLearner, SklearnLearner

    n_classes = max(2, len(cfg["classes"]))
    shape = tuple(data.split.x.shape[1:])
    kind = cfg["model"]
    if kind == "auto":
        kind = "gal_cnn" if len(shape) == 3 and shape[-1] >= 16 else "mlp"
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression

        model: Any = SklearnLearner(
            LogisticRegression(max_iter=500),
            committee=cfg["samples"] if cfg["needs_samples"] else 1,
            num_classes=n_classes,
        )
    else:
        from ..models import gal_cnn, mlp, small_cnn

        def factory() -> Any:
            if kind == "mlp":
                return mlp(shape, n_classes, hidden=(256,), dropout=0.5)
            if len(shape) != 3:
                raise ValueError(f"--model: {kind} needs images (C, H, W), the pool has {shape}")
            if kind == "cnn":
                return small_cnn(n_classes, shape[0], shape[1], dropout=0.5)
            return gal_cnn(n_classes, shape[0], shape[1])

        model = MCDropoutLearner(
            factory, trainer="fast", updates=cfg["updates"], min_epochs=5,
            early_stop_loss=0.05, mc_samples=cfg["samples"],
        )  # fmt: skip
    return ActiveLearner(
        model,
        data.split,
        acquisition=cfg["acquisition"],
        batch_mode=cfg["batch_mode"],
        initial=cfg["init"],
        pool_subset=cfg["pool_subset"] or None,
        stopping=[BudgetStop(cfg["budget"])] if cfg["budget"] else None,
        seed=cfg["seed"],
    )


def _read_pool(cfg: dict[str, Any]) -> Any:
    from ..data import read_data

    try:
        return read_data(cfg["pool"], labelled=False)
    except ValueError as exc:
        raise ValueError(f"--pool: {exc}") from None


def _query(out: Path, cfg: dict[str, Any], learner: Any, data: Any, n: int) -> None:
    from ..active.query_files import write_queries

    ids = learner.query(n)
    learner.save(out / "state.npz")
    cfg["last_n"] = n
    (out / _SESSION).write_text(json.dumps(cfg, indent=1))
    path = write_queries(out, ids, data)
    pool = learner.pool
    if learner.stopped_by is not None:
        echo(
            f"stopping rule fired: {learner.stopped_by} ({pool.n_labelled} labels); no new queries"
        )
    echo(
        f"{len(ids)} queries -> {path} (fill in the label column, then: samplescope active "
        f"teach --answers {path}); labelled {pool.n_labelled}, pending {len(learner.pending)}, "
        f"unlabelled {pool.n_unlabelled - len(learner.pending)}"
    )


@active_app.command("query")
def query_cmd(
    pool: str = pool_option(),
    n: int = n_option(),
    out: Path = typer.Option(
        Path("active_session"),
        "--out",
        help="session folder (state.npz, session.json, queries.csv)",
    ),
    acquisition: str = typer.Option(
        "mutual_information", "--acquisition", help=f"one of {list(ACQUISITIONS)} or an alias"
    ),
    batch_mode: str = typer.Option("power", "--batch-mode", help=" | ".join(BATCH_MODES)),
    init: str = typer.Option("random", "--init", help="random | typiclust: the first query"),
    model: str = typer.Option(
        "auto",
        "--model",
        help=" | ".join(LEARNERS) + " (auto: mlp, or Gal's CNN for images of 16 px and more)",
    ),  # fmt: skip
    samples: int = samples_option(
        20, help="S: MC-dropout samples, or committee members (logistic)"
    ),
    updates: int = typer.Option(
        500, "--updates", help="at most this many Adam updates per retrain"
    ),
    pool_subset: int = typer.Option(
        0, "--pool-subset", help="candidates scored per query (0 = all)"
    ),
    budget: int = budget_option(),
    seed: int = seed_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Query the next samples to label from an unlabelled pool (starts or continues a session)."""
    for flag, v in (("--samples", samples), ("--updates", updates)):
        check_positive(v, flag, allow_none=False)
    for flag, v in (("--n", n), ("--pool-subset", pool_subset), ("--budget", budget)):
        if v < 0:
            raise ValueError(f"{flag}: expected a count >= 0, got {v}")
    if n == 0:
        raise ValueError("--n: expected at least 1 query, got 0")
    acq = _check_acquisition(acquisition)
    check_choice(batch_mode, BATCH_MODES, "--batch-mode")
    check_choice(init, ("random", "typiclust"), "--init")
    check_choice(model, LEARNERS, "--model")
    out = check_out_dir(out)
    if (out / _SESSION).exists():
        cfg = json.loads((out / _SESSION).read_text())
        if pool and Path(pool).resolve() != Path(cfg["pool"]).resolve():
            raise ValueError(f"--pool: {out} is a session over {cfg['pool']}, got {pool!r}")
    else:
        if not pool:
            raise ValueError("--pool: expected the pool file (CSV/Parquet/npz/npy/image folder)")
        if not Path(pool).exists():
            raise ValueError(f"--pool: no such file or folder {pool!r}")
        from ..active import get_acquisition

        cfg = {
            "pool": str(Path(pool).resolve()), "acquisition": acq, "batch_mode": batch_mode,
            "init": init, "model": model, "samples": samples, "updates": updates,
            "pool_subset": pool_subset, "budget": budget, "seed": seed, "classes": [],
            "needs_samples": get_acquisition(acq).stochastic,
        }  # fmt: skip
    data = _read_pool(cfg)
    learner = _learner(cfg, data)
    if (out / "state.npz").exists():
        learner.load(out / "state.npz")
    _query(out, cfg, learner, data, n)


@active_app.command("teach")
def teach_cmd(
    answers: Path = answers_option(),
    out: Path = typer.Option(
        None, "--out", help="session folder (default: the folder of --answers)"
    ),
    n: int = n_option(-1, help="queries to write next (default: as many as last time; 0 = none)"),
    quiet: bool = quiet_option(),
) -> None:
    """Add the labels of an answers file (sample_id, label) and query the next samples."""
    import numpy as np

    from ..active.query_files import read_answers

    if n < -1:
        raise ValueError(f"--n: expected a count >= 0, got {n}")
    if not Path(answers).is_file():
        raise ValueError(f"--answers: no such file {str(answers)!r}")
    out = Path(answers).parent if out is None else check_out_dir(out)
    if not (out / _SESSION).exists() or not (out / "state.npz").exists():
        raise ValueError(f"--out: {out} holds no active-learning session; run active query first")
    ids, labels = read_answers(answers)
    cfg = json.loads((out / _SESSION).read_text())
    for lab in labels:  # class names in order of first answer (stable across sessions)
        if lab not in cfg["classes"]:
            cfg["classes"].append(lab)
    data = _read_pool(cfg)
    state = out / "state.npz"
    learner = _learner(cfg, data).load(state)  # built for the class count after these answers
    known = np.isin(ids, learner.pool.universe)
    if not known.all():
        raise ValueError(f"--answers: sample ids not in the pool: {ids[~known][:5].tolist()}")
    new = np.isin(ids, learner.pool.unlabelled_ids)
    codes = np.array([cfg["classes"].index(lab) for lab in labels], dtype=np.int64)
    if len(cfg["classes"]) < 2 and n != 0:
        raise ValueError(
            f"--answers: the labels so far name one class {cfg['classes']}; a model needs two "
            "(add answers of another class, or pass --n 0 to only record these)"
        )
    learner.teach(ids[new], codes[new])
    echo(
        f"taught {int(new.sum())} labels ({int((~new).sum())} already known); classes {cfg['classes']}"
    )
    k = cfg.get("last_n", 10) if n == -1 else n
    if k == 0:
        learner.save(state)
        (out / _SESSION).write_text(json.dumps(cfg, indent=1))
        echo(f"saved; labelled {learner.pool.n_labelled}, pending {len(learner.pending)}")
        return
    _query(out, cfg, learner, data, k)
