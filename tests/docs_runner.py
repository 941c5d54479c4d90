"""Run a Markdown page top to bottom, as a reader would, and compare what it prints.

    page = DocPage.load(Path("docs/how-to/publish.md"))
    result = run_page(page, update=False)
    result.failures          # one text per block whose output differs (a diff), [] when all match
    result.skipped           # how many blocks the page marks as not to run
    result.write()           # update mode: the re-recorded page (only where something changed)

``tests/test_docs_pages.py`` runs every page of ``docs/how-to/`` and the README with it;
``MCP_ORCH_UPDATE_DOCS=1`` re-records the outputs in place.

What runs
---------
- A ```` ```console ```` block is a shell transcript: ``$ command`` lines (a line ending in ``\\``
  and the body of a ``<<WORD`` heredoc continue the command), each followed by what it prints.
  Every command runs in one bash session per page (``export`` and ``cd`` carry over, stdin is
  ``/dev/null``, stderr is merged into stdout as in a terminal) and its output is compared with
  the recorded one. The exit status is not compared; a page shows it with ``echo $?``.
- A ```` ```sh ```` block runs in the same session as is; every command in it must succeed (an
  ``ERR`` trap reports the first one that fails). Its output is not compared.
- A ```` ```python ```` block runs in one Python session per page (a subprocess; the blocks share
  one namespace; top-level ``await`` works). When a ```` ```text ```` block follows it directly,
  that is what the block prints (stdout and stderr), and it is compared.
- Other blocks (json, toml, yaml, text on its own) are not run.

The sandbox
-----------
Each page gets a fresh folder ``S`` and a fresh ``HOME`` (both removed afterwards, each as long
as the name the pages show for it, so that table columns line up as recorded). The pages write
``/tmp/docs-sb`` for ``S``: the runner puts ``S`` in its place in every command and every
Python block, and puts ``/tmp/docs-sb`` back in what they print; ``HOME`` is printed as
``/home/me``. ``MCP_ORCH_HOME`` is
``/tmp/docs-sb/ws``, ``MCP_ORCH_CLIENT_ROOT`` is ``/tmp/docs-sb/root``, ``MCP_ORCH_OFFLINE=1``,
``COLUMNS=120``, ``NO_COLOR=1``, ``TZ=UTC``, the working folder is ``/tmp/docs-sb/work`` and the
venv's ``bin`` (``mcp-orch``, ``python3``) comes first on ``PATH``. A page's own ``export``
lines are honoured; after each command the runner checks that ``HOME``, ``MCP_ORCH_HOME`` and
``MCP_ORCH_CLIENT_ROOT`` still point inside ``S``, and fails the page if not. The audit log's
actor is ``root@vm`` (``USER=root`` and a ``sitecustomize`` that names the machine ``vm``).

Reader-invisible directives (HTML comments)
-------------------------------------------
``<!-- docs: skip -->``                 the next block is not run (counted in ``skipped``)
``<!-- docs: file PATH -->``            the next block's text is written to PATH first (a
                                        relative PATH is in the working folder)
``<!-- docs: expect-file PATH -->``     the next block is what PATH holds at this point
``<!-- docs: any-order -->``            in the next block each output's lines may come in any
                                        order (a list sorted by random ids, such as key ids)
``<!-- docs: sh ... -->``               hidden shell lines (setup), run like a ``sh`` block
``<!-- docs: python ... -->``           hidden Python (setup), run in the page's Python session
``<!-- docs: registry-api URL [records=PATH] -->``  serve the official registry's API on
                                        loopback (``tests/registry_api/server.py``; the bundled
                                        public data set, or the records in PATH) where the page
                                        writes URL (``http://127.0.0.1:8089``): commands get the
                                        real port, output shows URL again

Comparing output
----------------
Lines are compared after trailing whitespace is stripped. In a recorded output:

- a line that is only ``...`` stands for any number of lines (none included);
- ``...`` inside a line stands for any text on that line;
- what legitimately varies between runs matches by its shape: digests (``sha256:`` plus
  6 to 64 hex digits, the length kept), key ids (``ed25519:`` plus 32 hex), bare 32-hex ids
  (event ids, transactions), npm integrity hashes, Ed25519 public keys in PEM, backup stamps
  (``20261201T170511060781Z``), times (ISO, or polars' ``2026-12-01 17:08:06.325954 UTC``),
  durations (``2931 ms``, ``4.98s``; such a line also takes any run of spaces for a run of
  spaces, since the column widths follow them), and ``ls -l`` lines (mode and name are
  compared; links, owner, group, size and date are not);
- a recorded digest, key id, id or stamp stands for the same real value everywhere on the page:
  the first match binds it, a later line that shows it must show the same value, and commands
  and Python blocks that name a recorded value (``--artifact-id 39aea54c633a``) get the real one.

Update mode (``update=True``) writes the real output where a block differs, line by line: a
line that still matches keeps its recorded text (its digests, times and ``...``), a changed or
new line is written as printed, with every bound value put back to its recorded form. A page
whose blocks all match is left byte for byte as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SANDBOX = "/tmp/docs-sb"  # what the pages write for the page's sandbox
SHOWN_HOME = "/home/me"  # what the pages show for HOME
COLUMNS = "120"
COMMAND_TIMEOUT = 180.0  # seconds for one command or one Python block

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_DIRECTIVE = re.compile(r"<!--\s*docs:\s*(?P<body>.*?)-->", re.S)
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)\1")


# ---------------------------------------------------------------------------------------------
# the page


@dataclass
class Block:
    """A fenced block: its language, its text, and where the text sits in the page."""

    lang: str
    text: str
    start: int  # offset of the first character of the text (after the opening fence's line)
    end: int  # offset just past the text (the closing fence's line starts here)
    line: int  # 1-based line of the opening fence
    directives: list[str] = field(default_factory=list)  # the directives right before it


@dataclass
class Hidden:
    """A directive that stands alone (``sh``, ``registry-api``), between blocks."""

    body: str
    line: int


@dataclass
class DocPage:
    path: Path
    text: str
    items: list[Block | Hidden]

    @classmethod
    def load(cls, path: Path) -> DocPage:
        text = path.read_text(encoding="utf-8")
        return cls(path, text, parse(text))


def parse(text: str) -> list[Block | Hidden]:
    """The page's blocks and stand-alone directives, in order."""
    items: list[Block | Hidden] = []
    pending: list[str] = []
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i].rstrip("\n"))
        if m:
            fence = m["fence"]
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith(fence):
                j += 1
            info = m["info"].strip().split()
            block = Block(
                lang=info[0] if info else "",
                text="".join(lines[i + 1 : j]),
                start=offsets[i + 1],
                end=offsets[j] if j < len(lines) else len(text),
                line=i + 1,
                directives=pending,
            )
            items.append(block)
            pending = []
            i = j + 1
            continue
        if "<!--" in lines[i]:
            start = offsets[i] + lines[i].index("<!--")
            d = _DIRECTIVE.match(text, start)
            if d:
                body = d["body"].strip()
                line_no = i + 1
                i = text.count("\n", 0, d.end()) + 1
                word = body.split(None, 1)[0] if body else ""
                if word in ("skip", "file", "expect-file", "any-order"):
                    pending.append(body)
                else:
                    items.append(Hidden(body, line_no))
                continue
        if lines[i].strip():
            pending = []  # a directive is about the block right after it
        i += 1
    return items


