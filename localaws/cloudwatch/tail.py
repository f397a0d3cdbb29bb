"""Follow every log file in a folder, as CloudWatch Logs' agent follows its log streams."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# At most this much of one file per poll, so one busy log cannot stall the others.
MAX_READ = 4 * 1024 * 1024


@dataclass
class _Cursor:
    inode: int
    offset: int
    partial: bytes = b""


class LogTailer:
    """Return the complete lines added to `*.log` files since the last poll.

    Files present when the tailer starts are followed from their end (earlier runs appended
    to them); files that appear later are read from their start. A file that shrinks
    (truncated) or is replaced (new inode) is read again from its start.
    """

    def __init__(self, folder: Path, *, skip: frozenset[str] = frozenset(),
                 from_end: bool = True) -> None:
        self.folder = folder
        self.skip = skip
        self.cursors: dict[Path, _Cursor] = {}
        if from_end:
            for path in self._files():
                stat = path.stat()
                self.cursors[path] = _Cursor(inode=stat.st_ino, offset=stat.st_size)

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("*.log") if p.name not in self.skip)

    def poll(self) -> dict[Path, list[bytes]]:
        """Return each file's new complete lines (without line ends)."""
        out: dict[Path, list[bytes]] = {}
        for path in self._files():
            lines = self._read(path)
            if lines:
                out[path] = lines
        return out

    def _read(self, path: Path) -> list[bytes]:
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                cursor = self.cursors.get(path)
                if cursor is None or cursor.inode != stat.st_ino or stat.st_size < cursor.offset:
                    cursor = self.cursors[path] = _Cursor(inode=stat.st_ino, offset=0)
                if stat.st_size == cursor.offset:
                    return []
                handle.seek(cursor.offset)
                chunk = handle.read(MAX_READ)
        except FileNotFoundError:
            self.cursors.pop(path, None)
            return []
        cursor.offset += len(chunk)
        data = cursor.partial + chunk
        *lines, cursor.partial = data.split(b"\n")
        return lines
