"""Find the files to label: expand files, folders (recursively, with include and
exclude globs) and stdin into a list of paths, and name what is left out and why
(files of an unknown type, symbolic link loops, broken links, unreadable files)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from .errors import DataError

#: The input formats, by file suffix (each may also end in ``.gz``).
SUFFIXES = (".txt", ".jsonl", ".ndjson", ".csv", ".parquet")


@dataclass
class Scan:
    """What the inputs expand to: the files to read, and what was left out and why.

    Attributes:
        paths: the files to read, in order.
        skipped: ``(path, reason)`` of files in folders that are not of a known type.
        problems: files in folders that exist but cannot be read (symlink loops, broken
            links, unreadable files, names that are not UTF-8): each is rejected.
    """

    paths: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[DataError] = field(default_factory=list)


def kind_of(path: str) -> str:
    """The input format of a path from its suffix, ignoring a trailing ``.gz``."""
    name = path[:-3] if path.endswith(".gz") else path
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return suffix.lstrip(".").replace("ndjson", "jsonl")
    return ""


def scan(inputs: list[str], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Scan:
    """Expand ``inputs`` into files to read, naming what is left out and why.

    A folder expands to its files of a known type, recursively (symbolic links to
    folders are not followed), sorted. ``include`` and ``exclude`` are glob patterns
    (``*.jsonl``, ``2024/*``, ``*/drafts/*``) matched against each file's path relative
    to the folder and against its name: a file found in a folder is read when it
    matches some ``include`` pattern (or there are none) and no ``exclude`` pattern.
    Files named directly are always read (``-`` is stdin).

    Raises:
        DataError: an input that does not exist, cannot be read, or (a folder) holds
            nothing to label; the message lists what was skipped.
    """
    out = Scan()
    for item in inputs:
        path = Path(item)
        if item == "-":
            out.paths.append(item)
        elif path.is_dir():
            _scan_folder(path, include, exclude, out)
        elif path.is_file():
            if not os.access(path, os.R_OK):
                raise DataError("cannot read file (permission denied).", item)
            out.paths.append(item)
        elif path.is_symlink():
            raise DataError(_link_problem(path), item)
        elif path.exists():
            raise DataError("not a regular file.", item)
        else:
            raise DataError("no such file or folder.", item)
    return out


def expand(
    inputs: list[str], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[str]:
    """The files ``scan`` finds to read (see there)."""
    return scan(inputs, include, exclude).paths


def _scan_folder(root: Path, include: Sequence[str], exclude: Sequence[str], out: Scan) -> None:
    found: list[str] = []
    skipped: list[tuple[str, str]] = []
    problems: list[DataError] = []
    for folder, dirs, files in os.walk(root, onerror=lambda exc: problems.append(_walk(exc))):
        dirs.sort()
        for name in files + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            p = Path(folder) / name
            names = (p.relative_to(root).as_posix(), p.name)
            if include and not any(fnmatchcase(n, g) for n in names for g in include):
                continue
            if any(fnmatchcase(n, g) for n in names for g in exclude):
                continue
            if p.is_symlink() and p.is_dir():
                skipped.append((str(p), "a link to a folder (not followed)"))
            elif p.is_symlink() and not p.exists():
                problems.append(DataError(_link_problem(p), str(p)))
            elif not kind_of(p.name):
                skipped.append((str(p), "not a .txt, .jsonl, .ndjson, .csv or .parquet file"))
            elif not p.is_file():
                problems.append(DataError(_link_problem(p), str(p)))
            elif not os.access(p, os.R_OK):
                problems.append(DataError("cannot read file (permission denied).", str(p)))
            elif not _is_utf8_name(str(p)):
                problems.append(DataError("the file name is not UTF-8; rename it.", repr(str(p))))
            else:
                found.append(str(p))
    if not found and not problems:
        listed = "; ".join(f"{Path(p).relative_to(root)} ({why})" for p, why in skipped[:10])
        more = f"; and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        what = f"skipped {len(skipped)} file(s): {listed}{more}" if skipped else "it is empty"
        raise DataError(f"nothing to label in this folder: {what}.", str(root))
    out.paths += sorted(found)
    out.skipped += skipped
    out.problems += problems


def _walk(exc: OSError) -> DataError:
    return DataError(f"cannot read folder ({exc.strerror}).", exc.filename)


def _link_problem(path: Path) -> str:
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "a symbolic link loop."
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "a symbolic link loop."
        return f"a broken symbolic link ({exc.strerror})."
    return "not a regular file."


def _is_utf8_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
