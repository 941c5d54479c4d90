"""The launcher: ``mcp-orch exec [--] COMMAND ARGS...``, what a client starts instead of a server.

    $ API_KEY='${env:API_KEY}' mcp-orch exec -- npx -y some-server --token '${env:API_KEY}'

Every ``${env:NAME}`` in the environment's values and in the command line is replaced with the
value of the secret NAME from the secret store, else with NAME from the launcher's own
environment (a value that is itself a reference does not count); then the server replaces the
launcher (POSIX ``execvpe``: the same process, so stdio, signals and the exit code are the
server's; on Windows a child with the same stdio, whose exit code is passed on). A reference
with no value stops it with one line on stderr (the client shows it) and exit code 1; nothing is
ever written to stdout, which belongs to the MCP protocol.

This runs each time a client starts a server, so it is kept small: no click, pydantic or MCP SDK;
the store module only when a reference is there, and a keyring backend only when a secret is in
it (see ``bench/launcher.py`` for the cost).
"""

from __future__ import annotations

import os
import sys

REF_START = "${env:"
USAGE = "usage: mcp-orch exec [--] COMMAND [ARGS...]"


def _say(line: str) -> None:
    sys.stderr.write(f"mcp-orch exec: {line}\n")
    sys.stderr.flush()


def _spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, NAME) of each well-formed ``${env:NAME}`` in ``text`` (scanned by hand:
    ``re`` would cost the launcher more than the rest of its work)."""
    out, at = [], 0
    while (start := text.find(REF_START, at)) >= 0:
        end = text.find("}", start)
        if end < 0:
            break
        name = text[start + len(REF_START) : end]
        ok = name and (name[0].isalpha() or name[0] == "_") and name.isascii()
        if ok and name.replace("_", "a").isalnum():
            out.append((start, end + 1, name))
            at = end + 1
        else:
            at = start + 1
    return out


def _refs(text: str) -> list[str]:
    return [name for _, _, name in _spans(text)]


def _substitute(text: str, values: dict[str, str]) -> str:
    parts, at = [], 0
    for start, end, name in _spans(text):
        parts += [text[at:start], values.get(name, text[start:end])]
        at = end
    return "".join(parts) + text[at:]


def resolve(
    argv: list[str], environ: dict[str, str]
) -> tuple[list[str], dict[str, str], list[str]]:
    """``argv`` and ``environ`` with every reference replaced; and the names with no value."""
    if not any(REF_START in v for v in (*argv, *environ.values())):
        return argv, environ, []  # nothing to resolve
    wanted = {name for v in (*argv, *environ.values()) for name in _refs(v)}
    if not wanted:
        return argv, environ, []
    values: dict[str, str] = {}
    for name in wanted:  # the launcher's own environment, unless it holds a reference itself
        own = environ.get(name)
        if own is not None and not _refs(own):
            values[name] = own
    from mcp_orch.services.secrets.sealed import quick_lookup  # only when there is a reference

    stored = quick_lookup(sorted(wanted))
    if stored is None:  # a keyring backend, a passphrase, or a problem the store explains
        from mcp_orch.services.secrets.store import SecretStore

        stored = SecretStore().lookup(sorted(wanted))
    values.update(stored)  # the store wins over the environment
    missing = sorted(wanted - set(values))

    def fill(text: str) -> str:
        return _substitute(text, values)

    return [fill(a) for a in argv], {k: fill(v) for k, v in environ.items()}, missing


def run(argv: list[str]) -> int:
    """Resolve and start ``argv`` (see the module docstring); returns only on failure (POSIX)
    or with the server's exit code (Windows)."""
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        _say(f"no command to start ({USAGE})")
        return 2
    try:
        args, env, missing = resolve(list(argv), dict(os.environ))
    except Exception as exc:  # a store error: one line for the client's log, no traceback
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        hint = getattr(exc, "hint", "")
        _say(f"{message}" + (f" (hint: {hint})" if hint else ""))
        return 1
    if missing:
        names = ", ".join(missing)
        _say(
            f"{names} {'is' if len(missing) == 1 else 'are'} neither in the secret store nor "
            f"in the environment; {args[0]} was not started "
            f"(hint: mcp-orch secret set {missing[0]})"
        )
        return 1
    if sys.platform == "win32":
        import subprocess  # stdlib; Windows has no exec that keeps the process

        try:
            return subprocess.call(args, env=env)
        except OSError as exc:
            _say(f"cannot start {args[0]}: {exc.strerror or exc}")
            return 127
    try:
        os.execvpe(args[0], args, env)
    except OSError as exc:
        _say(f"cannot start {args[0]}: {exc.strerror or exc}")
        return 127
    return 0  # pragma: no cover - execvpe does not return


def main() -> None:
    sys.exit(run(sys.argv[1:]))
