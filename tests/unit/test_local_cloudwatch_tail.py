"""The agent's tailer reads each log line once, across new, growing and truncated files."""

from __future__ import annotations

from pathlib import Path

from localaws.cloudwatch.tail import LogTailer


def test_existing_files_are_followed_from_their_end(tmp_path: Path) -> None:
    """Lines written before the tailer started (an earlier run's) are not read."""
    log = tmp_path / "gateway-az-a.log"
    log.write_bytes(b"old line\n")
    tailer = LogTailer(tmp_path)
    assert tailer.poll() == {}
    with log.open("ab") as handle:
        handle.write(b"new line\n")
    assert tailer.poll() == {log: [b"new line"]}


def test_new_files_are_read_from_the_start_and_partial_lines_wait(tmp_path: Path) -> None:
    """A file that appears later is read whole; a line without its end waits for it."""
    tailer = LogTailer(tmp_path)
    log = tmp_path / "lambda-x.log"
    log.write_bytes(b"one\ntw")
    assert tailer.poll() == {log: [b"one"]}
    with log.open("ab") as handle:
        handle.write(b"o\n")
    assert tailer.poll() == {log: [b"two"]}
    assert tailer.poll() == {}


def test_truncated_file_is_read_again_from_its_start(tmp_path: Path) -> None:
    """After truncation the file's new content is read, not skipped."""
    log = tmp_path / "a.log"
    tailer = LogTailer(tmp_path)
    log.write_bytes(b"first line that is long\n")
    assert tailer.poll() == {log: [b"first line that is long"]}
    log.write_bytes(b"short\n")
    assert tailer.poll() == {log: [b"short"]}


def test_skipped_and_other_files_are_ignored(tmp_path: Path) -> None:
    """Files named in *skip*, and files not ending in .log, are not read."""
    (tmp_path / "metrics-agent.log").write_bytes(b"")
    tailer = LogTailer(tmp_path, skip=frozenset({"metrics-agent.log"}))
    (tmp_path / "metrics-agent.log").write_bytes(b"self\n")
    (tmp_path / "notes.txt").write_bytes(b"x\n")
    assert tailer.poll() == {}
