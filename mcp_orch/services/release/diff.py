"""Structural diff between two server sets (artifacts, drafts, payloads or files on disk).

    >>> d = compare(old_artifact, new_artifact)        # any two ServerSets of one client
    >>> d.status, d.recommendation
    ('outdated', 'artifact sha256:0afe… is behind artifact sha256:9c1d…: publish or deploy …')
    >>> d.modified["github"]
    [{'field': 'env.GITHUB_TOKEN', 'old': '…', 'new': '…'}]
    >>> print(d)            # readable text; d.to_dict() for JSON

Field paths look like ``args[1]``, ``env.TOKEN``, ``headers.Authorization``. With ``secret_safe``
(the default of :func:`compare`, and always for files on disk) values of env vars and headers are
masked, and so is every secret the scanner flags anywhere else (a URL password or a token in
``args``): no output of a diff, text, JSON or HTML, holds a literal secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from mcp_orch.core.markup import badge, diff_block, diff_line, page, safe_html
from mcp_orch.core.text import mask, plural
from mcp_orch.domain.clients import all_env_fields, all_header_fields
from mcp_orch.domain.clients.payload import ServerSet
from mcp_orch.domain.secrets import mask_secrets

# Fields whose values are masked: the neutral env/headers and every client's own names for them.
_SECRET_GROUPS = frozenset({"env", "headers"} | all_env_fields() | all_header_fields())


def field_changes(
    old: Any, new: Any, prefix: str = "", secret_safe: bool = False
) -> list[dict[str, Any]]:
    """Leaf-level differences between two JSON values. With ``secret_safe``, every value the
    secret scanner flags is shown masked (a password in a URL argument, ``--api-key=...``, a
    ``--header "Authorization: Bearer ..."``, a token anywhere), and every env and header value
    is masked whole; the comparison itself is made on the real values."""
    if secret_safe:
        field = prefix.rpartition(".")[2]
        shown_old, shown_new = mask_secrets(old, field), mask_secrets(new, field)
    else:
        shown_old, shown_new = old, new
    return _changes(old, new, shown_old, shown_new, prefix, secret_safe)


def _changes(
    old: Any, new: Any, shown_old: Any, shown_new: Any, prefix: str, secret_safe: bool
) -> list[dict[str, Any]]:
    """``field_changes`` on the real values, reporting the values as shown (masked or not)."""
    out: list[dict[str, Any]] = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in new:
                out.append(_change(path, old[key], None, shown_old[key], None, secret_safe))
            elif key not in old:
                out.append(_change(path, None, new[key], None, shown_new[key], secret_safe))
            else:
                out += _changes(
                    old[key], new[key], shown_old[key], shown_new[key], path, secret_safe
                )
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            path = f"{prefix}[{i}]"
            if i >= len(new):
                out.append(_change(path, old[i], None, shown_old[i], None, secret_safe))
            elif i >= len(old):
                out.append(_change(path, None, new[i], None, shown_new[i], secret_safe))
            else:
                out += _changes(old[i], new[i], shown_old[i], shown_new[i], path, secret_safe)
    elif old != new:
        out.append(_change(prefix or "(value)", old, new, shown_old, shown_new, secret_safe))
    return out


def _change(
    path: str, old: Any, new: Any, shown_old: Any, shown_new: Any, secret_safe: bool
) -> dict[str, Any]:
    if secret_safe and path.split(".", 1)[0] in _SECRET_GROUPS:
        return {"field": path, "old": _mask_value(old), "new": _mask_value(new)}
    return {"field": path, "old": shown_old, "new": shown_new}


def _mask_value(value: Any) -> Any:
    """An env or header value masked whole (a reference is shown as it is)."""
    if isinstance(value, str) and not value.startswith("${"):
        return mask(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    return value


@dataclass
class Diff:
    """What changes from ``a`` (old) to ``b`` (new)."""

    added: dict[str, Any] = field(default_factory=dict)
    removed: dict[str, Any] = field(default_factory=dict)
    modified: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    status: str = "up-to-date"
    recommendation: str = "nothing to do"
    a: str = ""
    b: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.modified)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "status": self.status,
            "recommendation": self.recommendation,
            "added": sorted(self.added),
            "removed": sorted(self.removed),
            "modified": self.modified,
        }

    def __str__(self) -> str:
        lines = [f"{self.status}: {self.recommendation}", f"--- {self.a}", f"+++ {self.b}"]
        lines += [f"+ {n}" for n in sorted(self.added)]
        lines += [f"- {n}" for n in sorted(self.removed)]
        for name, changes in sorted(self.modified.items()):
            lines.append(f"~ {name}")
            for c in changes:
                lines.append(f"    {c['field']}: {c['old']!r} -> {c['new']!r}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Diff {self.status}: +{len(self.added)} -{len(self.removed)} ~{len(self.modified)}>"
        )

    def _counts(self) -> str:
        """``1 server added, 2 removed, 1 modified`` (``no changes`` when equal)."""
        if not self.changed:
            return "no changes"
        return (
            f"{plural(len(self.added), 'server')} added, {len(self.removed)} removed, "
            f"{len(self.modified)} modified"
        )

    def _repr_html_(self) -> str:
        def render() -> str:
            verdict = badge("ok" if self.status == "up-to-date" else "warning", self.status)
            head = (
                f"<div>{verdict}: {escape(self.recommendation)}<br>"
                f"<code>{escape(self.a)}</code> → <code>{escape(self.b)}</code> · "
                f"{escape(self._counts())}</div>"
            )
            lines = [diff_line(f"--- {self.a}", "file"), diff_line(f"+++ {self.b}", "file")]

            def more(total: int, shown: int) -> list[str]:
                return [diff_line(f"  … {total - shown} more", "")] if total > shown else []

            lines += [diff_line(f"+ {n}", "add") for n in sorted(self.added)[:100]]
            lines += more(len(self.added), 100)
            lines += [diff_line(f"- {n}", "del") for n in sorted(self.removed)[:100]]
            lines += more(len(self.removed), 100)
            for name, changes in sorted(self.modified.items())[:100]:
                lines.append(diff_line(f"~ {name}", "mod"))
                lines += [
                    diff_line(f"    {c.get('field')}: {c.get('old')!r} → {c.get('new')!r}", "")
                    for c in changes[:30]
                ]
                lines += more(len(changes), 30)
            lines += more(len(self.modified), 100)
            return page(head, diff_block(lines))

        return safe_html(render, self)


def compare(
    a: ServerSet, b: ServerSet, *, ancestor: bool = False, secret_safe: bool = True
) -> Diff:
    """Servers added / removed / modified from ``a`` to ``b``, with a status and advice.
    ``ancestor``: ``a`` is known to be an earlier release of ``b`` (so ``b`` is simply newer)."""
    sa, sb, la, lb = a.servers, b.servers, a.label, b.label
    d = Diff(a=la, b=lb)
    for name, entry in sb.items():
        if name not in sa:
            d.added[name] = entry
        elif sa[name] != entry:
            d.modified[name] = field_changes(sa[name], entry, secret_safe=secret_safe)
    for name, entry in sa.items():
        if name not in sb:
            d.removed[name] = entry
    if not d.changed:
        d.status, d.recommendation = "up-to-date", "nothing to do"
    elif ancestor or (not d.modified and not (d.added and d.removed)):
        d.status = "outdated"
        d.recommendation = f"{la} is behind {lb}: publish or deploy the newer config"
    else:
        d.status = "diverged"
        d.recommendation = (
            f"{la} and {lb} differ both ways: review the changes, then publish or roll back"
        )
    return d
