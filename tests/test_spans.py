import numpy as np

from stancekit.batching import Encoding
from stancekit.spans import IGNORE, B, I, O, decode_span, find_span, tags_for

TEXT = "The EU warned Iran's navy."
# [CLS] the eu warned iran ' s navy . [SEP]
OFFSETS = [
    (0, 0),
    (0, 3),
    (4, 6),
    (7, 13),
    (14, 18),
    (18, 19),
    (19, 20),
    (21, 25),
    (25, 26),
    (0, 0),
]
ENC = Encoding(ids=list(range(len(OFFSETS))), offsets=OFFSETS, truncated=False)


def probs_for(tags):
    p = np.full((len(tags), 3), 0.02)
    for t, tag in enumerate(tags):
        p[t, tag] = 0.96
    return p


def test_tags_for_marks_tokens_overlapping_the_span():
    assert tags_for(ENC, (0, 6)) == [IGNORE, B, I, O, O, O, O, O, O, IGNORE]
    assert tags_for(ENC, None) == [IGNORE] + [O] * 8 + [IGNORE]


def test_decode_span_round_trips_tags():
    tags = [O, O, O, O, B, I, I, I, O, O]
    start, end, score = decode_span(TEXT, ENC, probs_for(tags))
    assert TEXT[start:end] == "Iran's navy"
    assert 0.9 < score <= 1


def test_decode_span_none_when_no_begin_is_likely():
    p = probs_for([O] * 10)
    assert decode_span(TEXT, ENC, p) is None


def test_decode_span_snaps_to_words_and_drops_trailing_punctuation():
    text = "NATO, however, rejected it."
    enc = Encoding(list(range(5)), [(0, 0), (0, 2), (2, 4), (4, 5), (0, 0)], False)  # na ##to ,
    start, end, _ = decode_span(text, enc, probs_for([O, B, I, I, O]))
    assert text[start:end] == "NATO"


def test_find_span_avoids_overlap():
    text = "Chile accused Chile's neighbour."
    assert find_span(text, "Chile") == (0, 5)
    assert find_span(text, "Chile", avoid=(0, 5)) == (14, 19)
    assert find_span(text, None) is None


def test_inside_bias_extends_an_uncertain_span():
    # "iran" is a sure begin; the inside tags of "' s navy" are 0.4 likely each (O 0.58)
    p = probs_for([O, O, O, O, B, O, O, O, O, O])
    p[5:8] = [0.58, 0.02, 0.40]
    start, end, score = decode_span(TEXT, ENC, p)
    assert TEXT[start:end] == "Iran"
    start, end, biased_score = decode_span(TEXT, ENC, p, inside_bias=2.0)
    assert TEXT[start:end] == "Iran's navy"
    # the score stays the geometric mean of the unshifted probabilities
    assert np.isclose(biased_score, np.exp((np.log(0.96) + 3 * np.log(0.40)) / 4))
