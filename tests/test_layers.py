"""What the layered package promises beyond its import contract (see tests/test_import_contract.py):
the signed envelope's fields are listed once, and no hint below the front ends speaks one front
end's vocabulary (a CLI flag, a CLI command line)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import mcp_orch as mo
from mcp_orch.services.release.artifact import ENVELOPE_FIELDS, OPTIONAL_FIELDS, ArtifactRecord
from mcp_orch.services.release.verify import verify_artifact

PACKAGE = Path(mo.__file__).resolve().parent
CLI_WORDS = re.compile(r"(?<![\w-])--[a-z][a-z-]+|`mcp-orch [a-z]|\(CLI: ")


def test_the_envelope_is_built_stored_loaded_and_verified_from_one_field_list(
    ws: mo.Workspace,
) -> None:
    cursor = ws.profile("cursor")
    ws.registry().find("time").add_to(cursor)
    art = cursor.draft.publish(changelog="one")
    # time runs a PyPI package, so the release signs a lock (unresolved: the tests are offline)
    assert art.lock is not None and art.tools is None
    present = tuple(k for k in OPTIONAL_FIELDS if getattr(art, k) is not None)
    assert present == ("lock",)
    assert tuple(art.envelope()) == ENVELOPE_FIELDS + present
    made = ArtifactRecord.make_envelope(
        client=art.client,
        profile=art.profile,
        payload=art.payload,
        parent=art.parent,
        changelog=art.changelog,
        created=art.created,
        key_id=art.key_id,
        lock=art.lock,
        tools=art.tools,
    )
    assert made == art.envelope()
    stored = ws.store.get(art.artifact_id)
    assert tuple(stored.stored()["envelope"]) == ENVELOPE_FIELDS + present
    verify_artifact(stored, ws.keys)  # what was loaded from the one list still verifies

    # a release without a lock or tool pins has exactly the envelope it had before them
    remote = ws.profile("cursor", "remote")
    ws.registry().find("deepwiki").add_to(remote, transport="remote")
    bare = remote.draft.publish(changelog="no packages")
    assert bare.lock is None and bare.tools is None
    assert tuple(bare.envelope()) == ENVELOPE_FIELDS
    assert tuple(ws.store.get(bare.artifact_id).stored()["envelope"]) == ENVELOPE_FIELDS
    verify_artifact(ws.store.get(bare.artifact_id), ws.keys)
    signed = {k: getattr(art, k) for k in ENVELOPE_FIELDS if k not in ("type", "payload_digest")}
    assert tuple(ArtifactRecord.make_envelope(**signed)) == ENVELOPE_FIELDS


def _hint_strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants inside ``raise SomeError(...)`` and ``hint = ...`` assignments."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        parts: list[ast.AST] = []
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            parts = [*node.exc.args, *(k.value for k in node.exc.keywords)]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "hint" for t in node.targets
        ):
            parts = [node.value]
        for part in parts:
            for sub in ast.walk(part):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    found.append((sub.lineno, sub.value))
    return found


def test_no_error_below_the_front_ends_speaks_cli_vocabulary() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "frontends" or rel.name == "generate.py":
            continue  # front ends spell inputs their own way; the generator is a script
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, text in _hint_strings(tree):
            if CLI_WORDS.search(text):
                offenders.append(f"{rel}:{line}: {text!r}")
    assert offenders == []


def test_the_scan_sees_cli_vocabulary_in_a_hint() -> None:
    tree = ast.parse('raise NotFound("no such thing", "pass --client cursor")')
    assert [t for _, t in _hint_strings(tree) if CLI_WORDS.search(t)] == ["pass --client cursor"]
