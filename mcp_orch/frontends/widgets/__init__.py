"""ipywidgets front end: ``CatalogBrowser``, ``DraftEditor`` and ``HistoryView``.

    >>> import mcp_orch as mo
    >>> from mcp_orch.frontends.widgets import CatalogBrowser, DraftEditor, HistoryView
    >>> CatalogBrowser(mo.Registry(workspace=ws))        # search, inspect, add to a draft
    >>> DraftEditor(ws.profile("cursor").draft)          # edit, validate, publish, deploy
    >>> HistoryView(ws.profile("cursor"))                # history, audit, rollback

The widgets are thin front ends, like the CLI: every button calls the one operation the CLI
command calls (``operations.drafts.add_server`` / ``remove_server`` / ``validate_draft``,
``operations.releases.publish``, ``deploy(dry_run=True)`` then ``deploy(artifact_id=)``,
``rollback``, ``config_history``, ``audit_log``) and shows its result with the library's own
notebook display; errors are drawn by ``frontends.render.error_html`` with hints that name the
widgets' fields. Each module's docstring maps its buttons to the operations and CLI commands.

The widgets stay in sync with no Reload or Refresh: each follows its workspace's change signal
(``ws.changes`` / ``ws.on_change``, :mod:`mcp_orch.core.signals`), which the library's writers
emit whoever calls them (another widget, the Python API in another cell, an MCP tool served in
this kernel). A DraftEditor shows a server the CatalogBrowser added at once; a HistoryView
updates after every publish, rollback or deploy of its profile. ``widget.close()`` stops that.
Feedback appears next to the button that caused it (CSS class ``mco-message``); a write that
would replace hand edits in a client's file shows the diff and waits for *Replace hand edits*
(``mco-confirm``). The main buttons carry stable CSS classes (``mco-add``, ``mco-validate``,
``mco-publish``, ``mco-preview``, ``mco-deploy``, ``mco-rollback``, ...) listed in each module.

They need ``ipywidgets`` (``pip install ".[notebook]"`` in the mcp-orch checkout). Without it this module still
imports; constructing a widget raises an ``ImportError`` that says how to install it. Nothing
here is imported by ``import mcp_orch``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["INSTALL_HINT", "CatalogBrowser", "DraftEditor", "HistoryView"]

INSTALL_HINT = (
    'pip install ".[notebook]" in the mcp-orch checkout (or pip install "ipywidgets>=8.1")'
)

try:
    import ipywidgets as _ipywidgets  # noqa: F401
except ImportError:
    _HAVE_IPYWIDGETS = False
else:
    _HAVE_IPYWIDGETS = True


class _NeedsIpywidgets:
    """Stand-in for a widget when ipywidgets is missing: using it says how to install it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = type(self).__name__
        raise ImportError(
            f"mcp_orch.frontends.widgets.{name} requires the ipywidgets Python package (version 8),\n"
            "which may be installed with mcp-orch's notebook extra:\n"
            f"    {INSTALL_HINT}\n"
            "or on its own with\n"
            '    pip install "ipywidgets>=8.1"\n'
            "Afterwards, you will need to restart your Python kernel.",
            name="ipywidgets",
        )


def _stand_in(name: str) -> type:
    return type(name, (_NeedsIpywidgets,), {"__doc__": f"Stand-in: {name} needs ipywidgets."})


if TYPE_CHECKING or _HAVE_IPYWIDGETS:
    from mcp_orch.frontends.widgets.catalog_browser import CatalogBrowser
    from mcp_orch.frontends.widgets.draft_editor import DraftEditor
    from mcp_orch.frontends.widgets.history_view import HistoryView
else:
    CatalogBrowser = _stand_in("CatalogBrowser")
    DraftEditor = _stand_in("DraftEditor")
    HistoryView = _stand_in("HistoryView")
