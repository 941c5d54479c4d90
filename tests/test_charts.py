"""Charts and interactive tables (mcp_orch/core/charts.py, mcp_orch/core/tables.py).

Charts are built from real workspaces: releases published, deployed and rolled back through the
public API, so the audit events are the ones a user gets. Each test reads the chart's spec (what
altair hands to Vega-Lite: encoded fields, data rows) and, where it matters, the offline display
(an SVG rendered in process). The probe chart probes a real server (mcp-server-time). Tables
are checked in the HTML a notebook receives: every row, and nothing loaded from the internet.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import mcp_orch as mo
from mcp_orch.core import tables
from mcp_orch.services.release.audit import current_actor

pytest.importorskip("altair")
pytest.importorskip("itables")

PY = sys.executable
CLI_WORDS = re.compile(r"(?<![\w-])--[a-z][a-z-]+|`mcp-orch [a-z]")
VEGALITE = re.compile(r"application/vnd\.vegalite\.v\d+[.+]json")


def rows(chart: Any) -> list[dict[str, Any]]:
    """The data rows of a chart's spec (altair puts inline data under ``datasets``)."""
    spec = chart.to_dict()
    if "datasets" not in spec:
        return []
    (values,) = spec["datasets"].values()
    return list(values)


def encoding(chart: Any) -> dict[str, Any]:
    return dict(chart.to_dict()["encoding"])


def releases(ws: mo.Workspace, registry: mo.Registry) -> None:
    """cursor/default: two releases, each deployed, then a rollback with deploy;
    vscode/default: one release, deployed. One of them by another actor."""
    cursor = ws.profile("cursor")
    registry.find("time").add_to(cursor)
    cursor.draft.publish(changelog="time").deploy()
    registry.find("fetch").add_to(cursor)
    cursor.draft.publish(changelog="time, fetch").deploy()
    cursor.rollback(deploy=True)
    vscode = ws.profile("vscode")
    registry.find("time").add_to(vscode)
    token = current_actor.set("alice")
    try:
        vscode.draft.publish(changelog="time").deploy()
    finally:
        current_actor.reset(token)


@pytest.fixture
def busy(ws: mo.Workspace, registry: mo.Registry) -> mo.Workspace:
    releases(ws, registry)
    return ws


# ---- audit activity --------------------------------------------------------------------------


def test_activity_counts_every_event_once_stacked_per_bucket(busy: mo.Workspace) -> None:
    frame = busy.audit.frame()
    chart = busy.audit.chart(by="action", every="1h")
    enc = encoding(chart)
    assert (enc["x"]["field"], enc["x"]["type"], enc["x2"]["field"]) == ("start", "temporal", "end")
    assert (enc["y"]["field"], enc["y2"]["field"]) == ("top", "bottom")
    assert (enc["color"]["field"], enc["color"]["type"]) == ("action", "nominal")
    assert chart.to_dict()["mark"]["type"] == "bar"

    data = rows(chart)
    # one row per (hour, action); every event counted once
    pairs = frame.select(pl.col("time").dt.truncate("1h"), "action").unique()
    assert len(data) == pairs.height
    assert sum(r["events"] for r in data) == frame.height == busy.audit.verify()
    counts = {a: n for a, n in frame.group_by("action").len().iter_rows()}
    by_action: dict[str, int] = {}
    for r in data:
        by_action[r["action"]] = by_action.get(r["action"], 0) + r["events"]
    assert by_action == counts
    assert {"publish": 3, "deploy": 4, "revert": 1}.items() <= counts.items()

    # the bars of one bucket stack from 0 without gaps or overlaps
    for start in {r["start"] for r in data}:
        stack = sorted((r["bottom"], r["top"], r["events"]) for r in data if r["start"] == start)
        assert stack[0][0] == 0
        assert all(top - bottom == n for bottom, top, n in stack)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(stack))


