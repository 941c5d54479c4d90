"""Charts of what mcp-orch recorded, built with altair from the polars frames, drawn offline.

    >>> ws.audit.chart(by="action", every="1d")          # activity: stacked bars over time
    >>> ws.audit.query(client="cursor").chart(by="actor")  # the same for any AuditView
    >>> ws.audit.releases_chart(every="1h")              # publishes, deploys, rollbacks per profile
    >>> ws.profile("cursor").history().chart()           # ... of one profile
    >>> mo.probe(draft).chart()                          # latency and tool count per server
    >>> chart.save("activity.png")                       # or .svg; .html with inline=True

Every function here takes a polars frame (the ``frame()`` of an audit log, a probe report) and
returns an altair chart; the classes' ``.chart()`` methods are one line each. altair is imported
only when a chart is built (``import mcp_orch`` and the CLI never load it); without it a chart
raises :class:`~mcp_orch.core.errors.MissingDependency` whose hint names the extra to install.

Offline display: altair's default notebook renderer loads vega from a CDN, and its ``html``
renderer does too, so neither draws anything without the internet. A chart made here is an
:class:`altair.Chart` whose notebook display is a MIME bundle holding the Vega-Lite spec (drawn
natively, with tooltips, by JupyterLab and VS Code) *and* an SVG rendered in process by
``vl-convert`` (shown wherever the spec is not understood: classic notebooks, exported HTML,
GitHub, the docs site). Nothing is fetched from the network. Without ``vl-convert`` the display
falls back to altair's own renderer. A chart stays an altair chart: ``.properties()``,
``.interactive()``, ``.save()`` and composing with ``+``/``|`` work as usual (a composed chart
displays through altair's active renderer; ``alt.renderers.enable("svg")`` keeps it offline).
"""

from __future__ import annotations

import functools
import logging
import re
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import MissingDependency, UsageError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ACTIVITY_BY", "RELEASE_ACTIONS", "activity", "offline_bundle", "probe", "releases"]

#: What ``chart(by=...)`` may group audit events by (``profile`` is ``client/profile``).
ACTIVITY_BY = ("action", "client", "profile", "actor")
#: The audit actions a release chart shows, in its colour order.
RELEASE_ACTIONS = ("publish", "deploy", "revert")
_RELEASE_COLOURS = ("#2471a3", "#1e8449", "#c0392b")
#: A bucket length: a count and a unit (minutes, hours, days, weeks, months), as polars spells it.
_EVERY = re.compile(r"[1-9]\d*(m|h|d|w|mo)")
#: Shown for events not tied to a client (key events) or without an actor.
WORKSPACE_LABEL = "(workspace)"

log = logging.getLogger("mcp_orch")


def altair() -> Any:
    """The ``altair`` module, or :class:`MissingDependency` with the install hint."""
    try:
        # optional dependency (the notebook extra), heavy (~0.5 s): only when a chart is built
        import altair as alt
    except ImportError:
        raise MissingDependency(
            "charts need altair, which is not installed",
            'install the notebook extra: pip install ".[notebook]" in the mcp-orch checkout (or pip install "altair>=5")',
        ) from None
    return alt


# -- audit activity ----------------------------------------------------------------------------
def activity(
    frame: pl.DataFrame, *, by: str = "action", every: str = "1d", title: str = "audit activity"
) -> Any:
    """Audit events over time as stacked bars: one bar per ``every`` (``30m``, ``1h``, ``1d``,
    ``1w``, ``1mo``), one colour per ``by`` (``action``, ``client``, ``profile``, ``actor``).

    ``frame`` is an audit frame (``AuditLog.frame()``, ``AuditView.frame()``). The chart's data
    has one row per bucket and group: ``start``, ``end`` (UTC), the group column and ``events``.
    No events gives an empty chart titled "…: no events", not an error.
    """
    alt = altair()
    if by not in ACTIVITY_BY:
        raise UsageError(
            f"cannot group audit events by {by!r}",
            f"group by one of: {', '.join(ACTIVITY_BY)}",
            inputs=("by",),
        )
    data = _buckets(_labelled(frame), by, every)
    label = {"profile": "client/profile"}.get(by, by)
    chart = (
        _chart_class()(data, title=_title(title, data, "no events"))
        .mark_bar()
        .encode(
            x=alt.X("start:T", title=f"time (UTC, per {every})", scale=alt.Scale(type="utc")),
            x2="end:T",
            y=alt.Y("top:Q", title="events"),
            y2="bottom:Q",
            color=alt.Color(f"{by}:N", title=label),
            tooltip=[
                alt.Tooltip(
                    "start:T", title="from (UTC)", format="%Y-%m-%d %H:%M", formatType="utc"
                ),
                alt.Tooltip(f"{by}:N", title=label),
                alt.Tooltip("events:Q"),
            ],
        )
        .properties(width=560, height=240)
    )
    return chart


