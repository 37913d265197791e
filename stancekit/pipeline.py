"""Label many input files: the library function behind ``stancekit label``.

A run goes in this order: preflight (the inputs exist and hold something to label; the
output's folder takes files; the output is not overwritten by accident; on resume, the
journal matches), then the lock on the output, then the model, then the work. Inputs
are streamed document by document; sentences are labelled in chunks (so that they share
length-sorted batches) and records are written as each chunk finishes.

A record that fails anywhere (decoding, JSON, its type, the segmenter, the tokenizer or
the model) is rejected alone and the run goes on: it is written to the rejects file with
its file, line, id, stage and reason (``errors="skip"``), or stops the run
(``errors="raise"``). Output to a file is written through ``runfiles.RunFiles``, so that
a crash never leaves a file that looks finished and ``resume=True`` writes every input
sentence exactly once, in the same order as an uninterrupted run.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .errors import DataError, TooManyRejects, UsageError
from .inputs import Document, RowError, read_documents
from .runfiles import RunFiles, RunLock, check_folder, fingerprint
from .scan import scan
from .writers import FORMATS, Writer, make_record

#: A unit longer than this (characters) has no sentence break the segmenter could find;
#: it is cut into pieces of at most ``PIECE`` characters, each labelled on its own.
LONG_UNIT = 5000
PIECE = 1000
#: Rejects printed on stderr when they also go to a rejects file.
SHOWN_REJECTS = 20


@dataclass
class Summary:
    """What a labelling run did.

    Attributes:
        rejected: records rejected (each in the rejects file, or on stderr).
        rejects_path: the rejects file, when there is one with something in it.
        errors: the message of every rejected record.
        long_units: units without sentence breaks that were cut into pieces.
        notes: things the user should know that are not errors (skipped files, cuts).
        resumed_from: input items done by an earlier, interrupted run.
        already_complete: the output was complete before this run; nothing was done.
    """

    files: int = 0
    documents: int = 0
    empty_documents: int = 0
    sentences: int = 0
    labels: Counter = field(default_factory=Counter)
    rejected: int = 0
    rejects_path: str | None = None
    errors: list[str] = field(default_factory=list)
    long_units: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    resumed_from: int = 0
    already_complete: bool = False

    def as_text(self) -> str:
        """The one-line summary that ``stancekit label`` prints."""
        if self.already_complete:
            return "the output was already complete; nothing to resume."
        rate = self.sentences / self.seconds if self.seconds else 0.0
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        resumed = f" (resumed after {self.resumed_from} input items)" if self.resumed_from else ""
        where = f" (see {self.rejects_path})" if self.rejects_path and self.rejected else ""
        return (
            f"{self.files} file(s), {self.documents} document(s) ({self.empty_documents} empty), "
            f"{self.sentences} sentence(s) in {self.seconds:.1f} s ({rate:.0f}/s){resumed}; "
            f"labels: {counts or '-'}; rejected: {self.rejected}{where}"
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the journal stores)."""
        return {**asdict(self), "labels": dict(self.labels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{**known, "labels": Counter(data.get("labels", {}))})


def _events(paths: list[str], problems: list[DataError], split: bool, fields: tuple) -> Iterator:
    """Every input item in a fixed order: unreadable files found in folders, then per
    file its documents and row errors, a file error, and the file's end."""
    for problem in problems:
        yield RowError(problem, "file")
    for path in paths:
        try:
            yield from read_documents(path, split=split, text_field=fields[0], id_field=fields[1])
            yield "file-done"
        except DataError as exc:
            yield RowError(exc, "file")


def sentences_of(text: str, split: bool = True) -> list:
    """The sentences of a document (``split``) or the document as one unit."""
    from .segment import Sentence, split_sentences

    if split:
        return split_sentences(text)
    return [Sentence(text, 0, len(text))] if text.strip() else []


def cut_long(text: str, sentences: list) -> tuple[list, int]:
    """Sentences with every one over ``LONG_UNIT`` characters cut into pieces of at
    most ``PIECE`` characters at white space (anywhere if there is none); also how many
    were cut. Offsets stay exact: ``text[s.start:s.end] == s.text``."""
    from .segment import Sentence

    if all(s.end - s.start <= LONG_UNIT for s in sentences):
        return sentences, 0
    out, cut = [], 0
    for s in sentences:
        if s.end - s.start <= LONG_UNIT:
            out.append(s)
            continue
        cut += 1
        pos = s.start
        while pos < s.end:
            end = min(pos + PIECE, s.end)
            if end < s.end:
                space = max(text.rfind(" ", pos + 1, end), text.rfind("\n", pos + 1, end))
                end = space if space > pos else end
            piece = text[pos:end].strip()
            if piece:
                start = pos + (len(text[pos:end]) - len(text[pos:end].lstrip()))
                out.append(Sentence(piece, start, start + len(piece)))
            pos = end
    return out, cut


def label_chunk(
    model, documents: list[tuple[Document, list]], on_batch: Callable[[int], object] | None = None
) -> list[dict]:
    """Output records (``make_record``) of ``(document, sentences)`` pairs, labelled in
    one pass of length-sorted batches, in document and sentence order; ``on_batch(n)``
    is called as each batch of ``n`` sentences is done."""
    sentences = [s for _, sents in documents for s in sents]
    if not sentences:
        return []
    texts = [s.text for s in sentences]
    raw = model.forward(texts, on_batch=on_batch)
    results = model.postprocess(texts, raw, [s.start for s in sentences])
    records, pos = [], 0
    for doc, sents in documents:
        for number in range(len(sents)):
            records.append(make_record(doc.id, doc.source, number, results[pos]))
            pos += 1
    return records


def label_files(
    inputs: list[str],
    model=None,
    *,
    output: str | Path | None = None,
    fmt: str = "jsonl",
    split: bool = True,
    text_field: str = "text",
    id_field: str = "id",
    resume: bool = False,
    force: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    chunk_sentences: int = 2048,
    errors: str = "raise",
    max_errors: int | None = None,
    rejects: str | Path | None = None,
    load_options: dict[str, Any] | None = None,
    on_error: Callable[[str], None] | None = None,
    progress: bool | None = None,
) -> Summary:
    """Label every document of ``inputs`` and write one record per sentence.

    Args:
        inputs: files, directories (recursive) or ``-`` for stdin.
        model: a ``StanceModel``, or a model folder (default: the shipped model), loaded
            with ``load_options`` once the preflight checks pass.
        output: output file; None writes to stdout.
        fmt: ``jsonl``, ``csv`` or ``parquet``.
        split: False labels each row (each line of a .txt) as one unit, as is.
        text_field, id_field: field names in .jsonl/.csv/.parquet inputs.
        resume: continue an interrupted run into the same ``output``.
        force: overwrite ``output`` (and start over, ignoring an interrupted run).
        include, exclude: glob patterns selecting the files inside directories (see
            ``inputs.scan``).
        chunk_sentences: sentences labelled together before their records are written.
        errors: ``"raise"`` stops at the first bad record with its ``DataError``;
            ``"skip"`` rejects it alone (rejects file, ``on_error``) and goes on.
        max_errors: with ``"skip"``, stop with ``TooManyRejects`` once more records
            than this are rejected.
        rejects: the rejects file (JSON lines: file, line, id, stage, reason, text);
            default ``OUTPUT.rejects.jsonl``, or none with output to stdout.
        load_options: keyword arguments of ``stancekit.load`` (backend, device, ...).
        on_error: called with each rejected record's message (default: print to
            stderr, at most ``SHOWN_REJECTS`` when they also go to a rejects file).
        progress: show a progress bar on stderr (default: when stderr is a terminal).

    Returns:
        A ``Summary``: counts, labels, and what was rejected and where it is listed.

    Raises:
        UsageError: a preflight check failed (before the model loads).
        DataError: a bad record, with ``errors="raise"``.
        TooManyRejects: more than ``max_errors`` records were rejected.
    """
    from .model import StanceModel, default_model_path

    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}.")
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}.")
    if output is None and (resume or fmt == "parquet"):
        raise UsageError(f"{'--resume' if resume else 'Parquet output'} needs an output file.")
    try:
        found = scan(inputs, include, exclude)
    except DataError as exc:
        raise UsageError(str(exc)) from None
    if isinstance(model, StanceModel):
        model_path = str(model.path) if model.path else None
    else:
        model_path = str(Path(model) if model else default_model_path())
    options = {
        "split": split,
        "text_field": text_field,
        "id_field": id_field,
        "format": fmt,
        "model": model_path,
        "chunk": chunk_sentences,
    }
    files = lock = None
    if output is not None:
        if resume and "-" in found.paths:
            raise UsageError("a run that reads stdin (-) cannot be resumed.")
        key = {"inputs": fingerprint(found.paths), "options": options}
        files = RunFiles(output, fmt, key, resume=resume, rejects=rejects)
        check_folder(Path(output))
        lock = RunLock(Path(output))
        lock.acquire()
    elif rejects is not None:
        check_folder(Path(rejects), "rejects")
    try:
        if files is not None:
            files.check(force)
        if files is not None and files.done:
            return _already_done(files, model, model_path, load_options)
        if not isinstance(model, StanceModel):
            from .model import load

            model = load(model_path, **(load_options or {}))
        run = _Run(model, fmt, files, errors, max_errors, rejects, on_error)
        if not run.summary.resumed_from:
            run.summary.notes += [f"skipped {p}: {why}." for p, why in found.skipped]
        events = _events(found.paths, found.problems, split, (text_field, id_field))
        return run.go(events, split, chunk_sentences, progress)
    finally:
        if lock is not None:
            lock.release()