def test_activity_groups_by_client_profile_and_actor(busy: mo.Workspace) -> None:
    def groups(by: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in rows(busy.audit.chart(by=by)):
            out[r[by]] = out.get(r[by], 0) + r["events"]
        return out

    total = busy.audit.frame().height
    by_client = groups("client")
    # the signing key's event belongs to the workspace, not to a client
    assert set(by_client) == {"cursor", "vscode", "(workspace)"}
    assert by_client["cursor"] == 6 and by_client["vscode"] == 2
    assert sum(by_client.values()) == total

    by_profile = groups("profile")
    assert {"cursor/default": 6, "vscode/default": 2}.items() <= by_profile.items()
    assert encoding(busy.audit.chart(by="profile"))["color"]["title"] == "client/profile"

    by_actor = groups("actor")
    assert by_actor["alice"] == 2  # vscode's publish and deploy
    assert sum(by_actor.values()) == total and len(by_actor) == 2


def test_filters_and_views_chart_the_same_events(busy: mo.Workspace) -> None:
    deploys = busy.audit.chart(action="deploy", client="cursor")
    assert {r["action"] for r in rows(deploys)} == {"deploy"}
    assert sum(r["events"] for r in rows(deploys)) == 3
    view = busy.audit.query(client="cursor", action="deploy")
    assert rows(view.chart()) == rows(deploys)
    assert rows(busy.audit.chart(since="1h")) == rows(busy.audit.chart())


def test_buckets_of_a_day_span_the_whole_day(busy: mo.Workspace) -> None:
    (first, *_) = rows(busy.audit.chart(every="1d"))
    assert first["start"].endswith("T00:00:00+0000")
    start, end = (
        pl.Series([first[k]]).str.to_datetime("%Y-%m-%dT%H:%M:%S%z") for k in ("start", "end")
    )
    assert (end - start).item().total_seconds() == 86400


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"by": "server"}, "action, client, profile, actor"), ({"every": "1 day"}, "30m, 1h")],
)
def test_a_bad_grouping_or_bucket_is_a_usage_error_with_a_hint(
    busy: mo.Workspace, kwargs: dict[str, str], needle: str
) -> None:
    with pytest.raises(mo.UsageError) as err:
        busy.audit.chart(**kwargs)
    assert needle in err.value.hint
    assert not CLI_WORDS.search(err.value.message + err.value.hint)


def test_no_events_gives_an_empty_chart_that_says_so(ws: mo.Workspace) -> None:
    chart = ws.audit.chart()
    assert chart.to_dict()["title"] == "audit activity: no events"
    assert rows(chart) == []
    bundle = chart._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<svg")
    assert "no events" in bundle["image/svg+xml"]
    assert ws.audit.releases_chart().to_dict()["title"] == "releases per profile: no releases"


# ---- releases per profile --------------------------------------------------------------------


def test_releases_chart_has_a_row_per_profile_and_leaves_other_actions_out(
    busy: mo.Workspace,
) -> None:
    chart = busy.audit.releases_chart(every="1h")
    enc = encoding(chart)
    assert enc["row"]["field"] == "profile"
    assert enc["color"]["field"] == "action"
    assert enc["color"]["scale"]["domain"] == ["publish", "deploy", "revert"]
    got = {(r["profile"], r["action"]): r["events"] for r in rows(chart)}
    assert got == {
        ("cursor/default", "publish"): 2,
        ("cursor/default", "deploy"): 3,
        ("cursor/default", "revert"): 1,
        ("vscode/default", "publish"): 1,
        ("vscode/default", "deploy"): 1,
    }  # the key event is not a release


