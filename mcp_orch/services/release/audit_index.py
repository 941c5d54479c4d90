"""A summary of each block of the audit log, so that a filtered query skips the blocks that
cannot hold a match (issue 16: a filter that matches nothing read all 464 MiB of a
million-event log).

    >>> index = BlockIndex(log.root)
    >>> index.candidates(fh, size, values={"client": b"cursor"}, artifact="sha256:ab12")
    [(start, end), ...]        # byte ranges to search, newest first

The log is cut into blocks of about :data:`BLOCK` bytes, each ending at a line's end. For each
block ``audit/blocks.json`` keeps the raw (JSON-escaped) values of ``action``, ``client`` and
``profile`` written anywhere in it (a superset of its events' own: a value nested in
``details`` counts too, which can only keep a block, never drop one), and
``audit/blocks.bits`` two bitmaps of artifact ids in it: one of their first four hex digits,
one of the next four. A block whose summary rules the filter out is not read.

It reads with plain file reads (a block at a time), never a map: every page a map touches
would count in the process's memory. The index is a cache, never the truth: a query checks each block's last bytes against the log
before using it, a log that changed under it (restored, repaired, replaced) loses the blocks
from the first one that no longer matches, and an index that cannot be read or written is
simply not used. It is built by a filtered query when the log has grown by at least a block
since (a first query over a million events pays about a second for it, once); the tail after
the last whole block is always searched directly. Every line a query returns is still decoded
and checked exactly: the index only ever skips reading.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from mcp_orch.core.fs import atomic_write

#: The size a block grows to before it is cut at the next line's end.
BLOCK = 4 * 1024 * 1024
#: Index blocks only once the log has this much past the last indexed block.
GROWTH = BLOCK
#: Above this many distinct values of one field in a block, the block is kept for any value.
MAX_VALUES = 512
#: How many bytes at each block's end are kept to recognise the log it was built from.
TAIL = 32
#: Each block's bitmaps in ``blocks.bits``: 2 x 65,536 bits.
BITS = 2 * 8192
VERSION = 1

_FIELDS = ("action", "client", "profile")
# every "field":"value" of each field, with what ends it: a quote, or a backslash when the
# value has an escape (then the block is kept for any value of that field: rare, and exact)
_VALUES = {f: re.compile(b'"' + f.encode() + rb'":"([^"\\]*)(["\\])') for f in _FIELDS}
_ARTIFACT = re.compile(rb'"artifact_id":"sha256:([0-9a-f]{8})')


def raw_value(value: str) -> bytes:
    """A value as it stands between the quotes in the log (JSON-escaped, UTF-8)."""
    return json.dumps(value, ensure_ascii=False)[1:-1].encode()


@dataclass
class Block:
    start: int
    end: int
    tail: str  # hex of the last TAIL bytes
    #: field -> its raw values (the bytes as latin-1 text); None: too many, any value may be here
    values: dict[str, list[str] | None]

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "tail": self.tail, "values": self.values}


def _read(fh: BinaryIO, start: int, end: int) -> bytes:
    fh.seek(start)
    return fh.read(end - start)


def _summarise(fh: BinaryIO, start: int, end: int) -> tuple[Block, bytes]:
    data = _read(fh, start, end)
    values: dict[str, list[str] | None] = {}
    for field, pattern in _VALUES.items():
        found = set(pattern.findall(data))
        escaped = any(end_ == b"\\" for _, end_ in found)
        names = {v for v, _ in found}
        values[field] = (
            None
            if escaped or len(names) > MAX_VALUES
            else sorted(v.decode("latin-1") for v in names)
        )
    bits = bytearray(BITS)
    heads = bytes.fromhex(b"".join(_ARTIFACT.findall(data)).decode("ascii"))
    for first, second in set(struct.iter_unpack(">HH", heads)):
        bits[first >> 3] |= 1 << (first & 7)
        bits[8192 + (second >> 3)] |= 1 << (second & 7)
    tail = data[-TAIL:].hex()
    return Block(start, end, tail, values), bytes(bits)


class BlockIndex:
    """The block summaries of ``root/events.jsonl`` (see the module's docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.meta_path = self.root / "blocks.json"
        self.bits_path = self.root / "blocks.bits"

    # -- reading -----------------------------------------------------------------------------
    def _load(self, fh: BinaryIO, size: int) -> tuple[list[Block], bytes]:
        """The blocks that still describe the log (a prefix of the saved ones) and their bits."""
        try:
            meta = json.loads(self.meta_path.read_bytes())
            bits = self.bits_path.read_bytes()
            if meta.get("version") != VERSION:
                return [], b""
            blocks = [Block(**b) for b in meta["blocks"]]
        except (OSError, ValueError, TypeError, KeyError):
            return [], b""
        good: list[Block] = []
        at = 0
        for n, b in enumerate(blocks):
            if (
                b.start != at
                or b.end > size
                or len(bits) < (n + 1) * BITS
                or _read(fh, max(b.start, b.end - TAIL), b.end).hex() != b.tail
            ):
                break
            good.append(b)
            at = b.end
        return good, bits[: len(good) * BITS]

    def _extend(
        self, fh: BinaryIO, size: int, blocks: list[Block], bits: bytes
    ) -> tuple[list[Block], bytes]:
        """Summaries of the whole blocks past the indexed ones, saved when it can be."""
        at = blocks[-1].end if blocks else 0
        if size - at < GROWTH:
            return blocks, bits
        out, more = list(blocks), bytearray(bits)
        while size - at >= BLOCK:
            cut = _line_end(fh, at + BLOCK - 1, size)
            if cut < 0:
                break
            block, block_bits = _summarise(fh, at, cut + 1)
            out.append(block)
            more += block_bits
            at = cut + 1
        if len(out) > len(blocks):
            try:  # the bits first: a crash between the two leaves meta that the bits cover
                atomic_write(self.bits_path, bytes(more), fsync=False)
                meta = {"version": VERSION, "blocks": [b.to_json() for b in out]}
                atomic_write(self.meta_path, json.dumps(meta), fsync=False)
            except OSError:
                pass  # a read-only workspace: use the summaries without keeping them
        return out, bytes(more)

    def candidates(
        self,
        fh: BinaryIO,
        size: int,
        *,
        values: dict[str, bytes],
        artifact: str | None,
        floor: int = 0,
    ) -> list[tuple[int, int]]:
        """Byte ranges of the log that may hold an event matching every filter, newest first
        (adjacent ranges merged); ``values``: field -> raw value, ``artifact``: an id prefix
        (``sha256:`` and at least one hex digit)."""
        blocks, bits = self._load(fh, size)
        blocks, bits = self._extend(fh, size, blocks, bits)
        indexed = blocks[-1].end if blocks else 0
        digits = artifact.split(":", 1)[1] if artifact else ""
        first = int(digits[:4], 16) if len(digits) >= 4 else None
        second = int(digits[4:8], 16) if len(digits) >= 8 else None
        ranges: list[tuple[int, int]] = []
        if indexed < size:
            ranges.append((max(indexed, floor), size))
        for n in range(len(blocks) - 1, -1, -1):
            b = blocks[n]
            if b.end <= floor:
                break
            if not self._may_hold(b, bits, n, values, first, second):
                continue
            lo = max(b.start, floor)
            if ranges and ranges[-1][0] == b.end:
                ranges[-1] = (lo, ranges[-1][1])
            else:
                ranges.append((lo, b.end))
        return [r for r in ranges if r[0] < r[1]]

    @staticmethod
    def _may_hold(
        b: Block,
        bits: bytes,
        n: int,
        values: dict[str, bytes],
        first: int | None,
        second: int | None,
    ) -> bool:
        for key, raw in values.items():
            seen = b.values.get(key)
            if seen is not None and raw.decode("latin-1") not in seen:
                return False
        base = n * BITS
        if first is not None and not bits[base + (first >> 3)] & (1 << (first & 7)):
            return False
        return second is None or bool(bits[base + 8192 + (second >> 3)] & (1 << (second & 7)))


def _line_end(fh: BinaryIO, at: int, size: int) -> int:
    """The offset of the first newline at or after ``at`` (-1: none before ``size``)."""
    chunk = 64 * 1024
    while at < size:
        data = _read(fh, at, min(size, at + chunk))
        found = data.find(b"\n")
        if found >= 0:
            return at + found
        at += len(data)
    return -1