def split_console(text: str) -> list[tuple[str, list[str]]]:
    """A transcript as (command, recorded output lines) pairs."""
    pairs: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            raise ValueError(f"a console block must start with '$ ': {line!r}")
        cmd = [line[2:]]
        i += 1
        while cmd[-1].endswith("\\") and i < len(lines):
            cmd.append(lines[i])
            i += 1
        for word in (m["word"] for m in _HEREDOC.finditer("\n".join(cmd))):
            while i < len(lines):
                cmd.append(lines[i])
                i += 1
                if cmd[-1].strip() == word:
                    break
        out: list[str] = []
        while i < len(lines) and not lines[i].startswith("$ "):
            out.append(lines[i])
            i += 1
        pairs.append(("\n".join(cmd), out))
    return pairs


# ---------------------------------------------------------------------------------------------
# what varies: token classes, line patterns and bindings

# (class, pattern, bound): a bound class's recorded value stands for one real value on the page
_CLASSES: list[tuple[str, str, bool]] = [
    ("pem", r"MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=", True),
    ("integrity", r"sha512-[A-Za-z0-9+/]{10,}={0,2}", True),
    ("sha", r"(?<=sha256:)[0-9a-f]{6,64}", True),
    ("key", r"(?<=ed25519:)[0-9a-f]{32}", True),
    ("hex32", r"(?<![0-9a-zA-Z:])[0-9a-f]{32}(?![0-9a-zA-Z])", True),
    ("stamp", r"\d{8}T\d{12}Z", True),
    ("time", r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z| UTC)?", False),
    ("duration", r"(?<![\w.])(?:\d+ ms|\d+\.\d+ ?s|\d+ ?ms)(?![\w])", False),
]
_TOKEN = re.compile("|".join(f"(?P<{name}>{pat})" for name, pat, _ in _CLASSES))
_BOUND = {name for name, _, bound in _CLASSES if bound}
_PREFIXED = {"sha", "hex32", "key"}  # shown shortened too: a prefix stands for the whole
_LS = re.compile(
    r"^(?P<mode>[-dlcbps][-rwxsStT]{9})[.+@]?\s+\d+\s+\S+\s+\S+\s+\d+\s+"
    r"\w{3}\s+\d+\s+[\d:]+\s+(?P<name>.+)$"
)
_LS_TOTAL = re.compile(r"^total \d+$")


