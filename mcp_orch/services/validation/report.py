"""Findings and the validation report."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from html import escape
from typing import TYPE_CHECKING, Any, Literal

from mcp_orch.core.errors import InvalidConfig
from mcp_orch.core.markup import badge, page, safe_html, status
from mcp_orch.core.text import plural

if TYPE_CHECKING:
    import polars as pl

Severity = Literal["error", "warning", "suggestion"]
_ORDER = {"error": 0, "warning": 1, "suggestion": 2}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one server (or on the whole config when ``server`` is empty)."""

    code: str
    rule: str
    severity: Severity
    server: str
    message: str
    hint: str
    field: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.server}: " if self.server else ""
        at = f" [{self.field}]" if self.field else ""
        return f"{self.severity:<10} {self.code} {where}{self.message}{at}\n           hint: {self.hint}"


class ValidationReport:
    """Every finding of one check, most severe first."""

    def __init__(self, findings: list[Finding], *, client: str = "", target: str = "") -> None:
        self.findings = sorted(findings, key=lambda f: (_ORDER[f.severity], f.server, f.code))
        self.client = client
        self.target = target

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def suggestions(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "suggestion"]

    def raise_for_errors(self, what: str) -> ValidationReport:
        """The report itself when it has no errors, else ``InvalidConfig`` carrying it (the
        message names ``what`` and the first error; the hint is that error's hint)."""
        if self.ok:
            return self
        first = self.errors[0]
        raise InvalidConfig(
            f"{what} has {plural(len(self.errors), 'error')}; first: "
            f"{first.server + ': ' if first.server else ''}{first.message}",
            first.hint,
            report=self,
        )

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def summary(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        return (
            f"{verdict}: {plural(len(self.errors), 'error')}, {plural(len(self.warnings), 'warning')}, "
            f"{plural(len(self.suggestions), 'suggestion')}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "client": self.client,
            "target": self.target,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "suggestions": [f.to_dict() for f in self.suggestions],
        }

    def frame(self) -> pl.DataFrame:
        import polars as pl

        cols = ["code", "rule", "severity", "server", "message", "hint", "field"]
        return pl.DataFrame(
            {c: [getattr(f, c) for f in self.findings] for c in cols},
            schema={
                "code": pl.String,
                "rule": pl.String,
                "severity": pl.Enum(["error", "warning", "suggestion"]),
                "server": pl.String,
                "message": pl.String,
                "hint": pl.String,
                "field": pl.String,
            },
        )

    def __str__(self) -> str:
        lines = [f"{self.target or self.client}: {self.summary()}"]
        lines += [str(f) for f in self.findings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ValidationReport {'ok' if self.ok else 'FAILED'}: {self._counts()}>"

    def __bool__(self) -> bool:
        return self.ok

    def _counts(self) -> str:
        """``1 error, 2 warnings, 0 suggestions``."""
        return ", ".join(
            plural(len(items), word)
            for items, word in (
                (self.errors, "error"),
                (self.warnings, "warning"),
                (self.suggestions, "suggestion"),
            )
        )

    def _repr_html_(self) -> str:
        def render() -> str:
            out = [
                f"<div>{status(self.ok, 'ok' if self.ok else 'FAILED')}: "
                f"{escape(self._counts())} <i>{escape(self.target or self.client)}</i></div>"
            ]
            by_server: dict[str, list[Finding]] = {}
            for f in self.findings:
                by_server.setdefault(f.server or "(config)", []).append(f)
            for server, items in list(by_server.items())[:50]:
                out.append(f"<div><b>{escape(server)}</b><ul style='margin:2px 0'>")
                for f in items[:20]:
                    out.append(
                        f"<li style='text-align:left'>{badge(f.severity)} "
                        f"<code>{escape(f.code)}</code> {escape(f.message)}"
                        + (f" <code>[{escape(f.field)}]</code>" if f.field else "")
                        + f"<br><i>fix:</i> {escape(f.hint)}</li>"
                    )
                if len(items) > 20:
                    out.append(f"<li>… {len(items) - 20} more</li>")
                out.append("</ul></div>")
            if len(by_server) > 50:
                out.append(f"<i>… {plural(len(by_server) - 50, 'more server')}</i>")
            return page(*out)

        return safe_html(render, self)
