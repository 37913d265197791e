"""The files of a labelling run into ``OUT``: how a run is checked, locked, journalled,
resumed and finished.

* ``OUT.partial`` holds the records written so far (JSON lines for Parquet output, which
  is converted at the end); ``OUT`` appears only when the run is complete.
* ``OUT.progress.json``, the journal, records after every chunk what the run is (its
  options, and each input's size and modification time), how many input items are done,
  and how long ``OUT.partial`` and the rejects file were then. ``--resume`` checks all of
  it and refuses, saying what differs, rather than write a wrong output.
* ``OUT.rejects.jsonl`` (or ``--rejects PATH``) lists every rejected record; it is removed
  at the end when there is none.
* ``OUT.lock`` (an OS lock taken with ``filelock``, released by the OS when the process
  dies) keeps a second run off the same output; ``OUT.lock.json`` names the holder.

A run finishes in steps, each of which ``--resume`` can finish if a crash stops it
between two: (1) the journal is marked complete with the partial file's final length;
(2) ``OUT.partial`` becomes ``OUT`` (renamed, or converted to Parquet and renamed, then
removed); (3) an empty rejects file is removed; (4) the journal is removed.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .errors import UsageError

JOURNAL_VERSION = 2


def side_path(output: str | Path, suffix: str) -> Path:
    """``OUT`` + suffix: ``OUT.partial``, ``OUT.progress.json``, ``OUT.rejects.jsonl``..."""
    return Path(f"{output}{suffix}")


def check_folder(path: Path, what: str = "output") -> None:
    """Raise ``UsageError`` unless the folder of ``path`` exists and takes new files."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(
            f"the {what} folder {folder} does not exist; create it first, or write elsewhere."
        )
    probe = folder / f".stancekit-probe-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise UsageError(
            f"cannot write to the {what} folder {folder} ({exc.strerror}); write elsewhere."
        ) from None