def _token_pattern(name: str, value: str) -> str:
    if name in ("sha", "key", "hex32"):
        return f"[0-9a-f]{{{len(value)}}}"
    if name == "time":
        return _CLASSES[6][1]
    if name == "duration":
        return _CLASSES[7][1]
    return dict((n, p) for n, p, _ in _CLASSES)[name]


@dataclass
class LinePattern:
    """One recorded output line, compiled: ``...`` alone, or a regex with the tokens it holds."""

    text: str
    wildcard: bool
    regex: re.Pattern[str] | None
    tokens: list[tuple[str, str]]  # (class, recorded value) of each capture group, in order

    @classmethod
    def compile(cls, line: str) -> LinePattern:
        line = text = line.rstrip()
        if line.strip() == "...":
            return cls(line, True, None, [])
        if _LS_TOTAL.match(line):
            return cls(line, False, re.compile(r"total \d+"), [])
        prefix = ""
        ls = _LS.match(line)
        if ls:  # mode and name are compared; links, owner, group, size and date are not
            prefix = (
                re.escape(ls["mode"]) + r"[.+@]?\s+\d+\s+\S+\s+\S+\s+\d+\s+\w{3}\s+\d+\s+[\d:]+\s+"
            )
            line = ls["name"]
        flexible = any(m.lastgroup == "duration" for m in _TOKEN.finditer(line))
        parts: list[str] = [prefix]
        tokens: list[tuple[str, str]] = []
        pos = 0
        for m in _TOKEN.finditer(line):
            name = m.lastgroup or ""
            parts.append(_literal(line[pos : m.start()], flexible))
            if name in _BOUND:
                parts.append(f"({_token_pattern(name, m.group())})")
                tokens.append((name, m.group()))
            else:
                parts.append(f"(?:{_token_pattern(name, m.group())})")
            pos = m.end()
        parts.append(_literal(line[pos:], flexible))
        return cls(text, False, re.compile("".join(parts)), tokens)

    def match(self, actual: str) -> list[str] | None:
        """The real values of the line's bound tokens, or None when the line does not match."""
        if self.wildcard or self.regex is None:
            return None
        m = self.regex.fullmatch(actual)
        return list(m.groups()) if m else None


def _literal(text: str, flexible: bool) -> str:
    out = []
    for i, chunk in enumerate(text.split("...")):
        if i:
            out.append(".*?")
        if flexible:
            out.append(r"\s+".join(re.escape(w) for w in re.split(r"\s+", chunk)))
        else:
            out.append(re.escape(chunk))
    return "".join(out)


