import pytest

from stancekit.segment import split_sentences


def test_seed_offsets_match_gold(seed_text, seed_gold):
    sentences = split_sentences(seed_text)
    assert [(s.start, s.end) for s in sentences] == [(g["start"], g["end"]) for g in seed_gold]
    for s in sentences:
        assert seed_text[s.start : s.end] == s.text


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "The U.S. envoy met Gen. Smith at 5 p.m. on Monday. He left.",
            ["The U.S. envoy met Gen. Smith at 5 p.m. on Monday.", "He left."],
        ),
        (
            "Dr. Okafor said the vote was 52.3 per cent. Critics disagreed.",
            ["Dr. Okafor said the vote was 52.3 per cent.", "Critics disagreed."],
        ),
        (
            '"We will not back down!" the minister said. Talks resumed.',
            ['"We will not back down!" the minister said.', "Talks resumed."],
        ),
        (
            "Headline without a stop\n\nFirst paragraph. Second sentence.\nSource link",
            ["Headline without a stop", "First paragraph.", "Second sentence.", "Source link"],
        ),
        (
            "A hard-wrapped sentence that the\nwriter broke across lines. Next one.",
            ["A hard-wrapped sentence that the\nwriter broke across lines.", "Next one."],
        ),
    ],
)
def test_hard_cases(text, expected):
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == expected
    assert all(text[s.start : s.end] == s.text for s in sentences)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_blank_text_has_no_sentences(text):
    assert split_sentences(text) == []


def test_offsets_hold_with_odd_whitespace():
    text = "  \r\n First one.   Second one!\r\n\r\n  Third?  "
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == ["First one.", "Second one!", "Third?"]
    assert all(text[s.start : s.end] == s.text for s in sentences)