def _already_done(files: RunFiles, model, model_path, load_options) -> Summary:
    """Finish the last steps of a run that crashed after its last record (or report
    that the output is complete)."""
    state = files.state or {}
    if not state.get("complete"):
        return Summary(already_complete=True)
    labels = list(model.labels) if hasattr(model, "labels") else _labels_of(model_path)
    files.complete(labels)
    summary = Summary.from_dict(state.get("summary", {}))
    if summary.rejected:
        summary.rejects_path = str(files.rejects_path)
    return summary


def _labels_of(model_path: str) -> list[str]:
    from .config import ModelConfig

    return list(ModelConfig.load(model_path).labels)


class _Run:
    """One pass over the input items: reject, label, write, journal."""

    def __init__(self, model, fmt, files, errors, max_errors, rejects, on_error):
        self.model, self.files, self.errors, self.max_errors = model, files, errors, max_errors
        self.summary = Summary()
        self.shown = 0
        self.report = on_error
        self.reject_stream: TextIO | None = None
        self.rejects_path: str | None = None
        if files is not None:
            files.start()
            if files.state:
                self.summary = Summary.from_dict(files.state.get("summary") or {})
                self.summary.resumed_from = files.resumed_items
            self.reject_stream = files.rejects
            self.rejects_path = str(files.rejects_path)
            header = files.offset == 0
            # Parquet is written as JSON lines and converted at the end (resumable).
            inner = "jsonl" if fmt == "parquet" else fmt
            self.writer = Writer(None, inner, model.labels, stream=files.stream, header=header)
        else:
            if rejects is not None:
                self.reject_stream = open(rejects, "w", encoding="utf-8", newline="")
                self.rejects_path = str(rejects)
            self.writer = Writer(None, fmt, model.labels)

    def reject(self, item: RowError) -> None:
        """Count and list a rejected record; stop the run if that is what was asked."""
        if self.errors == "raise":
            raise item.error
        self.summary.rejected += 1
        self.summary.errors.append(str(item.error))
        if self.reject_stream is not None:
            self.reject_stream.write(json.dumps(item.as_dict()) + "\n")
        if self.report is not None:
            self.report(str(item.error))
        elif self.reject_stream is None or self.shown < SHOWN_REJECTS:
            print(f"stancekit: error: {item.error}", file=sys.stderr)
            self.shown += 1
        elif self.shown == SHOWN_REJECTS:
            print(f"stancekit: more rejected records in {self.rejects_path}", file=sys.stderr)
            self.shown += 1
        if self.max_errors is not None and self.summary.rejected > self.max_errors:
            where = f"; they are listed in {self.rejects_path}" if self.rejects_path else ""
            raise TooManyRejects(
                f"stopped after {self.summary.rejected} rejected records (--max-errors "
                f"{self.max_errors}){where}. Most of the input looks bad: check --text-field "
                "and the files, then run again (with --resume to keep what is done)."
            )

    def document(self, doc: Document, split: bool) -> list | None:
        """The units of a document to label, or None if it was rejected."""
        try:
            sents = sentences_of(doc.text, split)
        except Exception as exc:  # a segmenter bug must not stop the run
            problem = f"the segmenter failed ({type(exc).__name__}: {exc}); record skipped."
            self.reject(
                RowError(DataError(problem, doc.source, doc.line), "segment", doc.id, doc.text)
            )
            return None
        if split:
            sents, cut = cut_long(doc.text, sents)
            if cut:
                self.summary.long_units += cut
                self.summary.notes.append(
                    f"{doc.id}: {cut} stretch(es) of over {LONG_UNIT} characters without a "
                    f"sentence break, labelled in pieces of at most {PIECE} characters."
                )
        return sents

    def label(self, pending: list[tuple[Document, list]], on_batch) -> list[dict]:
        """Records of the pending documents; if the chunk fails, each document is tried
        alone and those that fail are rejected."""
        try:
            return label_chunk(self.model, pending, on_batch=on_batch)
        except Exception:
            records = []
            for doc, sents in pending:
                try:
                    records += label_chunk(self.model, [(doc, sents)])
                except Exception as exc:
                    problem = f"labelling failed ({type(exc).__name__}: {exc}); record skipped."
                    error = DataError(problem, doc.source, doc.line)
                    self.reject(RowError(error, "label", doc.id, doc.text))
            return records

    def go(self, events: Iterator, split: bool, chunk_sentences: int, progress) -> Summary:
        """Label every item after those an earlier run did; finish the output."""
        from tqdm import tqdm

        summary, files = self.summary, self.files
        skip = summary.resumed_from
        started = time.time() - summary.seconds
        disable = not progress if progress is not None else None
        bar = tqdm(desc="labelling", unit=" sent", disable=disable)
        pending: list[tuple[Document, list]] = []
        count = index = 0

        def flush() -> None:
            nonlocal pending, count
            for record in self.label(pending, bar.update):
                self.writer.write(record)
                summary.labels[record["label"]] += 1
                summary.sentences += 1
            self.writer.flush()
            pending, count = [], 0
            if files:
                summary.seconds = time.time() - started
                files.commit(index, summary.as_dict())

        try:
            for item in events:
                index += 1
                if index <= skip:
                    continue
                if item == "file-done":
                    summary.files += 1
                elif isinstance(item, RowError):
                    self.reject(item)
                else:
                    summary.documents += 1
                    sents = self.document(item, split)
                    if sents is None:
                        continue
                    if not sents:
                        summary.empty_documents += 1
                        continue
                    pending.append((item, sents))
                    count += len(sents)
                    if count >= chunk_sentences:
                        flush()
            flush()
            summary.seconds = time.time() - started
            if summary.rejected and self.rejects_path:
                summary.rejects_path = self.rejects_path
            if files:
                files.finish(index, summary.as_dict(), self.model.labels)
            else:
                self.writer.close()
        finally:
            bar.close()
            if files:
                files.close()
            elif self.reject_stream is not None:
                self.reject_stream.close()
                if not summary.rejected:
                    Path(self.rejects_path).unlink(missing_ok=True)
        return summary
