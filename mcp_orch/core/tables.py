"""Interactive tables: sortable, filterable, paged views of a polars frame (itables), offline.

    >>> ws.audit.table(since="30d")                 # every event of the window, 25 per page
    >>> mo.Registry().table()                        # the whole catalog
    >>> ws.audit.query(action="deploy").table(pageLength=50)   # itables options pass through
    >>> Table(frame, title="…").to_html()            # a page that works without the internet

A :class:`Table` holds the frame and shows it in a notebook with DataTables (through itables):
click a header to sort, type in the search box to filter, page through every row; nothing is
capped at 50 rows and nothing is downsampled. itables is optional (the notebook extra) and
imported only when a table is shown; without it the table shows as the static HTML table of
the other displays (trimmed, with counts) and says how to get the interactive one.

Offline: itables' default loads DataTables from a CDN. Here every table is made with
``connected=False``, and the first table a kernel shows carries the DataTables library itself
(~1 MB, once per kernel: later tables on the page reuse it, as itables'
``init_notebook_mode(connected=False)`` would). :meth:`Table.to_html` always includes it, so a
saved page stands alone.
"""

from __future__ import annotations

import itertools
from html import escape
from typing import TYPE_CHECKING, Any

from mcp_orch.core.markup import html_table, safe_html

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Table"]

#: Shown under the static table when itables is missing.
INSTALL_NOTE = 'install the notebook extra for a sortable, filterable table: pip install ".[notebook]" in the mcp-orch checkout'
#: DataTables options every table starts from (any can be overridden per table).
DEFAULTS: dict[str, Any] = {
    "maxBytes": 0,  # itables downsamples frames over 64 KB by default: show every row
    "pageLength": 25,
    "lengthMenu": [10, 25, 100, 500],
    "classes": "display compact",
    "scrollX": True,
    "display_logo_when_loading": False,
    "show_dtypes": False,  # the frame's schema is one `.frame().schema` away
}

_ids = itertools.count(1)
_library_sent = False  # has this process shown the DataTables library yet?


class Table:
    """A polars frame shown as an interactive table (sort, filter, pages), drawn offline.

    ``options`` are itables / DataTables options (``pageLength``, ``scrollY``,
    ``columnDefs``, ...); ``frame`` is kept as given, for further polars work.
    """

    def __init__(self, frame: pl.DataFrame, *, title: str = "", **options: Any) -> None:
        self.frame = frame
        self.title = title
        self.options = {**DEFAULTS, **options}

    def __repr__(self) -> str:
        return f"<Table {self.title or f'{self.frame.height} row(s)'}>"

    def __len__(self) -> int:
        return self.frame.height

    def _repr_html_(self) -> str:
        return safe_html(lambda: self._html(library=not _library_sent), self)

    def to_html(self) -> str:
        """The table as HTML that works on its own: with the DataTables library inlined (or
        the static table without itables). For a file or a page outside a notebook."""
        return self._html(library=True)

    def _html(self, *, library: bool) -> str:
        try:
            # optional dependency (the notebook extra), ~0.2 s: only when a table is shown
            import itables
            from itables.javascript import generate_init_offline_itables_html
        except ImportError:
            return self._static()
        frame = _displayable(self.frame)
        table = itables.to_html_datatable(
            frame,
            caption=self.title or None,
            connected=False,
            table_id=f"mcp-orch-table-{next(_ids)}",
            **self.options,
        )
        if not library:
            return table
        global _library_sent
        _library_sent = True
        return generate_init_offline_itables_html(itables.options.dt_bundle) + table

    def _static(self) -> str:
        return (
            html_table(self.frame.columns, self.frame.rows(), title=self.title)
            + f"<div class='mco'><i>{escape(INSTALL_NOTE)}</i></div>"
        )


def _displayable(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns joined with ", " (DataTables shows scalars; a list would print as JSON)."""
    import polars as pl  # (the frame is polars already; this only names its functions)

    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    if not lists:
        return frame
    return frame.with_columns(
        pl.col(name).cast(pl.List(pl.String)).list.join(", ") for name in lists
    )