# -- releases per profile ----------------------------------------------------------------------
def releases(frame: pl.DataFrame, *, every: str = "1d", title: str = "releases per profile") -> Any:
    """Publishes, deploys and rollbacks (``revert``) per profile over time: one row of stacked
    bars per ``client/profile``, one colour per action, one bar per ``every``.

    ``frame`` is an audit frame; other actions (key, import, sync, ...) are left out. The chart's
    data has one row per bucket, profile and action. No releases gives an empty chart titled
    "…: no releases".
    """
    import polars as pl  # (the frame is polars already; this only names its functions)

    alt = altair()
    data = _labelled(frame).filter(pl.col("action").is_in(list(RELEASE_ACTIONS)))
    data = _buckets(data, "action", every, extra=("profile",), order=RELEASE_ACTIONS)
    chart = (
        _chart_class()(data, title=_title(title, data, "no releases"))
        .mark_bar()
        .encode(
            x=alt.X("start:T", title=f"time (UTC, per {every})", scale=alt.Scale(type="utc")),
            x2="end:T",
            y=alt.Y("top:Q", title="events", axis=alt.Axis(tickMinStep=1)),
            y2="bottom:Q",
            color=alt.Color(
                "action:N",
                title="action",
                scale=alt.Scale(domain=list(RELEASE_ACTIONS), range=list(_RELEASE_COLOURS)),
            ),
            row=alt.Row(
                "profile:N",
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold"),
            ),
            tooltip=[
                alt.Tooltip("profile:N", title="client/profile"),
                alt.Tooltip(
                    "start:T", title="from (UTC)", format="%Y-%m-%d %H:%M", formatType="utc"
                ),
                alt.Tooltip("action:N"),
                alt.Tooltip("events:Q"),
            ],
        )
        .properties(width=520, height=70)
    )
    return chart


# -- probes ------------------------------------------------------------------------------------
#: The two panels of a probe chart: (frame column, panel title).
PROBE_MEASURES = (("latency_ms", "latency (ms)"), ("tool_count", "tools"))


def probe(frame: pl.DataFrame, *, title: str = "probe") -> Any:
    """Latency (start-up plus first response, in ms) and tool count per server, side by side,
    coloured by status; a failed server has no latency bar and shows ``(failed)`` by its name.

    ``frame`` is ``ProbeReport.frame()``. The chart's data has one row per server and measure
    (``server``, ``status``, ``measure``, ``value``). No servers gives "…: no servers".
    """
    import polars as pl  # (as for releases)

    alt = altair()
    servers = frame.select(
        pl.when(pl.col("ok"))
        .then(pl.col("server"))
        .otherwise(pl.col("server") + " (failed)")
        .alias("server"),
        pl.when(pl.col("ok")).then(pl.lit("ok")).otherwise(pl.lit("failed")).alias("status"),
        *(pl.col(col).cast(pl.Float64).alias(name) for col, name in PROBE_MEASURES),
    )
    names = [name for _, name in PROBE_MEASURES]
    data = servers.unpivot(
        index=["server", "status"], on=names, variable_name="measure", value_name="value"
    )
    order = servers["server"].to_list()  # config order, as the report lists them
    chart = (
        _chart_class()(data, title=_title(title, servers, "no servers"))
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=None, axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("server:N", title=None, sort=order),
            color=alt.Color(
                "status:N",
                title="status",
                scale=alt.Scale(domain=["ok", "failed"], range=["#1e8449", "#c0392b"]),
            ),
            column=alt.Column("measure:N", title=None, sort=names),
            tooltip=["server:N", "status:N", "measure:N", alt.Tooltip("value:Q", format=".0f")],
        )
        .properties(width=260, height=alt.Step(22))
        .resolve_scale(x="independent")
    )
    return chart


