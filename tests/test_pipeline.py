"""The labelling pipeline's fast paths change no output: the forward pass of the next
chunk runs in a worker thread while the main thread writes the one before, yet records,
rejects and the journal are exactly those of labelling one chunk at a time; span
probabilities computed lazily, or many at once, are the same numbers."""

import json
import threading

import numpy as np
import pytest

from stancekit.inputs import Document, read_documents
from stancekit.pipeline import label_chunk, label_files, sentences_of
from stancekit.probabilities import softmax
from stancekit.writers import Writer

ROWS = [
    {"id": "a", "text": "Chile denied the report. Peru pledged help to the flood victims."},
    {"id": "b", "text": "Seoul warned Pyongyang."},
    {"id": "bad", "text": None},
    {"id": "c", "text": "The talks will resume in Geneva. Ankara denied the reports."},
    {"id": "empty", "text": "   "},
    {"id": "d", "text": "Japan pledged two million dollars. Rain fell across the capital."},
    {"id": "e", "text": "The union charged the airline with breaking the contract."},
    {"id": "also-bad", "text": 42},
    {"id": "f", "text": "Kenya accused the rebels of burning the market. Canada vowed to help."},
    {"id": "g", "text": "Tehran threatened to close the strait."},
]


@pytest.fixture
def corpus(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    return src


def one_chunk_at_a_time(model, src, size):
    """The records of labelling the documents of ``src`` chunk by chunk, no threads."""
    records, pending, count = [], [], 0
    for doc in read_documents(str(src)):
        sents = sentences_of(doc.text) if isinstance(doc, Document) else []
        if not sents:
            continue
        pending.append((doc, sents))
        count += len(sents)
        if count >= size:
            records += label_chunk(model, pending)
            pending, count = [], 0
    return records + label_chunk(model, pending)


def test_overlapped_chunks_give_the_records_of_one_chunk_at_a_time(
    shipped_model, corpus, tmp_path, monkeypatch
):
    expected = one_chunk_at_a_time(shipped_model, corpus, 3)
    real = shipped_model.forward
    threads = []

    def forward(texts, on_batch=None):
        threads.append(threading.current_thread())
        return real(texts, on_batch=on_batch)

    monkeypatch.setattr(shipped_model, "forward", forward)
    out = tmp_path / "out.jsonl"
    summary = label_files(
        [str(corpus)],
        shipped_model,
        output=out,
        chunk_sentences=3,
        errors="skip",
        on_error=lambda m: None,
        progress=False,
    )
    assert [json.loads(line) for line in out.open(encoding="utf-8")] == expected
    assert len(threads) == 4 and threading.main_thread() not in threads
    assert (summary.documents, summary.empty_documents, summary.rejected) == (8, 1, 2)
    assert summary.sentences == len(expected) == 11


def test_an_interrupted_overlapped_run_resumes_with_every_record_and_reject_once(
    shipped_model, corpus, tmp_path, monkeypatch
):
    reference = tmp_path / "ref.jsonl"
    options = {"errors": "skip", "on_error": lambda m: None, "progress": False}
    label_files([str(corpus)], shipped_model, output=reference, chunk_sentences=2, **options)
    real = shipped_model.forward
    calls = []

    def forward(texts, on_batch=None):
        calls.append(texts)
        if len(calls) > 3:  # the chunk of "e" and "f", and every later one
            raise KeyboardInterrupt
        return real(texts, on_batch=on_batch)

    monkeypatch.setattr(shipped_model, "forward", forward)
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        label_files([str(corpus)], shipped_model, output=out, chunk_sentences=2, **options)
    monkeypatch.undo()
    # the journal holds items a to d and the reject of "bad" only, although "also-bad"
    # was read (and rejected) before the run stopped
    progress = json.loads(open(f"{out}.progress.json", encoding="utf-8").read())
    partial = [json.loads(x)["id"] for x in open(f"{out}.partial", encoding="utf-8")]
    first_reject = open(f"{out}.rejects.jsonl", "rb").readline()
    assert progress["items"] == 6 and partial == ["a", "a", "b", "c", "c", "d", "d"]
    assert progress["rejects_bytes"] == len(first_reject) and b'"bad"' in first_reject
    label_files([str(corpus)], shipped_model, output=out, resume=True, chunk_sentences=2, **options)
    assert out.read_bytes() == reference.read_bytes()
    rejects = [json.loads(x)["id"] for x in open(f"{out}.rejects.jsonl", encoding="utf-8")]
    assert rejects == ["bad", "also-bad"]


def test_span_probabilities_are_computed_when_read_and_many_at_once_alike(shipped_model):
    texts = [r["text"] for r in ROWS if isinstance(r["text"], str) and r["text"].strip()]
    raw = shipped_model.forward(texts)
    assert len(raw.spans) == len(texts)
    for i, probs in enumerate(raw.spans):
        assert probs.shape == (len(raw.encodings[i].ids), 2, 3)
        assert np.array_equal(probs, softmax(raw.span_logits[i]))
    picked = [4, 0, 2]
    together = raw.span_probabilities(picked)
    assert all(np.array_equal(a, raw.spans[i]) for a, i in zip(together, picked))
    assert raw.span_probabilities([]) == []


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_write_many_writes_what_write_writes(shipped_model, tmp_path, fmt):
    doc = Document("d", "src", "Chile denied the report. Peru pledged help.")
    records = label_chunk(shipped_model, [(doc, sentences_of(doc.text))])
    records[0]["text"] = "Ünïcode — kept as is"
    paths = tmp_path / f"one.{fmt}", tmp_path / f"many.{fmt}"
    one, many = (Writer(p, fmt, shipped_model.labels) for p in paths)
    for record in records:
        one.write(record)
    many.write_many(records)
    one.close(), many.close()
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_batches_run_in_parallel_threads_in_order_and_alike():
    """An ONNX model runs ``threads`` batches at once, each on one thread, and gives
    every text the result it gets with one thread, in input order."""
    import stancekit

    texts = [r["text"] for r in ROWS if isinstance(r["text"], str) and r["text"].strip()] * 9
    one = stancekit.load("fast", threads=1, batch_size=4)
    three = stancekit.load("fast", threads=3, batch_size=4)
    assert (one.runner.parallel, three.runner.parallel) == (1, 3)
    seen = set()
    real = three.runner.forward

    def forward(ids, mask):
        seen.add(threading.current_thread().name)
        return real(ids, mask)

    three.runner.forward = forward
    np.testing.assert_allclose(three.predict_proba(texts), one.predict_proba(texts), atol=1e-6)
    assert len(seen) == 3 and all(name.startswith("stancekit-batch") for name in seen)
    # few texts: split so that every thread gets a batch
    assert np.allclose(three.predict_proba(texts[:3]), one.predict_proba(texts[:3]), atol=1e-6)


def test_a_stopped_forward_pass_starts_no_more_batches():
    import stancekit

    model = stancekit.load("fast", threads=2, batch_size=1)
    calls = []
    real = model.runner.forward
    model.runner.forward = lambda ids, mask: calls.append(1) or real(ids, mask)

    def stop(n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.forward(["Seoul warned Pyongyang."] * 40, on_batch=stop)
    assert len(calls) <= 4  # the batches in flight when it stopped, not the 40


def test_threads_must_be_positive():
    import stancekit

    with pytest.raises(ValueError, match="threads must be at least 1"):
        stancekit.load("fast", threads=0)
