"""Length-sorted batches: every text exactly once, batch and token caps respected."""

from stancekit.batching import Encoding, batches


def _encodings(lengths):
    return [Encoding(list(range(1, n + 1)), [(0, 1)] * n, False) for n in lengths]


def test_every_text_once_longest_first_within_the_size_cap():
    lengths = [5, 40, 12, 3, 40, 7, 19]
    got = list(batches(_encodings(lengths), batch_size=3))
    order = [i for idx, _, _ in got for i in idx]
    assert sorted(order) == list(range(len(lengths)))
    assert [lengths[i] for i in order] == sorted(lengths, reverse=True)
    assert [len(idx) for idx, _, _ in got] == [3, 3, 1]
    idx, ids, mask = got[0]
    assert ids.shape == mask.shape == (3, 40)
    assert mask.sum(1).tolist() == [lengths[i] for i in idx]


def test_token_cap_makes_long_sentences_go_in_smaller_batches():
    lengths = [256] * 5 + [30] * 10
    got = list(batches(_encodings(lengths), batch_size=8, max_tokens=600))
    sizes = [len(idx) for idx, _, _ in got]
    widths = [ids.shape[1] for _, ids, _ in got]
    assert all(size * width <= 600 for size, width in zip(sizes, widths))
    assert sizes == [2, 2, 2, 8, 1]  # 2 x 256 fits in 600 tokens; 8 x 30 meets the size cap
    assert sorted(i for idx, _, _ in got for i in idx) == list(range(len(lengths)))


def test_a_text_longer_than_the_cap_still_gets_a_batch_of_its_own():
    got = list(batches(_encodings([50, 10]), batch_size=4, max_tokens=20))
    assert [idx for idx, _, _ in got] == [[0], [1]]
