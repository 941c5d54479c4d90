"""Progress bars for probes: a terminal line on stderr, or an ipywidgets bar in a notebook."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from mcp_orch.services.probe.report import ServerProbe

if TYPE_CHECKING:
    pass


# ---- progress ----------------------------------------------------------------------------------


class _NoBar:
    def advance(self, result: ServerProbe) -> None:
        pass

    def close(self) -> None:
        pass


class _TerminalBar(_NoBar):
    """``probing [#####-----] 3/8 github ok`` redrawn in place on stderr."""

    def __init__(self, total: int, label: str, stream: Any) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.label, self.stream = label, stream
        self._draw("")

    def _draw(self, last: str) -> None:
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        failed = f", {self.failed} failed" if self.failed else ""
        line = f"\rprobing [{bar}] {self.done}/{self.total}{failed} {last}"[:120]
        self.stream.write(line.ljust(100))
        self.stream.flush()

    def advance(self, result: ServerProbe) -> None:
        self.done += 1
        self.failed += 0 if result.ok else 1
        self._draw(f"{result.server} {'ok' if result.ok else 'FAILED'}")

    def close(self) -> None:
        self.stream.write("\r" + " " * 100 + "\r")
        self.stream.flush()


class _WidgetBar(_NoBar):
    """An ipywidgets progress bar with a caption, shown in the notebook output."""

    def __init__(self, total: int, label: str) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self.total, self.done, self.failed = total, 0, 0
        self.bar = widgets.IntProgress(value=0, min=0, max=max(total, 1), description="probing")
        self.caption = widgets.Label(value=f"0/{total} {label}")
        self.box = widgets.HBox([self.bar, self.caption])
        display(self.box)

    def advance(self, result: ServerProbe) -> None:
        self.done += 1
        self.failed += 0 if result.ok else 1
        self.bar.value = self.done
        failed = f", {self.failed} failed" if self.failed else ""
        self.caption.value = f"{self.done}/{self.total}{failed} (last: {result.server})"
        if self.failed:
            self.bar.bar_style = "danger"

    def close(self) -> None:
        if self.bar.bar_style != "danger":
            self.bar.bar_style = "success"


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:
        return False
    return ip is not None and hasattr(ip, "kernel")


def progress_bar(total: int, label: str, progress: bool | None) -> _NoBar:
    if progress is False or total == 0 or (progress is None and total < 2):
        return _NoBar()
    if _in_notebook():
        try:
            return _WidgetBar(total, label)
        except ImportError:
            pass
    stream = sys.stderr
    if progress or (stream is not None and hasattr(stream, "isatty") and stream.isatty()):
        return _TerminalBar(total, label, stream)
    return _NoBar()
