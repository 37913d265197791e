"""Label a corpus on a Ray cluster with Ray Data (``pip install 'stancekit[ray]'``).

``StanceLabeler`` is a callable class for ``Dataset.map_batches``: Ray builds one per
worker (actor), so the model is loaded once per worker and reused for every batch. Each
input row is one document; each output row is one sentence, with the same columns as
``stancekit label --format csv`` (the records of ``stancekit.pipeline.label_chunk``,
flattened by ``stancekit.writers.flatten``)::

    import ray
    from stancekit.raydata import StanceLabeler

    ds = ray.data.read_json("s3://bucket/articles/")          # rows: {"id", "text", ...}
    labelled = ds.map_batches(
        StanceLabeler,
        fn_constructor_kwargs={"model": "/shared/models/my-model", "threads": 2},
        batch_size=256,
        concurrency=8,              # workers; each loads the model once
        num_cpus=2,                 # CPU threads per worker (or num_gpus=1 on GPU nodes)
    )
    labelled.write_parquet("s3://bucket/labelled/")

The recipe for a cluster and for GPUs is in ``docs/scale-out.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .inputs import Document
from .pipeline import label_chunk, sentences_of
from .writers import columns, flatten


class StanceLabeler:
    """Ray Data ``map_batches`` callable: documents in, one row per sentence out.

    Args:
        model: model folder (default: the shipped model); every worker must see it (a
            shared file system, or the installed package for the default model).
        text_field: column holding the document text.
        id_field: column holding the document id; rows without one get ``"<row>"``
            numbering within their batch, so give ids for reproducible output.
        source_field: column copied into ``source`` (e.g. ``"path"`` from
            ``read_json(..., include_paths=True)``); default empty.
        split: False labels each row as one unit, as ``--no-split`` does.
        device, precision, backend, batch_size: as for ``stancekit.load``.
        threads: ONNX backend: batches in flight, one thread each; give the worker's
            ``num_cpus`` (default: every core the worker process may use, which
            oversubscribes a node running several workers).
        min_score: as for ``stancekit.load``: acts below it get the null label.
        early_exit: as for ``stancekit.load``: the fast model reads every sentence
            first, and only those it does not call the null label with this
            probability go through ``model``.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        text_field: str = "text",
        id_field: str = "id",
        source_field: str | None = None,
        split: bool = True,
        device: str | None = None,
        precision: str = "auto",
        backend: str = "auto",
        batch_size: int = 64,
        threads: int | None = None,
        min_score: float | None = None,
        early_exit: float | None = None,
    ):
        from .model import load

        self.model = load(
            model,
            device=device,
            precision=precision,
            backend=backend,
            batch_size=batch_size,
            threads=threads,
            min_score=min_score,
            early_exit=early_exit,
        )
        self.text_field, self.id_field, self.source_field = text_field, id_field, source_field
        self.split = split

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        if self.text_field not in batch:
            raise KeyError(
                f"stancekit: no {self.text_field!r} column in the dataset "
                f"(columns: {', '.join(batch)}); pass text_field=..."
            )
        texts = _values(batch[self.text_field])
        ids = _values(batch[self.id_field]) if self.id_field in batch else [None] * len(texts)
        sources = (
            _values(batch[self.source_field])
            if self.source_field and self.source_field in batch
            else [""] * len(texts)
        )
        documents = []
        for row, (text, doc_id, source) in enumerate(zip(texts, ids, sources)):
            text = text if isinstance(text, str) else ""
            doc = Document(str(doc_id) if doc_id is not None else str(row), str(source), text)
            documents.append((doc, sentences_of(text, self.split)))
        rows = [flatten(r, self.model.labels) for r in label_chunk(self.model, documents)]
        return {name: [r[name] for r in rows] for name in columns(self.model.labels)}


def _values(column) -> list:
    """A batch column (NumPy array, list or pandas Series) as Python values."""
    if isinstance(column, np.ndarray):
        return column.tolist()
    return list(column)
