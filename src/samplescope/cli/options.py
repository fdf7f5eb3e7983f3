"""The CLI vocabulary: one declaration per concept, the same flag and help in every command.

Every command builds its options from these factories, so ``--samples`` means the number
of stochastic passes, ``--batch-size`` the training mini-batch and ``--out`` a folder
everywhere. :data:`VOCABULARY` is the table the README prints (flag → meaning); a test
checks that every flag of every command is in it and that the README agrees.

Nothing here imports torch, scipy or the library's heavy sub-packages: ``samplescope
--help`` must start fast. Names listed in help texts (noise kinds, methods, models) are
written out here and checked against their registries by a test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

__all__ = [
    "DATA_NAMES",
    "MODEL_HELP",
    "MODEL_NAMES",
    "NOISE_KINDS",
    "VOCABULARY",
    "check_out_dir",
    "default_epochs",
]

DATA_NAMES = ("digits", "mnist", "fashion-mnist")
NOISE_KINDS = ("symmetric", "pairflip", "asymmetric")
MODEL_NAMES = ("auto", "mlp", "cnn", "gal_cnn", "resnet")
MODEL_HELP = "auto | mlp | cnn | gal_cnn | resnet (auto: MLP for 8x8 inputs, small CNN otherwise)"

# flag -> meaning; the README "Command-line vocabulary" table is this, row for row.
VOCABULARY: dict[str, str] = {
    "--data": "built-in data set: digits | mnist | fashion-mnist (audit, label-issues, report:"
    " also a .csv/.parquet/.npz/.npy file or an image folder)",
    "--data-dir": "folder holding the data files (default $SAMPLESCOPE_DATA_DIR)",
    "--train-subset": "train on a random subset of this many training samples",
    "--noise": "label-noise rate in [0, 1) of the training labels",
    "--noise-kind": "symmetric | pairflip | asymmetric",
    "--imbalance": "head:tail class-size ratio >= 1 of the training split (1 = none)",
    "--model": MODEL_HELP + "; MC-dropout commands: MLP with dropout 0.5 or Gal's CNN",
    "--model-path": "a model.pt written by `samplescope train` (architecture included)",
    "--epochs": "training epochs (default: 30 for digits, 3 otherwise)",
    "--lr": "learning rate (Adam)",
    "--batch-size": "training mini-batch size",
    "--chunk-size": "samples per inference chunk (memory, not results)",
    "--samples": "S, stochastic passes: MC-dropout samples, ensemble members, TTA views",
    "--repeats": "R, independent repeats (seeds seed, seed+1, ...)",
    "--folds": "K of the K-fold cross-fitting",
    "--seed": "random seed",
    "--out": "output folder; each command writes named files into it",
    "--format": "table format of the per-sample results: parquet | csv",
    "--executor": "inprocess | process[:N] | dask[:N] | dask:tcp://HOST:PORT | ray[:ADDRESS]",
    "--address": "Dask scheduler or Ray address (alone it implies --executor dask)",
    "--workers": "worker processes of the process / dask executors",
    "--quiet": "no progress output",
    "--pool": "the pool of samples to score / query: a .csv/.parquet/.npz/.npy file or an image "
    "folder, labels not needed (score-pool: also synthetic:N)",
    "--n": "how many samples to query for labelling",
    "--answers": "a CSV / Parquet of answered queries: columns sample_id and label",
    "--budget": "stop querying once this many labels are known (0 = no budget)",
}


def default_epochs(data: str) -> int:
    """The one default of ``--epochs`` per data set: 30 for digits, 3 otherwise."""
    return 30 if data == "digits" else 3


def data_option(default: str | None = "digits", help: str | None = None) -> Any:
    return typer.Option(default, "--data", help=help or VOCABULARY["--data"])


def data_dir_option() -> Any:
    return typer.Option(None, "--data-dir", help=VOCABULARY["--data-dir"])


def train_subset_option() -> Any:
    return typer.Option(None, "--train-subset", help=VOCABULARY["--train-subset"])


def noise_option(*aliases: str, help: str | None = None) -> Any:
    return typer.Option(0.0, "--noise", *aliases, help=help or VOCABULARY["--noise"])


def noise_kind_option() -> Any:
    return typer.Option("symmetric", "--noise-kind", help=VOCABULARY["--noise-kind"])


def imbalance_option() -> Any:
    return typer.Option(1.0, "--imbalance", help=VOCABULARY["--imbalance"])


def model_option(help: str | None = None) -> Any:
    return typer.Option("auto", "--model", help=help or MODEL_HELP)


def model_path_option() -> Any:
    return typer.Option(None, "--model-path", help=VOCABULARY["--model-path"])


def epochs_option(help: str | None = None) -> Any:
    return typer.Option(None, "--epochs", help=help or VOCABULARY["--epochs"])


def lr_option(default: float = 1e-3) -> Any:
    return typer.Option(default, "--lr", help=VOCABULARY["--lr"])


def batch_size_option(default: int = 128) -> Any:
    return typer.Option(default, "--batch-size", help=VOCABULARY["--batch-size"])


def chunk_size_option(default: int = 256) -> Any:
    return typer.Option(default, "--chunk-size", help=VOCABULARY["--chunk-size"])


def samples_option(default: int = 20, *aliases: str, help: str | None = None) -> Any:
    return typer.Option(default, "--samples", *aliases, help=help or VOCABULARY["--samples"])


def repeats_option(default: int = 3, *aliases: str, help: str | None = None) -> Any:
    return typer.Option(default, "--repeats", *aliases, help=help or VOCABULARY["--repeats"])


def folds_option(default: int = 5) -> Any:
    return typer.Option(default, "--folds", help=VOCABULARY["--folds"])


def seed_option(help: str | None = None) -> Any:
    return typer.Option(0, "--seed", help=help or VOCABULARY["--seed"])


def out_option(default: str, files: str) -> Any:
    return typer.Option(Path(default), "--out", help=f"output folder ({files})")


def format_option() -> Any:
    return typer.Option("parquet", "--format", help=VOCABULARY["--format"])


def pool_option(default: str = "", help: str | None = None) -> Any:
    return typer.Option(default, "--pool", help=help or VOCABULARY["--pool"])


def n_option(default: int = 10, help: str | None = None) -> Any:
    return typer.Option(default, "--n", help=help or VOCABULARY["--n"])


def answers_option() -> Any:
    return typer.Option(..., "--answers", help=VOCABULARY["--answers"])


def budget_option() -> Any:
    return typer.Option(0, "--budget", help=VOCABULARY["--budget"])


def quiet_option() -> Any:
    return typer.Option(False, "--quiet", help=VOCABULARY["--quiet"])


def check_out_dir(out: Path, flag: str = "--out") -> Path:
    """Check an output folder before any long work: not a file name, creatable and writable.

    ``--out`` is a folder in every command; a value that looks like a file (``.parquet``,
    ``.csv``, ``.png`` ...) or an existing file is refused with the rule spelled out.
    """
    import os

    out = Path(out)
    if out.suffix.lower() in (
        ".parquet",
        ".csv",
        ".png",
        ".json",
        ".npz",
        ".npy",
        ".pt",
        ".txt",
        ".html",
    ):
        raise ValueError(
            f"{flag}: expected a folder (each command writes named files into it), got the "
            f"file name {str(out)!r}; pass its folder, e.g. --out {str(out.parent / out.stem)!r}"
        )
    if out.exists() and not out.is_dir():
        raise ValueError(f"{flag}: expected a folder, got the existing file {str(out)!r}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(
            f"{flag}: cannot create the folder {str(out)!r} ({exc.strerror})"
        ) from None
    if not os.access(out, os.W_OK):
        raise ValueError(f"{flag}: the folder {str(out)!r} is not writable")
    return out


def check_table_format(fmt: str, flag: str = "--format") -> str:
    """``parquet`` or ``csv`` (the suffix of the per-sample table)."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"{flag}: expected parquet or csv, got {fmt!r}")
    return fmt


def check_positive(value: int | float | None, flag: str, *, allow_none: bool = True) -> None:
    """``value`` > 0 (``None`` allowed for optional counts)."""
    if value is None and allow_none:
        return
    if value is None or not value > 0:
        raise ValueError(f"{flag}: expected a positive number, got {value!r}")


def check_model_name(model: str, flag: str = "--model") -> str:
    """``auto`` or a model kind (the input shape is checked once the data is loaded)."""
    return check_choice(model, MODEL_NAMES, flag)


def check_choice(value: str, choices: tuple[str, ...] | list[str], flag: str) -> str:
    if value not in choices:
        raise ValueError(f"{flag}: expected one of {list(choices)}, got {value!r}")
    return value