class Bindings:
    """Recorded value -> real value, per class; a prefix stands for the whole."""

    def __init__(self) -> None:
        self.pairs: list[list[str]] = []  # [class, recorded, real], the longest seen

    def _related(self, a: str, b: str) -> bool:
        return a.startswith(b) or b.startswith(a)

    def bind(self, name: str, recorded: str, real: str, *, dry: bool = False) -> str | None:
        """Record a pair; a text saying why not when it contradicts an earlier one.

        ``dry`` only checks (the pair is not recorded).
        """
        for pair in self.pairs:
            cls, rec, rl = pair
            if cls != name and not ({cls, name} <= _PREFIXED):
                continue
            same_rec = self._related(rec, recorded) if name in _PREFIXED else rec == recorded
            same_real = self._related(rl, real) if name in _PREFIXED else rl == real
            if same_rec and not same_real:
                return f"{recorded} stood for {rl[: len(real)]} earlier on the page, now {real}"
            if same_real and not same_rec:
                return f"{real} was shown as {rec[: len(recorded)]} earlier on the page, now as {recorded}"
            if same_rec and same_real:
                if len(recorded) > len(rec) and not dry:
                    pair[1], pair[2] = recorded, real
                return None
        if not dry:
            self.pairs.append([name, recorded, real])
        return None

    def fits(self, pat: LinePattern, line: str) -> bool:
        """Whether the line matches the pattern without contradicting a binding."""
        values = pat.match(line)
        if values is None:
            return False
        return all(
            self.bind(name, rec, real, dry=True) is None
            for (name, rec), real in zip(pat.tokens, values, strict=True)
        )

    def pair_up(self, recorded: str, printed: str) -> None:
        """Bind the values of a changed line to the recorded line's, where they line up.

        Both lines must hold the same kinds of values, of the same lengths, in the same order,
        and no pair may contradict an earlier binding; otherwise nothing is bound.
        """

        def values(line: str) -> list[tuple[str, str]]:
            return [
                (m.lastgroup or "", m.group())
                for m in _TOKEN.finditer(line)
                if m.lastgroup in _BOUND
            ]

        old, new = values(recorded), values(printed)
        if [(n, len(v)) for n, v in old] != [(n, len(v)) for n, v in new]:
            return
        if all(
            self.bind(n, o, v, dry=True) is None for (n, o), (_, v) in zip(old, new, strict=True)
        ):
            for (n, o), (_, v) in zip(old, new, strict=True):
                self.bind(n, o, v)

    def adopt(self, line: str) -> None:
        """Bind each value of a printed line that is bound to nothing to itself.

        A line written as printed (update mode) shows the real values; later lines that show
        them again must show them the same way.
        """
        for m in _TOKEN.finditer(line):
            name, value = m.lastgroup or "", m.group()
            if name in _BOUND and not any(
                self._related(real, value) if name in _PREFIXED else real == value
                for _, _, real in self.pairs
            ):
                self.pairs.append([name, value, value])

    def to_real(self, text: str) -> str:
        """A command or code as recorded, with each bound value replaced by the real one."""

        def hexword(m: re.Match[str]) -> str:
            word = m.group()
            for cls, rec, real in self.pairs:
                if cls in _PREFIXED and rec.startswith(word) and len(real) >= len(word):
                    return real[: len(word)]
            return word

        for cls, rec, real in self.pairs:
            if cls not in _PREFIXED:
                text = text.replace(rec, real)
        return re.sub(r"(?<![0-9a-zA-Z])[0-9a-f]{8,64}(?![0-9a-zA-Z])", hexword, text)

    def to_recorded(self, line: str) -> str:
        """A printed line with each bound real value put back to its recorded form."""

        def one(m: re.Match[str]) -> str:
            name, value = m.lastgroup or "", m.group()
            if name not in _BOUND:
                return value
            for cls, rec, real in self.pairs:
                related = real.startswith(value) or value.startswith(real)
                if name in _PREFIXED and cls in _PREFIXED:
                    if related and len(rec) >= len(value):
                        return rec[: len(value)]
                elif cls == name and real == value:
                    return rec
            return value

        return _TOKEN.sub(one, line)


# ---------------------------------------------------------------------------------------------
# comparing one block


@dataclass
class Comparison:
    ok: bool
    problems: list[str]
    updated: list[str]  # the block's lines re-recorded (== recorded when ok)


def compare(
    recorded: list[str], actual: list[str], bindings: Bindings, *, any_order: bool = False
) -> Comparison:
    """Match printed lines against recorded ones (``...`` lines, shapes, bindings).

    ``any_order``: the lines may come in another order (a list sorted by random ids).
    """
    pats = [LinePattern.compile(line) for line in recorded]
    actual = [line.rstrip() for line in actual]
    while actual and not actual[-1]:
        actual.pop()
    recorded_trim = list(recorded)
    while pats and not pats[-1].wildcard and not pats[-1].text:
        pats.pop()
        recorded_trim.pop()
    if any_order and len(pats) == len(actual) and not any(p.wildcard for p in pats):
        order = _assign(pats, actual, bindings)
        if order is not None:
            actual = [actual[j] for j in order]
    steps = _align(pats, actual, bindings)
    problems: list[str] = []
    updated: list[str] = []
    mismatched = False
    for kind, i, j in steps:
        if kind == "match":
            values = pats[i].match(actual[j]) or []
            for (name, rec), real in zip(pats[i].tokens, values, strict=True):
                why = bindings.bind(name, rec, real)
                if why:
                    problems.append(why)
            updated.append(recorded_trim[i].rstrip())
        elif kind == "wild":
            updated.append(recorded_trim[i].rstrip())
        elif kind in ("sub", "ins"):
            mismatched = True
            if kind == "sub":
                values = pats[i].match(actual[j])
                for (name, rec), real in zip(pats[i].tokens, values or [], strict=False):
                    why = bindings.bind(name, rec, real, dry=True)
                    if why:  # the line has the right shape but shows another value
                        problems.append(why)
                bindings.pair_up(recorded_trim[i], actual[j])
            new = bindings.to_recorded(actual[j])
            updated.append(_keep_times(recorded_trim[i], new) if kind == "sub" else new)
            bindings.adopt(actual[j])
        else:  # "del"
            mismatched = True
    if mismatched:
        problems.insert(0, "output differs")
    return Comparison(not problems, problems, updated)


