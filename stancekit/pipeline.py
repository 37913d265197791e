"""Label many input files: the library function behind ``stancekit label``.

A run goes in this order: preflight (the inputs exist and hold something to label; the
output's folder takes files; the output is not overwritten by accident; on resume, the
journal matches), then the lock on the output, then the model, then the work. Inputs
are streamed document by document; sentences are labelled in chunks (so that they share
length-sorted batches) and records are written as each chunk finishes. The forward pass
of a chunk (tokenizer and runner, which release the GIL) runs in a worker thread while
the main thread reads and segments the next chunk and writes the records of the one
before; the input items of a chunk are counted and rejected when its records are
written, so output, rejects and journal move together, in input order.

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
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
    texts = [s.text for _, sents in documents for s in sents]
    if not texts:
        return []
    return _records(model, documents, model.forward(texts, on_batch=on_batch))


def _records(model, documents: list[tuple[Document, list]], raw) -> list[dict]:
    """Output records of ``(document, sentences)`` pairs from the forward outputs of
    their sentences (``model.forward``), in document and sentence order."""
    sentences = [s for _, sents in documents for s in sents]
    results = model.postprocess([s.text for s in sentences], raw, [s.start for s in sentences])
    records, pos = [], 0
    for doc, sents in documents:
        for number in range(len(sents)):
            records.append(make_record(doc.id, doc.source, number, results[pos]))
            pos += 1
    return records


@dataclass(frozen=True, slots=True)
class _Segmented:
    """A document read ahead: its units to label and how many over-long stretches were
    cut, or why the segmenter failed."""

    doc: Document
    sentences: list
    cut: int = 0
    failure: RowError | None = None


@dataclass
class _Chunk:
    """Input items read ahead of their labelling: every item in input order (file ends,
    bad rows, segmented documents), the documents with units to label, the number of
    the last item, and the forward pass of the documents' units (in the worker)."""

    items: list = field(default_factory=list)
    documents: list[tuple[Document, list]] = field(default_factory=list)
    sentences: int = 0
    end: int = 0
    forward: Future | None = None


class _Stopped(Exception):
    """Ends a forward pass in the worker after its current batch: the run has stopped."""


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
    from .model import EXIT_MODEL, StanceModel, resolve_model_path

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
        min_score = model.min_score
        early_exit = None
        if model.early_exit is not None:
            first = model.early_exit.model.path
            early_exit = [model.early_exit.threshold, str(first) if first else None]
    else:
        model_path = str(resolve_model_path(model))
        min_score = (load_options or {}).get("min_score")
        early_exit = (load_options or {}).get("early_exit")
        if early_exit is not None:
            first = (load_options or {}).get("exit_model", EXIT_MODEL)
            early_exit = [early_exit, str(resolve_model_path(first))]
    options = {
        "split": split,
        "text_field": text_field,
        "id_field": id_field,
        "format": fmt,
        "model": model_path,
        "chunk": chunk_sentences,
    }
    if min_score is not None:  # changes labels: a resumed run must use the same
        options["min_score"] = min_score
    if early_exit is not None:  # so does the cascade (threshold, first model)
        options["early_exit"] = early_exit
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

    def segment(self, doc: Document, split: bool) -> _Segmented:
        """The units of a document to label (none yet counted or rejected)."""
        try:
            sents = sentences_of(doc.text, split)
        except Exception as exc:  # a segmenter bug must not stop the run
            problem = f"the segmenter failed ({type(exc).__name__}: {exc}); record skipped."
            error = DataError(problem, doc.source, doc.line)
            return _Segmented(doc, [], failure=RowError(error, "segment", doc.id, doc.text))
        if split:
            sents, cut = cut_long(doc.text, sents)
            return _Segmented(doc, sents, cut)
        return _Segmented(doc, sents)

    def chunks(self, events: Iterator, split: bool, size: int) -> Iterator[_Chunk]:
        """The input items after those an earlier run did, segmented, in chunks of at
        least ``size`` units (but the last); the last chunk may hold no documents."""
        chunk, index = _Chunk(), 0
        for item in events:
            index += 1
            if index <= self.summary.resumed_from:
                continue
            if not isinstance(item, Document):
                chunk.items.append(item)
                continue
            item = self.segment(item, split)
            chunk.items.append(item)
            if item.sentences:
                chunk.documents.append((item.doc, item.sentences))
                chunk.sentences += len(item.sentences)
                if chunk.sentences >= size:
                    chunk.end = index
                    yield chunk
                    chunk = _Chunk()
        chunk.end = index
        yield chunk

    def count(self, item) -> None:
        """Count an input item in the summary, and reject it if it is bad."""
        summary = self.summary
        if item == "file-done":
            summary.files += 1
        elif isinstance(item, RowError):
            self.reject(item)
        else:
            summary.documents += 1
            if item.failure is not None:
                self.reject(item.failure)
            elif not item.sentences:
                summary.empty_documents += 1
            elif item.cut:
                summary.long_units += item.cut
                summary.notes.append(
                    f"{item.doc.id}: {item.cut} stretch(es) of over {LONG_UNIT} characters "
                    f"without a sentence break, labelled in pieces of at most {PIECE} characters."
                )

    def label(self, chunk: _Chunk) -> list[dict]:
        """Records of the chunk's documents; if the chunk fails, each document is tried
        alone and those that fail are rejected."""
        if not chunk.documents:
            return []
        try:
            return _records(self.model, chunk.documents, chunk.forward.result())
        except Exception:
            records = []
            for doc, sents in chunk.documents:
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
        started = time.time() - summary.seconds
        disable = not progress if progress is not None else None
        bar = tqdm(desc="labelling", unit=" sent", disable=disable)
        worker = ThreadPoolExecutor(1, thread_name_prefix="stancekit-forward")
        stopped = threading.Event()

        def on_batch(n: int) -> None:
            bar.update(n)
            if stopped.is_set():
                raise _Stopped

        def finish(chunk: _Chunk) -> None:
            for item in chunk.items:
                self.count(item)
            records = self.label(chunk)
            self.writer.write_many(records)
            self.writer.flush()
            summary.labels.update(record["label"] for record in records)
            summary.sentences += len(records)
            if files:
                summary.seconds = time.time() - started
                files.commit(chunk.end, summary.as_dict())

        try:
            ahead = None
            for chunk in self.chunks(events, split, chunk_sentences):
                if chunk.documents:
                    texts = [s.text for _, sents in chunk.documents for s in sents]
                    chunk.forward = worker.submit(self.model.forward, texts, on_batch=on_batch)
                if ahead is not None:
                    finish(ahead)
                ahead = chunk
            finish(ahead)
            summary.seconds = time.time() - started
            if summary.rejected and self.rejects_path:
                summary.rejects_path = self.rejects_path
            if files:
                files.finish(ahead.end, summary.as_dict(), self.model.labels)
            else:
                self.writer.close()
        finally:
            stopped.set()
            worker.shutdown(cancel_futures=True)
            bar.close()
            if files:
                files.close()
            elif self.reject_stream is not None:
                self.reject_stream.close()
                if not summary.rejected:
                    Path(self.rejects_path).unlink(missing_ok=True)
        return summary