def test_a_profiles_history_charts_its_own_releases(busy: mo.Workspace) -> None:
    history = busy.profile("cursor").history()
    chart = history.chart(every="1h")
    assert chart.to_dict()["title"] == "releases of cursor/default"
    assert {r["profile"] for r in rows(chart)} == {"cursor/default"}
    assert sum(r["events"] for r in rows(chart)) == 6
    # the same rows as the workspace-wide chart has for this profile
    wide = [
        r for r in rows(busy.audit.releases_chart(every="1h")) if r["profile"] == "cursor/default"
    ]
    assert rows(chart) == wide
    empty = busy.profile("cursor", "work").history().chart()
    assert empty.to_dict()["title"] == "releases of cursor/work: no releases"


# ---- offline display -------------------------------------------------------------------------


def test_a_chart_displays_offline_as_vega_lite_plus_svg(busy: mo.Workspace) -> None:
    chart = busy.audit.chart(by="client")
    bundle = chart._repr_mimebundle_()
    (mime,) = [k for k in bundle if VEGALITE.fullmatch(k)]
    assert bundle[mime] == chart.to_dict()
    svg = bundle["image/svg+xml"]
    assert svg.lstrip().startswith("<svg") and "audit activity" in svg
    assert "cursor" in svg and "vscode" in svg  # the legend
    assert bundle["text/plain"] == "<chart: audit activity>"
    # nothing in the display loads anything from the internet
    text = json.dumps(bundle)
    assert "cdn.jsdelivr" not in text and "<script" not in text
    # altair's own chain methods keep the offline display
    wider = chart.properties(width=800)
    assert "image/svg+xml" in wider._repr_mimebundle_()
    assert wider.to_dict()["width"] == 800