def _keep_times(recorded: str, new: str) -> str:
    """A re-recorded line keeps the recorded line's times and durations where they line up."""
    kinds = ("time", "duration")
    old = [m.group() for m in _TOKEN.finditer(recorded) if m.lastgroup in kinds]
    spots = [m for m in _TOKEN.finditer(new) if m.lastgroup in kinds]
    if len(old) != len(spots) or any(
        len(o) != len(m.group()) for o, m in zip(old, spots, strict=True)
    ):
        return new
    for o, m in reversed(list(zip(old, spots, strict=True))):
        new = new[: m.start()] + o + new[m.end() :]
    return new


def _assign(pats: list[LinePattern], actual: list[str], bindings: Bindings) -> list[int] | None:
    """For each pattern the index of a printed line it fits, each line used once; None if not."""
    free = list(range(len(actual)))
    order: list[int] = []
    for pat in pats:
        j = next((j for j in free if bindings.fits(pat, actual[j])), None)
        if j is None:
            return None
        free.remove(j)
        order.append(j)
    return order


def _align(
    pats: list[LinePattern], actual: list[str], bindings: Bindings
) -> list[tuple[str, int, int]]:
    """The cheapest alignment (edit distance over lines; ``...`` takes any run for free)."""
    n, m = len(pats), len(actual)
    matches: dict[tuple[int, int], bool] = {}

    def ok(i: int, j: int) -> bool:
        key = (i, j)
        if key not in matches:
            matches[key] = bindings.fits(pats[i], actual[j])
        return matches[key]

    # fast path: a straight walk without wildcards
    if n == m and not any(p.wildcard for p in pats) and all(ok(k, k) for k in range(n)):
        return [("match", k, k) for k in range(n)]
    inf = 10**9
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[str, int, int] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[n][m] = 0
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            if i == n and j == m:
                continue
            best, step = inf, None
            if i < n and pats[i].wildcard:
                if cost[i + 1][j] < best:  # the wildcard ends here
                    best, step = cost[i + 1][j], ("wild", i, j)
                if j < m and cost[i][j + 1] < best:  # it takes this line
                    best, step = cost[i][j + 1], ("take", i, j)
            else:
                if i < n and j < m and ok(i, j) and cost[i + 1][j + 1] < best:
                    best, step = cost[i + 1][j + 1], ("match", i, j)
                if i < n and j < m and cost[i + 1][j + 1] + 1 < best:
                    best, step = cost[i + 1][j + 1] + 1, ("sub", i, j)
            if i < n and cost[i + 1][j] + 1 < best:
                best, step = cost[i + 1][j] + 1, ("del", i, j)
            if j < m and cost[i][j + 1] + 1 < best:
                best, step = cost[i][j + 1] + 1, ("ins", i, j)
            cost[i][j], back[i][j] = best, step
    steps: list[tuple[str, int, int]] = []
    i = j = 0
    while (i, j) != (n, m):
        step = back[i][j]
        assert step is not None
        kind = step[0]
        if kind == "take":
            j += 1
            continue
        steps.append(step)
        if kind in ("match", "sub"):
            i, j = i + 1, j + 1
        elif kind in ("wild", "del"):
            i += 1
        else:
            j += 1
    return steps


def _diff(recorded: list[str], actual: list[str]) -> str:
    import difflib

    return "\n".join(
        difflib.unified_diff(recorded, actual, "recorded", "printed", lineterm="", n=2)
    )


# ---------------------------------------------------------------------------------------------
# the sessions: one bash and one Python per page

_SENTINEL = "__docs_runner_done__"
_SITECUSTOMIZE = """\
# written by tests/docs_runner.py: the docs' audit actor is root@vm on every machine
import socket as _socket

_socket.gethostname = lambda: "vm"
"""