def fingerprint(paths: list[str]) -> list[dict[str, Any]]:
    """Each input's path, size and modification time (what ``--resume`` checks)."""
    out = []
    for path in paths:
        if path == "-":
            out.append({"path": "-"})
            continue
        st = os.stat(path)
        out.append({"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


class RunLock:
    """One writer per output: an OS file lock, and a JSON file naming its holder."""

    def __init__(self, output: Path):
        self.output = output
        self.path = side_path(output, ".lock")
        self.info = side_path(output, ".lock.json")
        self._lock = FileLock(str(self.path), timeout=0)

    def acquire(self) -> None:
        """Take the lock, or raise ``UsageError`` naming the run that holds it."""
        try:
            self._lock.acquire()
        except Timeout:
            raise UsageError(
                f"{self.output} is being written by another stancekit run ({self.holder()}); "
                "wait for it to end, or write to another file."
            ) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "command": sys.argv,
        }
        _write_atomic(self.info, json.dumps(info))

    def holder(self) -> str:
        """Who holds the lock, from the info file."""
        try:
            info = json.loads(self.info.read_text("utf-8"))
            return f"pid {info['pid']} on {info['host']}, started {info['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown: no readable lock info"

    def release(self) -> None:
        """Remove the info file and the lock file, then let go of the lock."""
        if not self._lock.is_locked:
            return
        self.info.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
        self._lock.release()


class RunFiles:
    """The partial output, journal and rejects file of a run into ``output``.

    Args:
        output: the final output file.
        fmt: ``jsonl``, ``csv`` or ``parquet``.
        key: what the run is (inputs' fingerprints, options); a resumed run must match.
        resume: continue the run the journal describes.
        rejects: the rejects file (default ``OUT.rejects.jsonl``).
    """

    def __init__(
        self,
        output: str | Path,
        fmt: str,
        key: dict[str, Any],
        *,
        resume: bool = False,
        rejects: str | Path | None = None,
    ):
        self.final = Path(output)
        self.partial = side_path(output, ".partial")
        self.journal = side_path(output, ".progress.json")
        self.rejects_path = Path(rejects) if rejects else side_path(output, ".rejects.jsonl")
        self.fmt = fmt
        self.key = {"version": JOURNAL_VERSION, **key}
        self.resume = resume
        self.state: dict[str, Any] | None = None
        self.stream: io.TextIOWrapper | None = None
        self.rejects: io.TextIOWrapper | None = None
        self._raw = None
        self._rejects_raw = None

    # -- before the model loads -----------------------------------------------------------
    def check(self, force: bool) -> None:
        """Preflight: the folders exist and take files; ``OUT`` is not overwritten
        without ``force``; on resume, the journal matches this run and the partial file
        is whole. Raises ``UsageError`` saying what to do."""
        check_folder(self.final)
        if self.rejects_path.parent != self.final.parent:
            check_folder(self.rejects_path, "rejects")
        if not self.resume:
            if self.final.exists() and not force:
                raise UsageError(f"{self.final} exists; use --force to overwrite it.")
            if self.partial.exists() and not force:
                raise UsageError(
                    f"{self.partial} is left from an interrupted run: use --resume to "
                    "continue it or --force to start over."
                )
            return
        state = self._read_journal()
        if state is None:
            if self.partial.exists():
                return  # killed before its first entry: nothing is done, start over
            if self.final.exists():
                self.state = {"done": True}
                return
            raise UsageError(
                f"nothing to resume: there is no {self.partial}, {self.journal} or "
                f"{self.final}; run without --resume to start."
            )
        self._check_key(state)
        recorded = state["bytes"]
        if self.partial.exists():
            size = self.partial.stat().st_size
            if size < recorded:
                raise UsageError(
                    f"{self.partial} is {size} bytes, shorter than the {recorded} bytes "
                    f"{self.journal} recorded: it was cut or replaced. Use --force to start over."
                )
        elif not (state["complete"] and self.final.exists()):
            raise UsageError(
                f"{self.partial} is missing, so the run cannot go on; use --force to start over."
            )
        self.state = state

    def _read_journal(self) -> dict[str, Any] | None:
        if not self.journal.is_file():
            return None
        try:
            state = json.loads(self.journal.read_text("utf-8"))
            state["bytes"], state["items"], state["complete"]  # noqa: B018 - fields exist
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{self.journal} is unreadable ({exc}); use --force to start over."
            ) from None
        return state

    def _check_key(self, state: dict[str, Any]) -> None:
        old = state.get("key", {})
        if old == self.key:
            return
        differences = describe_changes(old, self.key)
        raise UsageError(
            f"{self.journal} belongs to another run: {differences}. Run again with the "
            "same inputs and options to resume, or use --force to start over."
        )

    # -- the run ------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """The output is complete: nothing to label."""
        return bool(self.state and (self.state.get("done") or self.state.get("complete")))

    @property
    def resumed_items(self) -> int:
        """Input items done before this run (0 when starting over)."""
        return self.state["items"] if self.state and not self.done else 0

    @property
    def offset(self) -> int:
        """Bytes in the partial output now."""
        return self._raw.tell() if self._raw is not None else 0

    def start(self) -> None:
        """Open the partial output and rejects file: truncated to the journal's lengths
        on resume, empty otherwise; a fresh run writes its first journal entry."""
        if self.done:
            return
        if self.state:
            self._raw = open(self.partial, "r+b")
            self._raw.truncate(self.state["bytes"])
            self._raw.seek(self.state["bytes"])
            self._rejects_raw = open(self.rejects_path, "a+b")
            self._rejects_raw.truncate(self.state["rejects_bytes"])
            self._rejects_raw.seek(self.state["rejects_bytes"])
        else:
            self._raw = open(self.partial, "wb")
            self._rejects_raw = open(self.rejects_path, "wb")
        self.stream = io.TextIOWrapper(self._raw, encoding="utf-8", newline="", write_through=True)
        self.rejects = io.TextIOWrapper(
            self._rejects_raw, encoding="utf-8", newline="", write_through=True
        )
        if not self.state:
            self.commit(0, {})

    def commit(self, items: int, summary: dict[str, Any], complete: bool = False) -> None:
        """Sync the partial and rejects files and record how far the run got."""
        sizes = []
        for raw in (self._raw, self._rejects_raw):
            if raw is None:
                sizes.append(0)
                continue
            raw.flush()
            os.fsync(raw.fileno())
            sizes.append(raw.tell())
        state = {
            "key": self.key,
            "items": items,
            "bytes": sizes[0],
            "rejects_bytes": sizes[1],
            "complete": complete,
            "summary": summary,
        }
        _write_atomic(self.journal, json.dumps(state))
        self.state = state if complete else self.state

    def close(self) -> None:
        """Close the files (the run may be resumed)."""
        for stream in (self.stream, self.rejects):
            if stream is not None:
                stream.close()
        self.stream = self.rejects = None

    def finish(self, items: int, summary: dict[str, Any], labels: list[str]) -> None:
        """Steps (1) to (4) of the module docstring."""
        self.commit(items, summary, complete=True)
        self.close()
        self.complete(labels)

    def complete(self, labels: list[str]) -> None:
        """Steps (2) to (4): also what ``--resume`` does after a crash among them."""
        rejects_bytes = self.state.get("rejects_bytes", 0) if self.state else 0
        if self.partial.exists():
            if self.fmt == "parquet":
                from .writers import jsonl_to_parquet

                tmp = side_path(self.final, ".parquet-tmp")
                jsonl_to_parquet(self.partial, tmp, labels, size=self.state["bytes"])
                os.replace(tmp, self.final)
                os.unlink(self.partial)
            else:
                if self.partial.stat().st_size != self.state["bytes"]:
                    with open(self.partial, "r+b") as fh:
                        fh.truncate(self.state["bytes"])
                os.replace(self.partial, self.final)
            _sync_folder(self.final)
        if self.rejects_path.exists():
            if rejects_bytes == 0:
                os.unlink(self.rejects_path)
            elif self.rejects_path.stat().st_size > rejects_bytes:
                with open(self.rejects_path, "r+b") as fh:
                    fh.truncate(rejects_bytes)
        if self.journal.exists():
            os.unlink(self.journal)
        _sync_folder(self.final)


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    """What differs between two run keys, in words (first few differences)."""
    found = []
    old_opts, new_opts = old.get("options", {}), new.get("options", {})
    for name in sorted(set(old_opts) | set(new_opts)):
        if old_opts.get(name) != new_opts.get(name):
            found.append(f"option {name} was {old_opts.get(name)!r}, now {new_opts.get(name)!r}")
    old_in = {i["path"]: i for i in old.get("inputs", [])}
    new_in = {i["path"]: i for i in new.get("inputs", [])}
    for path in [p for p in old_in if p not in new_in]:
        found.append(f"input {path} is gone")
    for path in [p for p in new_in if p not in old_in]:
        found.append(f"input {path} is new")
    for path in [p for p in new_in if p in old_in and old_in[p] != new_in[p]]:
        was, now = old_in[path], new_in[path]
        if was.get("size") != now.get("size"):
            found.append(
                f"input {path} changed size ({was.get('size')} -> {now.get('size')} bytes)"
            )
        else:
            found.append(f"input {path} was modified")
    if not found and old.get("version") != new.get("version"):
        found.append(f"journal version {old.get('version')!r}, expected {new.get('version')!r}")
    if not found:
        found.append("its inputs are in another order")
    more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    return "; ".join(found[:3]) + more


def read_progress(output: str | Path) -> dict[str, Any] | None:
    """The journal of ``output`` (how far an interrupted run got), or None."""
    try:
        return json.loads(side_path(output, ".progress.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _write_atomic(path: Path, text: str) -> None:
    tmp = side_path(path, ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _sync_folder(path: Path) -> None:
    """Make renames and removals in the folder of ``path`` durable (where possible)."""
    try:
        fd = os.open(path.parent if str(path.parent) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
