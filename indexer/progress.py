"""Progress bars for long runs on the terminal (rich); the app passes its own callback instead."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

LABELS = {"read": "读取与解析", "ocr": "文字识别（页）", "embed": "计算向量", "collect": "下载报告",
          "rederive": "按新版本重新解析"}


@contextmanager
def cli_progress(enabled: bool = True) -> Iterator:
    """A callback `(stage, done, total)` drawing one bar per stage on stderr, if it is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True, redirect_stdout=False) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(LABELS.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