class Shell:
    """One bash session: commands run one after another, their output read back."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        self._buf = b""

    def run(self, command: str, *, strict: bool = False) -> tuple[str, int, dict[str, str]]:
        """(output, exit status, the sandbox variables afterwards)."""
        assert self.proc.stdin is not None
        trap = "trap 'echo \"__docs_failed__ $? at: $BASH_COMMAND\"' ERR\n" if strict else ""
        untrap = "trap - ERR\n" if strict else ""
        script = (
            f"{trap}{{\n{command}\n}} </dev/null 2>&1\n__docs_rc=$?\n{untrap}"
            f'printf \'\\n{_SENTINEL} %s\\t%s\\t%s\\t%s\\n\' "$__docs_rc" "$HOME" '
            f'"$MCP_ORCH_HOME" "$MCP_ORCH_CLIENT_ROOT"\n'
            "__docs_ret() { return $1; }; __docs_ret $__docs_rc\n"
        )
        self.proc.stdin.write(script.encode())
        self.proc.stdin.flush()
        marker = f"\n{_SENTINEL} ".encode()
        deadline = time.monotonic() + COMMAND_TIMEOUT
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while marker not in self._buf or not self._buf.split(marker, 1)[1].count(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise TimeoutError(f"no end after {COMMAND_TIMEOUT:.0f} s: {command}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError(f"the shell ended while running: {command}")
                self._buf += chunk
        out, rest = self._buf.split(marker, 1)
        status, self._buf = rest.split(b"\n", 1)
        rc, home, ws, root = status.decode().split("\t")
        env = {"HOME": home, "MCP_ORCH_HOME": ws, "MCP_ORCH_CLIENT_ROOT": root}
        return out.decode("utf-8", "replace"), int(rc), env

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


_PY_CHILD = r"""
import ast, asyncio, contextlib, inspect, io, json, os, sys, traceback
out_fd = int(sys.argv[1])
ns = {"__name__": "__main__"}
for line in sys.stdin:
    req = json.loads(line)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            code = compile(req["code"], req["name"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            result = eval(code, ns)
            if inspect.iscoroutine(result):
                asyncio.run(result)
            ok = True
        except BaseException:
            traceback.print_exc(file=buf)
            ok = False
    os.write(out_fd, (json.dumps({"out": buf.getvalue(), "ok": ok}) + "\n").encode())
"""


class PythonSession:
    """One Python process per page; every block runs in its one namespace."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self._r, w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _PY_CHILD, str(w)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            pass_fds=(w,),
            start_new_session=True,
        )
        os.close(w)
        self._buf = b""

    def run(self, code: str, name: str) -> tuple[str, bool]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"code": code, "name": name}) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise TimeoutError(f"{name}: no end after {COMMAND_TIMEOUT:.0f} s")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"{name}: the Python session ended")
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        reply = json.loads(line)
        return reply["out"], reply["ok"]

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        os.close(self._r)


# ---------------------------------------------------------------------------------------------
# running a page


