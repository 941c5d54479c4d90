"""Deploy: verify, render secrets, merge into the client's own file, back up, write atomically.

    >>> deployment = profile.latest().deploy()            # the client's file under the root
    >>> profile.latest().deploy(dry_run=True).diff_text   # what would change, nothing written
    >>> profile.drift()                                   # hand edits since the last deploy
    >>> profile.restore()                                 # put the previous file back

Only the entries this workspace manages for the profile change; every other entry, every other
top-level key, comments and formatting stay as they were. An existing file that does not parse
is refused and left untouched. The previous file is copied to ``backups/`` first.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from mcp_orch.core.clock import iso, now_utc
from mcp_orch.core.errors import (
    ConflictError,
    FileChanged,
    FileError,
    MCPOrchError,
    MissingSecret,
    UsageError,
)
from mcp_orch.core.fs import decode_config, read_limited
from mcp_orch.core.ids import canonical, sha256_id
from mcp_orch.core.text import mask
from mcp_orch.domain.clients import (
    ClientSpec,
    bridge_env_forms,
    config_path,
    env_refs,
    from_native,
    header_env_forms,
    jsonc,
    server_map,
    substitute_refs,
    to_native,
    with_named_fields,
    wrap_remote,
)
from mcp_orch.domain.clients.dialects import (
    Parsed,
    apply_changes,
    read_config,
    read_edited,
    read_parsed,
)
from mcp_orch.domain.secrets import mask_entries
from mcp_orch.services.release.artifact import ArtifactRecord, Deployment
from mcp_orch.services.release.audit import default_actor
from mcp_orch.services.release.backups import plan_backup
from mcp_orch.services.release.context import ProfileParts
from mcp_orch.services.release.journal import Plan, changing, digest_of, run, target_lock
from mcp_orch.services.release.records import dump_records, load_records, records_path
from mcp_orch.services.release.verify import verify_artifact
from mcp_orch.services.secrets.store import DIR_ENV as SECRETS_DIR_ENV
from mcp_orch.services.secrets.store import SecretStore, launcher_path

#: A profile's ``secrets`` setting: how deploy writes secrets for a client that cannot expand
#: variables. ``launcher``: the entry runs ``mcp-orch exec``, which resolves the references
#: when the client starts the server (a client with its own prompted inputs, VS Code, gets
#: those instead); ``inline``: the values are written into the file; ``auto`` (unset): the
#: launcher (or the inputs) for the entries whose secrets are in the secret store, else inline.
SECRETS_MODES = ("auto", "launcher", "inline")


def secrets_setting(profile: ProfileParts) -> str:
    """The profile's ``secrets`` setting (``auto`` when unset, or when its draft cannot be
    read: a facade Profile has settings, any other ProfileParts is automatic)."""
    try:
        settings = getattr(profile, "settings", None)
    except MCPOrchError:
        return "auto"
    mode = settings.get("secrets") if isinstance(settings, dict) else None
    return mode if mode in SECRETS_MODES else "auto"


def render_secrets(
    spec: ClientSpec,
    entries: dict[str, dict[str, Any]],
    *,
    mode: str = "auto",
    stored: Collection[str] | None = None,
    unset: Callable[[str], str] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Turn ``${env:NAME}`` into the client's placeholder; for clients that cannot expand
    variables, into a launcher entry (``mcp-orch exec -- <command>``, the references kept)
    or into the value from the environment, as ``mode`` says (see :data:`SECRETS_MODES`;
    ``stored``: the names in the secret store, read from it when needed and not given).
    Returns (entries, resolved values). Every missing variable is reported at once, before
    anything is written; with ``unset`` (a preview), a missing variable's place gets
    ``unset(name)`` instead, and every entry is rendered as a deploy would render it once the
    variable is set. A client that no longer reads its file (``deployable`` is False: 5ire) is
    refused here, before any write."""
    if not spec.deployable:
        raise UsageError(
            f"{spec.name} no longer reads servers from its config file ({spec.limits}); "
            "nothing was written",
            f"add the servers in {spec.name} itself; `check` and import still read the file",
        )
    entries = {n: with_named_fields(spec, n, e) for n, e in entries.items()}
    names: set[str] = set()

    def in_store() -> set[str]:
        if not names:
            names.update(stored if stored is not None else SecretStore().names())
            names.add("")  # read once, even when the store is empty
        return names

    def secure(entry: dict[str, Any]) -> set[str]:
        """The references of ``entry`` that go the secure way (launcher or inputs)."""
        refs = set(env_refs(entry))
        if not refs or mode == "inline":
            return set()
        return refs if mode == "launcher" else refs & in_store()

    if spec.placeholder is not None:
        out = {}
        for n, e in entries.items():
            prompted = secure(e) if spec.input_placeholder else set()
            out[n] = substitute_refs(
                e,
                lambda v, p=prompted: (
                    (spec.input_for(v) if v in p else spec.placeholder_for(v)) or v
                ),
            )
        return out, []
    entries = {n: pass_through(spec, e) for n, e in entries.items()}
    launched = {n: launch_entry(spec, e) for n, e in entries.items() if secure(e)}
    inline = {n: e for n, e in entries.items() if n not in launched}
    missing = sorted({v for e in inline.values() for v in env_refs(e) if v not in os.environ})
    if missing and unset is None:
        raise MissingSecret(
            f"{spec.name} cannot expand variables, and {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set; nothing was written",
            f"export {missing[0]}=... and deploy again, or store it in the secret store so "
            "the entry runs the launcher, which reads it when the client starts the server",
        )
    resolved: list[str] = []

    def value(name: str) -> str:
        if name not in os.environ and unset is not None:
            return unset(name)
        resolved.append(os.environ[name])
        return os.environ[name]

    return {
        n: launched[n] if n in launched else substitute_refs(e, value) for n, e in entries.items()
    }, resolved


