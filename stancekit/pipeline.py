"""Label many input files: the library function behind ``stancekit label``.

Inputs are read document by document; sentences are labelled in chunks (so that they
share length-sorted batches) and records are written as each chunk finishes. A bad file
or row is reported and skipped; the other inputs are still labelled.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError
from .inputs import Document, RowError, expand, read_documents
from .writers import Writer, make_record


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

    def as_text(self) -> str:
        rate = self.sentences / self.seconds if self.seconds else 0.0
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return (
            f"{self.files} file(s), {self.documents} document(s) ({self.empty_documents} empty), "
            f"{self.sentences} sentence(s) in {self.seconds:.1f} s ({rate:.0f}/s); "
            f"labels: {counts or '-'}; errors: {len(self.errors)}"
        )


def label_files(
    inputs: list[str],
    model=None,
    *,
    output: str | Path | None = None,
    fmt: str = "jsonl",
    split: bool = True,
    text_field: str = "text",
    id_field: str = "id",
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
        text_field, id_field: field names in .jsonl/.csv inputs.
        chunk_sentences: sentences labelled together before their records are written.
        on_error: called with each error message (default: print to stderr).
        progress: show a progress bar on stderr (default: when stderr is a terminal).

    Returns:
        A ``Summary``; ``summary.errors`` lists every input problem.
    """
    from tqdm.auto import tqdm

    from .model import StanceModel, load
    from .segment import split_sentences

    if not isinstance(model, StanceModel):
        model = load(model)
    report = on_error or (lambda msg: print(f"stancekit: error: {msg}", file=sys.stderr))
    summary = Summary()
    started = time.time()
    writer = Writer(output, fmt, model.labels)
    bar = tqdm(
        desc="labelling", unit=" sent", disable=not progress if progress is not None else None
    )
    pending: list[tuple[Document, list]] = []
    pending_count = 0

    def flush() -> None:
        nonlocal pending, pending_count
        sentences = [s for _, sents in pending for s in sents]
        raw = model.forward([s.text for s in sentences])
        results = model._results([s.text for s in sentences], raw, [s.start for s in sentences])
        pos = 0
        for doc, sents in pending:
            for index in range(len(sents)):
                result = results[pos]
                writer.write(make_record(doc.id, doc.source, index, result))
                summary.labels[result.label] += 1
                pos += 1
        writer.flush()
        summary.sentences += len(sentences)
        bar.update(len(sentences))
        pending, pending_count = [], 0

    try:
        for path in expand(inputs):
            try:
                for item in read_documents(
                    path, split=split, text_field=text_field, id_field=id_field
                ):
                    if isinstance(item, RowError):
                        summary.errors.append(str(item.error))
                        report(str(item.error))
                        continue
                    summary.documents += 1
                    if split:
                        sents = split_sentences(item.text)
                    else:
                        from .segment import Sentence

                        sents = (
                            [Sentence(item.text, 0, len(item.text))] if item.text.strip() else []
                        )
                    if not sents:
                        summary.empty_documents += 1
                        continue
                    pending.append((item, sents))
                    pending_count += len(sents)
                    if pending_count >= chunk_sentences:
                        flush()
                summary.files += 1
            except DataError as exc:
                summary.errors.append(str(exc))
                report(str(exc))
        if pending:
            flush()
    finally:
        bar.close()
        writer.close()
    summary.seconds = time.time() - started
    return summary
