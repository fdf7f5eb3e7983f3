"""Executors for every fan-out; vectorised many-model training; streaming scoring."""

from .executors import EXECUTOR_NAMES, make_executor, run_tasks

__all__ = ["EXECUTOR_NAMES", "make_executor", "run_tasks"]