# -- shared ------------------------------------------------------------------------------------
def _title(title: str, data: pl.DataFrame, empty: str) -> str:
    return f"{title}: {empty}" if data.is_empty() else title


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """The audit frame with readable group labels: ``profile`` as ``client/profile``, and
    ``(workspace)`` where an event belongs to no client (key events) or has no actor."""
    import polars as pl  # (as for releases)

    none = pl.col("client").is_null() | (pl.col("client") == "")
    return frame.select(
        "time",
        "action",
        pl.when(none).then(pl.lit(WORKSPACE_LABEL)).otherwise(pl.col("client")).alias("client"),
        pl.when(none)
        .then(pl.lit(WORKSPACE_LABEL))
        .otherwise(pl.col("client") + "/" + pl.col("profile").fill_null(""))
        .alias("profile"),
        pl.col("actor").fill_null(WORKSPACE_LABEL).replace("", WORKSPACE_LABEL).alias("actor"),
    )


def _buckets(
    frame: pl.DataFrame,
    by: str,
    every: str,
    *,
    extra: tuple[str, ...] = (),
    order: tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """Count events per ``every`` bucket and group: ``start``, ``end``, the group columns,
    ``events``, and where each group's bar sits in its bucket's stack (``bottom``, ``top``).

    The stack is computed here, not by Vega-Lite, because a bar that spans its bucket (``x`` to
    ``x2``) is not stacked there. Groups stack in ``order`` (else alphabetically, as the legend)."""
    import polars as pl  # (as for releases)

    if not _EVERY.fullmatch(every):
        raise UsageError(
            f"cannot read the bucket length {every!r}",
            "use a count and a unit: 30m, 1h, 6h, 1d, 1w or 1mo",
            inputs=("every",),
        )
    keys = [*extra, by]
    rank = (
        pl.col(by).replace_strict(list(order), list(range(len(order))), default=len(order))
        if order
        else pl.col(by)
    )
    return (
        frame.with_columns(pl.col("time").dt.truncate(every).alias("start"))
        .group_by("start", *keys)
        .agg(pl.len().cast(pl.Int64).alias("events"))
        .sort("start", *extra, rank)
        .with_columns(
            pl.col("start").dt.offset_by(every).alias("end"),
            pl.col("events").cum_sum().over("start", *extra).alias("top"),
        )
        .select(
            "start",
            "end",
            *keys,
            "events",
            (pl.col("top") - pl.col("events")).alias("bottom"),
            "top",
        )
    )


# -- offline display ---------------------------------------------------------------------------
@functools.cache
def _chart_class() -> type:
    """``altair.Chart`` with the offline notebook display (made once, when altair is loaded)."""
    alt = altair()

    class Chart(alt.Chart):  # type: ignore[misc,name-defined]
        """An :class:`altair.Chart` that displays offline: the Vega-Lite spec plus an SVG."""

        def _repr_mimebundle_(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return offline_bundle(self)

    Chart.__module__ = __name__
    Chart.__qualname__ = "Chart"
    return Chart


def offline_bundle(chart: Any) -> dict[str, Any]:
    """The notebook display of ``chart`` without the internet: the Vega-Lite spec under its
    MIME type, an ``image/svg+xml`` rendering (vl-convert) and a one-line ``text/plain``.
    Never raises: a chart that cannot be drawn logs why and shows its text line."""
    title = getattr(chart, "title", None)
    text = f"<chart: {title if isinstance(title, str) else type(chart).__name__}>"
    try:
        alt = altair()
        spec = chart.to_dict()
        bundle: dict[str, Any] = {vegalite_mimetype(): spec, "text/plain": text}
    except Exception:  # a display must never raise
        log.exception("chart display failed")
        return {"text/plain": text}
    try:
        bundle["image/svg+xml"] = svg(spec)
    except ImportError:  # no vl-convert: altair's own renderer, as for any altair chart
        log.info("vl-convert-python is not installed: the chart has no offline SVG")
        try:
            return dict(alt.Chart._repr_mimebundle_(chart) or bundle)
        except Exception:
            return bundle
    except Exception:  # the spec still shows where Vega-Lite is understood
        log.exception("rendering the chart as SVG failed")
    return bundle


def vegalite_mimetype() -> str:
    """``application/vnd.vegalite.v6+json`` for altair's Vega-Lite major version.

    The Jupyter spelling (``+json``: the notebook format stores its data as JSON, and
    JupyterLab's renderers register that form); altair 6 names its own ``…v6.json``, which
    a notebook file can only hold as a string."""
    major = altair().SCHEMA_VERSION.lstrip("v").split(".")[0]
    return f"application/vnd.vegalite.v{major}+json"


def svg(spec: dict[str, Any]) -> str:
    """Render a Vega-Lite spec (``chart.to_dict()``) as SVG in process, with no network."""
    # optional dependency (the notebook extra): only when a chart is displayed
    import vl_convert as vlc

    alt = altair()
    version = "_".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return str(vlc.vegalite_to_svg(spec, vl_version=version))
