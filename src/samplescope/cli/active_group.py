"""The ``samplescope active`` command group and the registry names its help lists.

``active_cmds`` registers the simulation (``active --data ...``) as the group's callback,
``active_label_cmds`` the ``query`` / ``teach`` sub-commands.
"""

from __future__ import annotations

import typer

from .app import app

# written out so that --help needs no torch; a test checks them against the registry
ACQUISITIONS = (
    "least_confidence",
    "margin",
    "mean_std",
    "mutual_information",
    "predictive_entropy",
    "predictive_variance",
    "random",
    "variation_ratio",
)


# the batch-mode registry, written out for the same reason
BATCH_MODES = ("topk", "batchbald", "diverse", "power", "softmax", "softrank", "badge", "typiclust")


active_app = typer.Typer(
    help="Active learning: simulate curves (active --data ...), or query/teach with a person "
    "labelling (active query, active teach).",
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(active_app, name="active")
