"""Label many input files: the library function behind ``stancekit label``.

Inputs are streamed document by document; sentences are labelled in chunks (so that
they share length-sorted batches) and records are written as each chunk finishes. A bad
file or row is reported and skipped; the other inputs are still labelled.

Output to a file is written to ``OUT.partial`` and renamed to ``OUT`` only when the run
is complete, so a crash never leaves a file that looks finished. After every chunk the
partial file is synced and a journal ``OUT.progress.json`` records how many input items
are done and how many bytes of output they filled; ``resume=True`` truncates the partial
file to that size and carries on, so every input sentence is written exactly once, in
the same order as an uninterrupted run.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import DataError, StancekitError
from .inputs import Document, RowError, expand, read_documents
from .writers import Writer, make_record

JOURNAL_VERSION = 1


@dataclass
class Summary:
    """What a labelling run did."""

    files: int = 0
    documents: int = 0
    empty_documents: int = 0
    sentences: int = 0
    labels: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    resumed_from: int = 0

    def as_text(self) -> str:
        rate = self.sentences / self.seconds if self.seconds else 0.0
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        resumed = f" (resumed after {self.resumed_from} input items)" if self.resumed_from else ""
        return (
            f"{self.files} file(s), {self.documents} document(s) ({self.empty_documents} empty), "
            f"{self.sentences} sentence(s) in {self.seconds:.1f} s ({rate:.0f}/s){resumed}; "
            f"labels: {counts or '-'}; errors: {len(self.errors)}"
        )


def _events(paths: list[str], split: bool, text_field: str, id_field: str) -> Iterator:
    """Every input item in a fixed order: documents, row errors, file errors, file ends."""
    for path in paths:
        try:
            yield from read_documents(path, split=split, text_field=text_field, id_field=id_field)
            yield "file-done"
        except DataError as exc:
            yield RowError(exc)


def sentences_of(text: str, split: bool = True) -> list:
    """The sentences of a document (``split``) or the document as one unit."""
    from .segment import Sentence, split_sentences

    if split:
        return split_sentences(text)
    return [Sentence(text, 0, len(text))] if text.strip() else []


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
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    chunk_sentences: int = 2048,
    on_error: Callable[[str], None] | None = None,
    progress: bool | None = None,
) -> Summary:
    """Label every document of ``inputs`` and write one record per sentence.

    Args:
        inputs: files, directories (recursive) or ``-`` for stdin.
        model: a ``StanceModel`` or model folder; default the shipped model.
        output: output file; None writes to stdout.
        fmt: ``jsonl``, ``csv`` or ``parquet``.
        split: False labels each row (each line of a .txt) as one unit, as is.
        text_field, id_field: field names in .jsonl/.csv/.parquet inputs.
        resume: continue an interrupted run into the same ``output`` (jsonl or csv).
        include, exclude: glob patterns selecting the files inside directories (see
            ``inputs.expand``).
        chunk_sentences: sentences labelled together before their records are written.
        on_error: called with each error message (default: print to stderr).
        progress: show a progress bar on stderr (default: when stderr is a terminal).

    Returns:
        A ``Summary``; ``summary.errors`` lists every input problem.
    """
    from tqdm import tqdm

    from .model import StanceModel, load

    if not isinstance(model, StanceModel):
        model = load(model)
    report = on_error or (lambda msg: print(f"stancekit: error: {msg}", file=sys.stderr))
    paths = expand(inputs, include, exclude)
    options = {
        "split": split,
        "text_field": text_field,
        "id_field": id_field,
        "format": fmt,
        "model": str(model.path) if model.path else None,
        "chunk": chunk_sentences,
    }
    output_file = _OutputFile(output, fmt, paths, options, resume) if output else None
    summary = output_file.summary if output_file else Summary()
    if output_file and output_file.complete:
        return summary
    skip = summary.resumed_from
    started = time.time() - summary.seconds
    if output_file:
        writer = Writer(
            output_file.path, fmt, model.labels, stream=output_file.stream, header=not skip
        )
    else:
        writer = Writer(None, fmt, model.labels)
    bar = tqdm(
        desc="labelling", unit=" sent", disable=not progress if progress is not None else None
    )
    pending: list[tuple[Document, list]] = []
    pending_count = 0
    index = 0

    def flush() -> None:
        nonlocal pending, pending_count
        records = label_chunk(model, pending, on_batch=bar.update)
        if records:
            for record in records:
                writer.write(record)
                summary.labels[record["label"]] += 1
            writer.flush()
            summary.sentences += len(records)
        pending, pending_count = [], 0
        if output_file:
            summary.seconds = time.time() - started
            output_file.commit(index, summary)

    try:
        for item in _events(paths, split, text_field, id_field):
            index += 1
            if index <= skip:
                continue
            if item == "file-done":
                summary.files += 1
            elif isinstance(item, RowError):
                summary.errors.append(str(item.error))
                report(str(item.error))
            else:
                summary.documents += 1
                sents = sentences_of(item.text, split)
                if not sents:
                    summary.empty_documents += 1
                    continue
                pending.append((item, sents))
                pending_count += len(sents)
                if pending_count >= chunk_sentences:
                    flush()
        flush()
    finally:
        bar.close()
        if output_file is None:
            writer.close()
    summary.seconds = time.time() - started
    if output_file:
        if fmt == "parquet":
            writer.close()
        output_file.finish(index, summary)
    return summary


class _OutputFile:
    """The partial output file and its journal (see the module docstring)."""

    def __init__(self, output, fmt: str, paths: list[str], options: dict, resume: bool):
        self.final = Path(output)
        self.path = Path(f"{output}.partial")
        self.journal = Path(f"{output}.progress.json")
        self.fmt = fmt
        self.key = {"version": JOURNAL_VERSION, "inputs": paths, "options": options}
        self.summary = Summary()
        self.complete = False
        self.stream = None
        if resume and fmt == "parquet":
            raise StancekitError("--resume needs jsonl or csv output, not parquet.")
        state = self._read_journal() if resume else None
        if state and state.get("complete"):
            self.summary = _summary_from(state["summary"])
            self.complete = True
            return
        if fmt == "parquet":
            self.journal.unlink(missing_ok=True)
            return
        if state:
            raw = open(self.path, "r+b")
            raw.truncate(state["bytes"])
            raw.seek(state["bytes"])
            self.summary = _summary_from(state["summary"])
            self.summary.resumed_from = state["items"]
        else:
            self.journal.unlink(missing_ok=True)
            raw = open(self.path, "wb")
        self.raw = raw
        self.stream = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=True)

    def _read_journal(self) -> dict | None:
        if not self.journal.is_file():
            return None
        try:
            state = json.loads(self.journal.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise StancekitError(
                f"{self.journal} is unreadable ({exc}); remove it to start over."
            ) from None
        if state.get("key") != self.key:
            raise StancekitError(
                f"{self.journal} belongs to a run with other inputs or options; "
                "run again with the same arguments, or remove it to start over."
            )
        if not state.get("complete") and not self.path.is_file():
            raise StancekitError(f"{self.path} is missing; remove {self.journal} to start over.")
        return state

    def commit(self, items: int, summary: Summary, complete: bool = False) -> None:
        if self.stream is not None:
            self.stream.flush()
            os.fsync(self.raw.fileno())
            size = self.raw.tell()
        else:
            size = 0
        state = {
            "key": self.key,
            "items": items,
            "bytes": size,
            "complete": complete,
            "summary": {**asdict(summary), "labels": dict(summary.labels)},
        }
        tmp = self.journal.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), "utf-8")
        os.replace(tmp, self.journal)

    def finish(self, items: int, summary: Summary) -> None:
        if self.stream is not None:
            self.stream.flush()
            os.fsync(self.raw.fileno())
            self.stream.close()
            self.stream = None
        os.replace(self.path, self.final)
        self.commit(items, summary, complete=True)


def _summary_from(data: dict) -> Summary:
    data = dict(data)
    data["labels"] = Counter(data.get("labels", {}))
    return Summary(**data)
