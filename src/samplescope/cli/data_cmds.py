"""``samplescope datasets``."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import echo


@app.command("datasets")
def datasets_cmd(
    data_dir_opt: Path = typer.Option(
        None, "--data-dir", help="folder with the .npz files (default $SAMPLESCOPE_DATA_DIR)"
    ),
) -> None:
    """List the built-in data sets, their sizes and whether their files were found."""
    from ..data import DATA_ENV, data_dir, dataset_file, list_datasets

    d = data_dir(data_dir_opt)
    echo(f"data directory: {d if d is not None else f'(none: pass --data-dir or set {DATA_ENV})'}")
    echo(f"{'name':<15}{'train':>8}{'test':>8}{'classes':>9}  {'input':<12}status")
    for info in list_datasets():
        f = dataset_file(info.name, data_dir_opt)
        if info.filename is None:
            status = "embedded"
        elif f is not None and f.is_file():
            status = f"found ({f})"
        else:
            status = f"missing ({info.filename})"
        shape = "x".join(map(str, info.input_shape))
        echo(
            f"{info.name:<15}{info.n_train:>8}{info.n_test:>8}{info.num_classes:>9}  {shape:<12}{status}"
        )
