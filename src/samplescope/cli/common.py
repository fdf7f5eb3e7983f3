"""Helpers shared by CLI commands: loading a data set with the usual corruption options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import typer

from .._validation import check_fraction
from ..data import Dataset, inject_label_noise, load_dataset, make_imbalanced

__all__ = ["PreparedData", "prepare_data", "echo"]


def echo(msg: str = "") -> None:
    typer.echo(msg)


@dataclass
class PreparedData:
    dataset: Dataset
    description: str


def prepare_data(
    name: str,
    *,
    data_dir: Path | None = None,
    noise: float = 0.0,
    noise_kind: str = "symmetric",
    imbalance: float = 1.0,
    imbalance_profile: str = "exponential",
    train_subset: int | None = None,
    seed: int = 0,
) -> PreparedData:
    """Load ``name`` and apply, in order: training subset, imbalance, label noise (train split only).

    The test split keeps its clean labels; with imbalance the test split is left balanced.
    Flag values are checked before anything is loaded (a ValueError naming the flag).
    """
    check_fraction(noise, "--noise", inclusive_high=False)
    if not np.isfinite(imbalance) or imbalance < 1.0:
        raise ValueError(f"--imbalance: expected a head:tail ratio >= 1, got {imbalance!r}")
    ds = load_dataset(name, data_dir)
    train = ds.train
    desc = [f"{ds.name}: {len(train)} train / {len(ds.test)} test"]
    if train_subset is not None and train_subset < len(train):
        if train_subset <= 0:
            raise ValueError(f"train_subset: expected a positive count, got {train_subset}")
        idx = np.sort(
            np.random.default_rng(seed).choice(len(train), size=train_subset, replace=False)
        )
        train = train.subset(idx)
        desc.append(f"subset {train_subset}")
    if imbalance != 1.0:
        idx = make_imbalanced(
            train.y, imbalance, imbalance_profile, seed, num_classes=ds.num_classes
        )
        train = train.subset(idx)
        counts = np.bincount(train.y, minlength=ds.num_classes)
        desc.append(
            f"imbalance {imbalance:g}:1 ({imbalance_profile}) -> {len(train)} samples, counts {counts.tolist()}"
        )
    if noise > 0:
        mapping = ds.name if noise_kind == "asymmetric" else None
        y_noisy, noisy = inject_label_noise(
            train.y, noise, noise_kind, ds.num_classes, seed, mapping=mapping
        )
        train = train.with_labels(y_noisy)
        desc.append(f"{noise_kind} noise {noise:g}: {int(noisy.sum())} noisy labels")
    ds = Dataset(ds.name, train, ds.test, ds.num_classes, ds.class_names)
    return PreparedData(ds, "; ".join(desc))


# Options shared by the commands that load a data set (one declaration, same help everywhere).
def data_option() -> typer.models.OptionInfo:
    return typer.Option("digits", "--data", help="digits | mnist | fashion-mnist")


def data_dir_option() -> typer.models.OptionInfo:
    return typer.Option(None, "--data-dir", help="folder with the .npz files")


def noise_option() -> typer.models.OptionInfo:
    return typer.Option(0.0, "--noise", help="label-noise rate injected into the training split")


def noise_kind_option() -> typer.models.OptionInfo:
    from ..data import NOISE_KINDS

    return typer.Option("symmetric", "--noise-kind", help=" | ".join(NOISE_KINDS))


def imbalance_option() -> typer.models.OptionInfo:
    return typer.Option(1.0, "--imbalance", help="imbalance ratio head:tail (1 = none)")


def train_subset_option() -> typer.models.OptionInfo:
    return typer.Option(None, "--train-subset", help="use a random subset of the training split")


def check_out_file(out: Path, suffixes: tuple[str, ...], flag: str = "--out") -> Path:
    """Check a result path before any long work: its suffix, and that its folder can be made.

    Returns the path; raises ``ValueError`` naming ``flag`` (wrong suffix, or a folder that
    cannot be created or written, e.g. under ``/proc``).
    """
    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise ValueError(
            f"{flag}: expected a file ending in {' or '.join(suffixes)}, got {str(out)!r}"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(
            f"{flag}: cannot create the folder {str(out.parent)!r} ({exc.strerror})"
        ) from None
    if not os.access(out.parent, os.W_OK):
        raise ValueError(f"{flag}: the folder {str(out.parent)!r} is not writable")
    return out