@dataclass
class PageResult:
    page: DocPage
    failures: list[str] = field(default_factory=list)
    skipped: int = 0
    commands: int = 0
    seconds: float = 0.0
    edits: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, new text)

    def rewritten(self) -> str:
        text = self.page.text
        for start, end, new in sorted(self.edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text

    def write(self) -> bool:
        """Write the re-recorded page; True when it changed."""
        new = self.rewritten()
        if new == self.page.text:
            return False
        self.page.path.write_text(new, encoding="utf-8")
        return True


class _Run:
    def __init__(self, page: DocPage, sandbox: Path, home: Path) -> None:
        self.page = page
        self.sb = sandbox
        self.home = home
        self.result = PageResult(page)
        self.bindings = Bindings()
        self.urls: list[tuple[str, str]] = []  # (as the page writes it, the real one)
        self.stack = contextlib.ExitStack()
        for sub in ("work", "site"):
            (sandbox / sub).mkdir(parents=True, exist_ok=True)
        (sandbox / "site" / "sitecustomize.py").write_text(_SITECUSTOMIZE)
        self.env = {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "USERPROFILE": str(home),
            "USER": "root",
            "LOGNAME": "root",
            "MCP_ORCH_HOME": str(sandbox / "ws"),
            "MCP_ORCH_CLIENT_ROOT": str(sandbox / "root"),
            "MCP_ORCH_OFFLINE": "1",
            "COLUMNS": COLUMNS,
            "NO_COLOR": "1",
            "TERM": "dumb",
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": str(sandbox / "site"),
            "PYTHONUTF8": "1",
            "VIRTUAL_ENV": str(VENV_BIN.parent),
        }
        for name in ("SSL_CERT_FILE", "TMPDIR"):
            if name in os.environ:
                self.env[name] = os.environ[name]
        self._shell: Shell | None = None
        self._python: PythonSession | None = None

    # the sessions start on first use (most pages need only one of them)
    @property
    def shell(self) -> Shell:
        if self._shell is None:
            self._shell = Shell(self.env, self.sb / "work")
            self.stack.callback(self._shell.close)
        return self._shell

    @property
    def python(self) -> PythonSession:
        if self._python is None:
            self._python = PythonSession(self.env, self.sb / "work")
            self.stack.callback(self._python.close)
        return self._python

    # the page's words <-> the sandbox's
    def to_real(self, text: str) -> str:
        text = self.bindings.to_real(text)
        for shown, real in self.urls:
            text = text.replace(shown, real)
        return text.replace(SANDBOX, str(self.sb))

    def to_shown(self, text: str) -> str:
        for shown, real in self.urls:
            text = text.replace(real, shown)
        text = re.sub(re.escape(str(self.sb)) + r"(?![\w.-])", SANDBOX, text)
        return re.sub(re.escape(str(self.home)) + r"(?![\w.-])", SHOWN_HOME, text)

    def fail(self, where: int, what: str) -> None:
        self.result.failures.append(f"{self.page.path.name}:{where}: {what}")

    def check_env(self, where: int, env: dict[str, str]) -> None:
        for name, value in env.items():
            top = self.home if name == "HOME" else self.sb
            if not value or not Path(value).resolve().is_relative_to(top.resolve()):
                self.fail(where, f"{name} is {value!r}, outside the page's sandbox")

    # the items
    def run(self, update: bool) -> PageResult:
        started = time.monotonic()
        try:
            items = self.page.items
            for k, item in enumerate(items):
                if isinstance(item, Hidden):
                    self.hidden(item)
                    continue
                following = items[k + 1] if k + 1 < len(items) else None
                self.block(item, following, update)
        finally:
            self.stack.close()
            self.result.seconds = time.monotonic() - started
        return self.result

    def hidden(self, item: Hidden) -> None:
        word, _, rest = item.body.partition(" ")
        if item.body.startswith("sh\n") or word == "sh":
            self.script(item.body[2:], item.line)
        elif item.body.startswith("python\n"):
            self.python_block(Block("python", item.body[6:], 0, 0, item.line), None)
        elif word == "registry-api":
            self.registry_api(rest.split(), item.line)
        else:
            self.fail(item.line, f"unknown directive {word!r}")

    def registry_api(self, args: list[str], line: int) -> None:
        sys.path.insert(0, str(ROOT / "tests"))
        from registry_api.server import serve  # the test suite's loopback registry

        shown = args[0]
        records: list[dict[str, Any]] | None = None
        for arg in args[1:]:
            if arg.startswith("records="):
                path = Path(self.to_real(arg.removeprefix("records=")))
                records = json.loads(path.read_text())
        api = self.stack.enter_context(serve(records) if records is not None else serve())
        self.urls.append((shown, api.url))

    def shell_run(self, command: str, line: int, *, strict: bool = False) -> tuple[str, int]:
        """Run one command in the page's shell; a hung command fails the page, not the run."""
        try:
            out, rc, env = self.shell.run(self.to_real(command), strict=strict)
        except (TimeoutError, RuntimeError) as exc:
            self.fail(line, str(exc))
            self._shell = None  # the next command gets a new shell
            return "", -1
        self.result.commands += 1
        self.check_env(line, env)
        return out, rc

    def script(self, text: str, line: int) -> None:
        out, rc = self.shell_run(textwrap.dedent(text), line, strict=True)
        if rc == -1:
            return
        if "__docs_failed__" in out or rc != 0:
            self.fail(line, f"a command failed (exit status {rc}):\n{self.to_shown(out)}")

    def block(self, block: Block, following: Block | Hidden | None, update: bool) -> None:
        directives = [d.split(None, 1) for d in block.directives]
        for d in directives:
            if d[0] == "skip":
                self.result.skipped += 1
                return
            if d[0] == "file":
                path = self.sb / "work" / self.to_real(d[1].strip())  # relative: the work folder
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(block.text)
                return
            if d[0] == "expect-file":
                path = self.sb / "work" / self.to_real(d[1].strip())
                real = path.read_text() if path.exists() else f"<{d[1].strip()} does not exist>"
                self.compare(block, block.text.splitlines(), self.to_shown(real).splitlines())
                return
        if block.lang == "console":
            self.console(block, any_order=["any-order"] in directives)
        elif block.lang in ("sh", "bash", "shell"):
            self.script(block.text, block.line)
        elif block.lang in ("python", "py"):
            output = None
            if isinstance(following, Block) and following.lang == "text":
                between = self.page.text[block.end : following.start]
                if between.count("\n") <= 3 and "<!--" not in between:
                    output = following
                    following.lang = "text-output"  # taken: not a block of its own
            self.python_block(block, output)

    def console(self, block: Block, *, any_order: bool = False) -> None:
        try:
            pairs = split_console(block.text)
        except ValueError as exc:
            self.fail(block.line, str(exc))
            return
        new_lines: list[str] = []
        line = block.line + 1
        changed = False
        for command, recorded in pairs:
            out, _rc = self.shell_run(command, line)
            printed = self.to_shown(out).splitlines()
            cmp = compare(recorded, printed, self.bindings, any_order=any_order)
            new_lines.append("$ " + command)
            if cmp.ok:
                new_lines.extend(recorded)
            else:
                self.fail(
                    line,
                    f"$ {command}\n  " + "; ".join(cmp.problems) + "\n" + _diff(recorded, printed),
                )
                new_lines.extend(cmp.updated)
                changed = True
            line += command.count("\n") + 1 + len(recorded)
        if changed:
            self.edit(block, new_lines)

    def python_block(self, block: Block, output: Block | None) -> None:
        name = f"{self.page.path.name}:{block.line}"
        try:
            out, ok = self.python.run(self.to_real(block.text), name)
        except (TimeoutError, RuntimeError) as exc:
            self.fail(block.line, str(exc))
            self._python = None
            return
        self.result.commands += 1
        printed = self.to_shown(out).splitlines()
        if output is None:
            if not ok:
                self.fail(block.line, "the block raised:\n" + "\n".join(printed))
            return
        self.compare(output, output.text.splitlines(), printed, raised=not ok)

    def compare(
        self, block: Block, recorded: list[str], printed: list[str], raised: bool = False
    ) -> None:
        cmp = compare(recorded, printed, self.bindings)
        if cmp.ok and not raised:
            return
        problems = cmp.problems or ["the block raised"]
        self.fail(block.line, "; ".join(problems) + "\n" + _diff(recorded, printed))
        if not raised:
            self.edit(block, cmp.updated)

    def edit(self, block: Block, lines: list[str]) -> None:
        if any("Traceback (most recent call last)" in x or "internal error:" in x for x in lines):
            self.fail(
                block.line, "not re-recorded: the output holds a traceback or an internal error"
            )
            return
        self.result.edits.append((block.start, block.end, "".join(f"{x}\n" for x in lines)))


def _fresh_dir(prefix: str, length: int) -> Path:
    """A new folder under /tmp whose path has exactly `length` characters."""
    import secrets

    while True:
        name = prefix + secrets.token_hex(8)[: length - len(prefix)]
        path = Path(name)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        return path


def run_page(page: DocPage, *, update: bool = False) -> PageResult:
    """Run every block of the page in a fresh sandbox, removed afterwards.

    The sandbox is ``/tmp/s`` plus 6 characters and HOME ``/tmp/h`` plus 2: as long as
    ``/tmp/docs-sb`` and ``/home/me``, so the columns of a table that shows them line up as
    recorded.
    """
    sandbox = _fresh_dir("/tmp/s", len(SANDBOX))
    home = _fresh_dir("/tmp/h", len(SHOWN_HOME))
    try:
        return _Run(page, sandbox, home).run(update)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def pages() -> Iterator[Path]:
    """The pages the docs test runs: every how-to (formats included) and the README."""
    yield ROOT / "README.md"
    yield from sorted((ROOT / "docs" / "how-to").rglob("*.md"))


if __name__ == "__main__":  # python tests/docs_runner.py PAGE... [--update]: run pages by hand
    args = [a for a in sys.argv[1:] if a != "--update"]
    for arg in args or [str(p) for p in pages()]:
        res = run_page(DocPage.load(Path(arg)), update="--update" in sys.argv)
        print(
            f"{arg}: {len(res.failures)} failure(s), {res.skipped} skipped, "
            f"{res.commands} run, {res.seconds:.1f} s"
        )
        for f in res.failures:
            print(textwrap.indent(f, "  "))
        if "--update" in sys.argv and res.write():
            print(f"  re-recorded {arg}")