def launch_entry(spec: ClientSpec, entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` run through the launcher: its command becomes the installed ``mcp-orch``
    with ``exec --`` and the original command line after it; its references stay references
    (the launcher resolves them from the secret store or its environment as the server
    starts). A remote entry with secrets (headers) becomes an ``mcp-remote`` bridge first, so
    the secrets travel in the bridge's environment, never in the file."""
    s = spec.stdio
    if s.command not in entry and not (s.command_array and isinstance(entry.get(s.command), list)):
        entry = to_native(spec, wrap_remote(from_native(spec, entry)))
    entry = dict(entry)
    exe = launcher_path()
    folder = os.environ.get(SECRETS_DIR_ENV)
    if folder and isinstance(entry.get(s.env, {}), dict):  # a store elsewhere: say where
        entry[s.env] = {**entry.get(s.env, {}), SECRETS_DIR_ENV: folder}
    if s.command_array:
        entry[s.command] = [exe, "exec", "--", *list(entry.get(s.command) or [])]
        return entry
    command, args = entry.get(s.command), list(entry.get(s.args) or [])
    entry[s.command] = exe
    entry[s.args] = ["exec", "--", command, *args]
    return entry


def pass_through(spec: ClientSpec, entry: dict[str, Any]) -> dict[str, Any]:
    """For clients that name variables instead of expanding them (Codex ``env_vars``,
    ``bearer_token_env_var``, ``env_http_headers``; Goose ``env_keys``; Mistral Vibe
    ``api_key_env``): move references into those fields, so the secret stays in the environment
    instead of being written into the file (see ``header_env_forms``, ``bridge_env_forms``)."""
    entry = bridge_env_forms(spec, dict(entry))
    if spec.env_passthrough and isinstance(entry.get(spec.stdio.env), dict):
        env = dict(entry[spec.stdio.env])
        names = list(entry.get(spec.env_passthrough) or [])
        for key, value in list(env.items()):
            if value == "${env:" + key + "}":
                del env[key]
                names.append(key)
        if names:
            entry[spec.env_passthrough] = list(dict.fromkeys(names))
        if env:
            entry[spec.stdio.env] = env
        else:
            entry.pop(spec.stdio.env)
    return header_env_forms(spec, entry)


def input_ids(spec: ClientSpec, entries: dict[str, dict[str, Any]]) -> list[str]:
    """The ids of the client's prompted inputs (``${input:ID}``) the entries use."""
    if not spec.input_placeholder:
        return []
    head, _, tail = spec.input_placeholder.partition("NAME")
    pattern = re.compile(re.escape(head) + r"([A-Za-z_][A-Za-z0-9_]*)" + re.escape(tail))
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.extend(pattern.findall(value))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(entries)
    return sorted(set(found))


def merge_inputs(spec: ClientSpec, text: str, entries: dict[str, dict[str, Any]], name: str) -> str:
    """``text`` with a password input (``promptString``) in the client's inputs list for each
    input the entries use; the user's own inputs, and the ones already there, stay as they
    are (an input is matched by its id). Unchanged when nothing is missing."""
    ids = input_ids(spec, entries)
    if not ids or not spec.inputs_key or spec.dialect not in ("json", "jsonc"):
        return text
    data = read_config(spec, text, name, strict=False) if text.strip() else {}
    have = data.get(spec.inputs_key) if isinstance(data, dict) else None
    current = list(have) if isinstance(have, list) else []
    known = {i.get("id") for i in current if isinstance(i, dict)}
    added = [
        {
            "type": "promptString",
            "id": i,
            "description": f"{i} (a secret mcp-orch deployed; VS Code keeps it encrypted)",
            "password": True,
        }
        for i in ids
        if i not in known
    ]
    if not added:
        return text
    if not text.strip():
        text = "{}\n"
    return jsonc.edit_map(text, (), {spec.inputs_key: current + added}, name)


def entry_digest(entry: Any) -> str:
    return sha256_id(canonical(entry))


def target_path(
    profile: ProfileParts,
    path: str | os.PathLike[str] | None,
    scope: str = "user",
    project_dir: str | os.PathLike[str] | None = None,
) -> Path:
    if path is not None:
        return Path(path).expanduser().absolute()
    return Path(
        config_path(
            profile.client,
            root=profile.workspace.client_root,
            scope=scope,
            project_dir=project_dir,
        )
    )


def _mask_text(text: str, secrets: list[str], *entry_maps: dict[str, Any]) -> str:
    """``text`` with each resolved secret, and each literal secret the scanner flags in the
    entries (old and new), replaced by its mask."""
    pairs = {s: mask(s) for s in secrets if s}
    for entries in entry_maps:
        _masked_pairs(entries, mask_entries(entries), pairs)
    for value in sorted(pairs, key=len, reverse=True):
        text = text.replace(value, pairs[value])
    return text


def _masked_pairs(value: Any, masked: Any, out: dict[str, str]) -> None:
    if isinstance(value, str) and isinstance(masked, str):
        if value != masked and len(value) >= 4:
            out[value] = masked
    elif isinstance(value, dict) and isinstance(masked, dict):
        for k, v in value.items():
            _masked_pairs(v, masked.get(k), out)
    elif isinstance(value, list) and isinstance(masked, list):
        for v, m in zip(value, masked, strict=False):
            _masked_pairs(v, m, out)


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> tuple[str, tuple[int, int]]:
    """``difflib.unified_diff`` of two texts (3 lines of context), and the character range of
    ``old`` its lines come from. The lines both texts share at their start and end are set
    aside first (a deploy changes a few entries of a file that may hold thousands), so the
    matcher compares only what lies between; the hunk headers count lines of the whole file."""
    if not _OTHER_BREAKS.search(old) and not _OTHER_BREAKS.search(new):
        return _diff_between(old, new, old_name, new_name)
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    n = min(len(a), len(b))
    head = 0
    while head < n and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < n - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    lo = max(0, head - 3)
    hi_a, hi_b = min(len(a), len(a) - tail + 3), min(len(b), len(b) - tail + 3)
    lines = list(difflib.unified_diff(a[lo:hi_a], b[lo:hi_b], old_name, new_name))
    if lo:
        lines = [_shift_hunk(line, lo) if line.startswith("@@") else line for line in lines]
    start = sum(map(len, a[:lo]))
    return "".join(lines), (start, start + sum(map(len, a[lo:hi_a])))


#: Line breaks other than "\n" that ``str.splitlines`` (and so the diff) also breaks at.
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CHUNK = 1 << 16


def _same_start(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` share at their start (compared a chunk at a time,
    then halving inside the chunk that differs)."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i : i + _CHUNK] == b[i : i + _CHUNK]:
        i += _CHUNK
    lo, hi = i, min(n, i + _CHUNK)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[i:mid] == b[i:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _diff_between(old: str, new: str, old_name: str, new_name: str) -> tuple[str, tuple[int, int]]:
    """:func:`unified_diff` for texts whose only line break is "\n": the shared start and end
    are found on the characters, and only the lines between (with 3 of context) are split."""
    n = min(len(old), len(new))
    head = old.rfind("\n", 0, _same_start(old, new)) + 1  # the start of the first other line
    back = _same_start(old[::-1], new[::-1]) if n else 0
    back = min(back, n - head)
    # whole lines of the shared end: from after its first newline (a newline inside the shared
    # end is one in both texts)
    end_a = old.find("\n", len(old) - back) if back else -1
    tail_a = len(old) if end_a < 0 else end_a + 1
    shared_tail = len(old) - tail_a if back else 0
    lo_char = head
    for _ in range(3):  # three lines of context before
        if lo_char == 0:
            break
        lo_char = old.rfind("\n", 0, lo_char - 1) + 1
    hi_a, hi_b = len(old) - shared_tail, len(new) - shared_tail
    for _ in range(3):  # and after
        nxt = old.find("\n", hi_a)
        if nxt < 0 or hi_a >= len(old):
            hi_a, hi_b = len(old), len(new)
            break
        step = nxt + 1 - hi_a
        hi_a, hi_b = hi_a + step, hi_b + step
    a = old[lo_char:hi_a].splitlines(keepends=True)
    b = new[lo_char:hi_b].splitlines(keepends=True)
    lines = list(difflib.unified_diff(a, b, old_name, new_name))
    lo = old.count("\n", 0, lo_char)
    if lo:
        lines = [_shift_hunk(line, lo) if line.startswith("@@") else line for line in lines]
    return "".join(lines), (lo_char, hi_a)


def _shift_hunk(header: str, by: int) -> str:
    """A hunk header of a diff of lines from ``by`` on, counted from the file's first line."""
    old, new = header[3:].split(" @@", 1)[0].split(" ")

    def moved(part: str) -> str:
        first, comma, count = part[1:].partition(",")
        return f"{part[0]}{int(first) + by}{comma}{count}"

    return f"@@ {moved(old)} {moved(new)} @@\n"


def _shown_entries(
    spec: ClientSpec, parsed: Parsed, current: dict[str, Any], shown: tuple[int, int]
) -> dict[str, Any]:
    """The entries of the current file whose text lies in ``shown`` (a character range of the
    file): only their values can appear in the diff, so only they need masking. Every entry
    when the file's positions are not known (TOML, YAML)."""
    node = parsed.root
    for key in spec.servers_key:
        member = node.member(key) if node is not None and node.kind == "object" else None
        node = member.value if member is not None else None
    if node is None or node.kind != "object":
        return current
    lo, hi = shown
    names = {m.key for m in node.members if m.start < hi and m.value.end > lo}
    return {n: e for n, e in current.items() if n in names}


def _read_target(target: Path) -> tuple[str, str | None]:
    """The client file's exact text (CRLF newlines and a byte order mark kept, so the merged
    text is written back with them) and the digest of its bytes, from one read (so the digest
    checked just before the rename is the one of the text that was merged)."""
    try:
        raw = read_limited(target, what="client config file")
    except FileNotFoundError:
        return "", None
    return decode_config(raw, target), sha256_id(raw)


def _check_writable(target: Path, force: bool) -> None:
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    if not force and not mode & 0o222:
        raise FileError(
            f"{target} is read-only (mode {stat.S_IMODE(mode):o}), so mcp-orch leaves it as it "
            "is; nothing was written",
            "make it writable (chmod u+w) if you want mcp-orch to manage it, or deploy with "
            "force to replace it anyway (its mode is kept)",
            path=str(target),
            inputs=("force",),
        )


#: How often deploy merges again when another program saves the file during the write.
ATTEMPTS = 3


def deploy_artifact(
    profile: ProfileParts,
    artifact: ArtifactRecord,
    *,
    path: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    adopt: bool = False,
    scope: str = "user",
    project_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> Deployment:
    """Deploy ``artifact`` for ``profile`` (see the module docstring)."""
    ws = profile.workspace
    spec = profile.client
    if (artifact.client, artifact.profile) != (spec.id, profile.id):
        raise UsageError(
            f"artifact {artifact.short_id} belongs to {artifact.client}/{artifact.profile}, "
            f"not {profile.ref}",
            "deploy it through its own profile",
        )
    verify_artifact(artifact, ws.keys)
    if not dry_run:
        ws.audit.check_ready()  # a damaged log stops the deploy before the file is written
    target = target_path(profile, path, scope, project_dir)
    unset_note = ""
    try:
        rendered, secrets = render_secrets(spec, artifact.servers, mode=secrets_setting(profile))
    except MissingSecret as exc:
        if not dry_run:
            raise
        # a preview still shows each entry as the deploy would write it (launcher entries
        # too), with the unset values' places marked; the values that are set are masked
        rendered, secrets = render_secrets(
            spec,
            artifact.servers,
            mode=secrets_setting(profile),
            unset=lambda v: f"<{v} is not set>",
        )
        unset_note = (
            f"\n# note: {exc.message.replace('; nothing was written', '')}: deploy would stop\n"
        )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _deploy_once(
                profile,
                artifact,
                target,
                rendered,
                secrets,
                unset_note,
                dry_run=dry_run,
                adopt=adopt,
                force=force,
            )
        except FileChanged:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _deploy_once(
    profile: ProfileParts,
    artifact: ArtifactRecord,
    target: Path,
    rendered: dict[str, dict[str, Any]],
    secrets: list[str],
    unset_note: str,
    *,
    dry_run: bool,
    adopt: bool,
    force: bool,
) -> Deployment:
    ws = profile.workspace
    spec = profile.client
    with changing(ws), target_lock(target):
        text, before = _read_target(target)
        parsed = read_parsed(spec, text, str(target))  # the one parse: the edit reuses it
        current = server_map(spec, parsed.data)
        records = load_records(profile)
        previous = records["targets"].get(str(target), {})
        managed_before = set(previous.get("managed", []))

        digests = previous.get("entry_digests", {})
        overwritten = sorted(
            n
            for n in managed_before
            if n in current and n in digests and entry_digest(current[n]) != digests[n]
        )
        changes: dict[str, dict[str, Any] | None] = {}
        conflicts = []
        for name, entry in rendered.items():
            if name in current and name not in managed_before and current[name] != entry:
                conflicts.append(name)
            if current.get(name) != entry:
                changes[name] = entry
        for name in managed_before - set(rendered):
            if name in current:
                changes[name] = None
        if conflicts and not adopt:
            raise ConflictError(
                f"{target} already has server(s) {', '.join(sorted(conflicts))} that mcp-orch "
                "does not manage, with different settings; nothing was written",
                "rename them in the draft, or take them over (adopt); the old file is backed up "
                "either way",
                inputs=("name", "adopt"),
            )
        new_text = (
            apply_changes(spec, text, changes, str(target), parsed=parsed) if changes else text
        )
        # the result must parse and hold exactly the rendered entries (the other entries'
        # types were checked when the file was read, and their bytes did not change)
        check = server_map(spec, read_edited(spec, parsed, new_text, changes, str(target)))
        for name, entry in rendered.items():
            if check.get(name) != entry:
                raise ConflictError(
                    f"internal check failed: {name} would not be written as intended",
                    "please report this; nothing was written",
                )
        new_text = merge_inputs(spec, new_text, rendered, str(target))
        raw_diff, shown = unified_diff(
            text, new_text, f"{target} (current)", f"{target} (after deploy)"
        )
        diff_text = _mask_text(
            raw_diff, secrets, rendered, _shown_entries(spec, parsed, current, shown)
        )
        now = iso(now_utc())
        deployment = Deployment(
            client=spec.id,
            profile=profile.id,
            artifact_id=artifact.artifact_id,
            path=str(target),
            deployed=now,
            managed=sorted(rendered),
            dry_run=dry_run,
            changed=new_text != text,
            diff_text=diff_text + unset_note,
            entry_digests={n: entry_digest(e) for n, e in rendered.items()},
            unmanaged=sorted(set(check) - set(rendered)),
            overwritten=overwritten,
        )
        if dry_run:
            return deployment
        write = new_text != text or before is None
        if write:
            _check_writable(target, force)
        plan = Plan("deploy", spec.id, profile.id)
        backup, meta_digest = None, None
        if before is not None and new_text != text:
            backup, meta_digest = plan_backup(plan, profile, target, before, previous)
        file_digest = plan.write(target, new_text, before=before) if write else before
        deployment.backup = str(backup) if backup else previous.get("backup")
        entry = deployment.model_dump(exclude={"diff_text"})
        records["targets"][str(target)] = entry
        records["last"] = str(target)
        rpath = records_path(profile)
        records_digest = plan.write(rpath, dump_records(records), before=digest_of(rpath))
        plan.set_ref(spec.id, profile.id, "deployed", artifact.artifact_id)
        plan.event(
            "deploy",
            client=spec.id,
            profile=profile.id,
            artifact_id=artifact.artifact_id,
            changelog=artifact.changelog,
            actor=default_actor(),
            details={
                "path": str(target),
                "backup": deployment.backup,
                "changed": deployment.changed,
                "overwritten": overwritten,
                "file_digest": file_digest,
                "backup_digest": before if backup else None,
                "backup_meta_digest": meta_digest,
                "records_digest": records_digest,
                "record_digest": sha256_id(canonical(entry)),
            },
        )
        run(ws, plan)
    return deployment
