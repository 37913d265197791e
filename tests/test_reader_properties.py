"""Property tests of the readers and the segmenter over hostile Unicode: no exception
escapes, every record comes back as written or is rejected with a reason, offsets exact."""

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stancekit.inputs import Document, RowError, read_documents, text_problem
from stancekit.segment import split_sentences

HOSTILE = st.sampled_from(
    [
        "\ud800",  # lone surrogates
        "\udfff",
        "\x00",
        "\r",
        "\r\n",
        "\n",
        "\u2028",
        "\u2029",
        "\u0301\u0302",  # combining marks
        "\u202e",  # right-to-left override
        "مرحبا",
        "שלום",
        "👩‍👩‍👧",
        "🇺🇳",
        "\ufeff",
        "\u200b",
        '"',
        ",",
        "\\",
        ". ",
        "Mr. ",
        "Q: ",
    ]
)
TEXTS = st.lists(
    st.lists(st.one_of(HOSTILE, st.text(max_size=12)), max_size=12).map("".join),
    min_size=1,
    max_size=8,
)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check(items, texts):
    """Every row is a document with its text, or a rejected row with a reason."""
    assert len(items) == len(texts)
    for item, text in zip(items, texts):
        if text_problem(text) is None:
            assert isinstance(item, Document) and item.text == text
        else:
            assert isinstance(item, RowError) and item.error.problem.endswith("row skipped.")
            assert item.as_dict()["reason"]


@SETTINGS
@given(texts=TEXTS)
def test_jsonl_rows_come_back_or_are_rejected(tmp_path, texts):
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="ascii")
    check(list(read_documents(str(path))), texts)


@SETTINGS
@given(texts=TEXTS)
def test_jsonl_written_raw_with_surrogates_as_bytes(tmp_path, texts):
    lines = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    path = tmp_path / "raw.jsonl"
    path.write_bytes(lines.encode("utf-8", "surrogatepass"))
    items = list(read_documents(str(path)))
    assert len(items) == len(texts)
    for item, text in zip(items, texts):
        if text_problem(text) is None:
            assert isinstance(item, Document) and item.text == text
        else:
            assert isinstance(item, RowError) and item.error.line is not None


@SETTINGS
@given(texts=TEXTS.map(lambda ts: [t.replace("\x00", "") for t in ts]))
def test_csv_rows_come_back_or_are_rejected(tmp_path, texts):
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(["id", "text"])
    for i, t in enumerate(texts):
        writer.writerow([i, t])
    path = tmp_path / "p.csv"
    path.write_bytes(buf.getvalue().encode("utf-8", "surrogatepass"))
    items = list(read_documents(str(path)))
    assert len(items) == len(texts)
    for item, text in zip(items, texts):
        if text_problem(text) is None:
            assert isinstance(item, Document) and item.text == text
        else:
            assert isinstance(item, RowError) and "not valid UTF-8" in item.error.problem


@SETTINGS
@given(text=TEXTS.map("".join))
def test_a_txt_file_is_one_document_or_named(tmp_path, text):
    path = tmp_path / "p.txt"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        items = list(read_documents(str(path)))
    except ValueError as exc:  # DataError: named, with the file
        assert str(path) in str(exc)
        return
    body = text.removeprefix("\ufeff")
    assert [d.text for d in items] == [body]


@SETTINGS
@given(text=TEXTS.map("".join).filter(lambda t: text_problem(t) is None))
def test_segmenter_offsets_are_exact(text):
    for s in split_sentences(text):
        assert text[s.start : s.end] == s.text and s.text.strip() == s.text


@settings(max_examples=5, deadline=None)
@given(
    word=st.text(min_size=1, max_size=5).filter(lambda t: text_problem(t) is None and "\n" not in t)
)
def test_a_1_mb_line(tmp_path_factory, word):
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    text = (word * (1_000_000 // len(word) + 1))[:1_000_000]
    path.write_text(json.dumps({"text": text}) + "\n", encoding="utf-8")
    [doc] = list(read_documents(str(path)))
    assert doc.text == text