def test_a_chart_saves_as_png_without_the_internet(busy: mo.Workspace, tmp_path: Path) -> None:
    target = tmp_path / "activity.png"
    busy.audit.chart().save(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_altair_a_chart_raises_a_typed_error_with_the_install_hint(
    busy: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "altair", None)  # what `import altair` meets when missing
    for build in (
        busy.audit.chart,
        busy.audit.releases_chart,
        busy.profile("cursor").history().chart,
        busy.audit.query().chart,
        mo.ProbeReport([]).chart,
    ):
        with pytest.raises(mo.MissingDependency) as err:
            build()
        assert isinstance(err.value, ImportError)  # guarded optional imports catch it too
        assert 'pip install ".[notebook]"' in err.value.hint
        assert "altair" in err.value.message
        assert not CLI_WORDS.search(err.value.message + err.value.hint)
    assert err.value.to_dict()["error"] == "MissingDependency"


def test_light_paths_never_import_altair_or_itables(tmp_path: Path) -> None:
    script = (
        "import sys, runpy\n"
        "import mcp_orch as mo\n"
        "ws = mo.Workspace(sys.argv[1])\n"
        "ws.audit.frame(); mo.Registry(workspace=ws).all(); ws.profile('cursor').history()\n"
        "sys.argv = ['mcp-orch', 'list-servers']\n"
        "try:\n"
        "    runpy.run_module('mcp_orch', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "heavy = {'altair', 'itables', 'vl_convert', 'narwhals'}\n"
        "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run(
        [PY, "-c", script, str(tmp_path / "light")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "LOADED []" in out


# ---- probe -----------------------------------------------------------------------------------


def test_probe_chart_of_a_real_server_shows_latency_and_tool_count() -> None:
    payload = {
        "mcpServers": {
            "time": {"command": PY, "args": ["-m", "mcp_server_time"]},
            "gone": {"command": "/nonexistent/mcp-server-gone", "args": []},
        }
    }
    report = mo.probe(payload, client="cursor", timeout=90)
    time = report["time"]
    assert time.ok and not report["gone"].ok

    chart = report.chart()
    enc = encoding(chart)
    assert enc["column"]["field"] == "measure"
    assert enc["column"]["sort"] == ["latency (ms)", "tools"]
    assert (enc["x"]["field"], enc["y"]["field"], enc["color"]["field"]) == (
        "value",
        "server",
        "status",
    )
    assert enc["y"]["sort"] == ["time", "gone (failed)"]  # config order
    assert chart.to_dict()["resolve"] == {"scale": {"x": "independent"}}
    got = {(r["server"], r["measure"]): (r["status"], r["value"]) for r in rows(chart)}
    assert got == {
        ("time", "latency (ms)"): ("ok", pytest.approx(time.latency_ms)),
        ("time", "tools"): ("ok", len(time.tools)),
        ("gone (failed)", "latency (ms)"): ("failed", None),
        ("gone (failed)", "tools"): ("failed", 0),
    }
    assert len(time.tools) >= 2
    svg = chart._repr_mimebundle_()["image/svg+xml"]
    assert "latency (ms)" in svg and "gone (failed)" in svg

    assert mo.ProbeReport([]).chart().to_dict()["title"] == "probe: no servers"


# ---- interactive tables ----------------------------------------------------------------------


def _data(html: str) -> list[list[Any]]:
    """The rows itables embeds in the table's HTML (DataTables reads them from ``data_json``)."""
    match = re.search(r'"data_json": ("(?:[^"\\]|\\.)*")', html)
    assert match, html[:500]
    return list(json.loads(json.loads(match.group(1))))


def _offline(html: str) -> None:
    """Nothing is loaded from the network (links to itables' help pages are only links)."""
    assert not re.search(r"""src=["']?https?://""", html)
    assert not re.search(r"""<link[^>]*href=["']?https?://""", html)
    assert not re.search(r"""import[^;]*from\s+["']https?://""", html)
    for cdn in ("unpkg", "cdn.", "jsdelivr", "cdnjs"):
        assert cdn not in html


@pytest.fixture
def fresh_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a new kernel: the DataTables library has not been shown yet."""
    monkeypatch.setattr(tables, "_library_sent", False)


def test_the_audit_table_holds_every_event_not_just_fifty(
    busy: mo.Workspace, fresh_kernel: None
) -> None:
    for n in range(70):
        busy.audit.append("import", client="cursor", profile="default", changelog=f"event {n}")
    total = busy.audit.verify()
    assert total > 70

    table = busy.audit.table()
    assert len(table) == total
    first = table._repr_html_()
    data = _data(first)
    assert sorted(row[0] for row in data) == list(range(1, total + 1))  # every seq, once
    assert "event 0" in first and "event 69" in first
    assert "audit: " + str(total) in first
    _offline(first)
    # the first table carries the DataTables library; the next ones on the page reuse it
    assert "injectModule" in first and len(first) > 500_000
    second = busy.audit.query(action="import").table()._repr_html_()
    assert "injectModule" not in second and len(second) < len(first) // 10
    assert len(_data(second)) == 70
    _offline(second)
    # a saved page always has the library
    assert "injectModule" in busy.audit.query(action="import").table().to_html()


def test_table_filters_and_itables_options_pass_through(busy: mo.Workspace) -> None:
    html = busy.audit.table(action="deploy", pageLength=5).to_html()
    assert {row[2] for row in _data(html)} == {"deploy"}
    assert '"pageLength": 5' in html


def test_the_catalog_table_has_every_server(registry: mo.Registry, fresh_kernel: None) -> None:
    servers = registry.all()
    assert len(servers) > 50  # more than the static display shows
    html = registry.table()._repr_html_()
    data = _data(html)
    assert sorted(row[0] for row in data) == sorted(servers.ids())
    _offline(html)
    # list columns read as text, as in the static display
    time = next(row for row in data if row[0] == "time")
    assert "stdio" in time
    part = registry.search("time").table().to_html()
    assert [row[0] for row in _data(part)] == registry.search("time").ids()


def test_without_itables_a_table_shows_the_static_html_and_says_how_to_get_more(
    registry: mo.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "itables", None)
    html = registry.table()._repr_html_()
    assert "<table" in html and "pip install &quot;.[notebook]&quot;" in html
    assert "more (showing 50 of" in html  # the static table's trim, with counts
    assert "DataTable" not in html
