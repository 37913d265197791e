import dataclasses
import gzip
import json
import random
import re
from pathlib import Path

import pytest

from stancekit.segment import Sentence, split_sentences


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


# --- Layout: bullets, list numbers, speaker tags and datelines kept out of sentences ---


def _is_gap(char):
    """White space, zero-width spaces included: what may lie between a prefix and its
    sentence."""
    return char.isspace() or char in "\u200b\ufeff"


def assert_well_formed(doc, sentences):
    """Offsets exact, texts trimmed and non-empty, in order without overlap, and each
    prefix exactly the source text that ends where only white space separates it from
    its sentence, after the previous sentence."""
    previous_end = 0
    for s in sentences:
        assert doc[s.start : s.end] == s.text
        assert s.text and not s.text[0].isspace() and not s.text[-1].isspace()
        assert s.start >= previous_end
        if s.prefix:
            assert s.prefix == s.prefix.strip()
            prefix_end = s.start
            while prefix_end > 0 and _is_gap(doc[prefix_end - 1]):
                prefix_end -= 1
            prefix_start = prefix_end - len(s.prefix)
            assert prefix_start >= previous_end
            assert doc[prefix_start:prefix_end] == s.prefix
        previous_end = s.end


def check(text, expected):
    sentences = split_sentences(text)
    assert [(s.prefix, s.text) for s in sentences] == expected
    assert_well_formed(text, sentences)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "- China rejected the plan.\n- Japan pledged aid.",
            [("-", "China rejected the plan."), ("-", "Japan pledged aid.")],
        ),
        ("* Oslo condemned the attack.", [("*", "Oslo condemned the attack.")]),
        ("• Seoul warned of force.", [("•", "Seoul warned of force.")]),
        (
            "– Tehran threatened to close the strait.",
            [("–", "Tehran threatened to close the strait.")],
        ),
        (
            "Intro line.\n  - Indented item here.",
            [("", "Intro line."), ("-", "Indented item here.")],
        ),
        (
            "1. Kenya accused the rebels.\n2) Chile rejected the request.",
            [("1.", "Kenya accused the rebels."), ("2)", "Chile rejected the request.")],
        ),
        (
            "(a) The court dismissed the appeal.\n(b) Ankara denied the reports.",
            [("(a)", "The court dismissed the appeal."), ("(b)", "Ankara denied the reports.")],
        ),
        (  # a lower-case item starts a new line's sentence, unlike hard-wrapped text
            "a) The board turned down the offer.\nb) Canada vowed to rebuild.",
            [("a)", "The board turned down the offer."), ("b)", "Canada vowed to rebuild.")],
        ),
        (
            "iv. The regulator cautioned banks.\nv. Japan pledged aid.",
            [("iv.", "The regulator cautioned banks."), ("v.", "Japan pledged aid.")],
        ),
        (
            "II. Tehran threatened to close the strait.",
            [("II.", "Tehran threatened to close the strait.")],
        ),
        (  # "•" is never prose: a bullet inside a line too (lists flattened to one line)
            "Schools reopened • Districts hired counselors • And debt was cancelled.",
            [
                ("", "Schools reopened"),
                ("•", "Districts hired counselors"),
                ("•", "And debt was cancelled."),
            ],
        ),
        (  # markdown-escaped numbers, a zero-width space after them
            "12\\. \u200bThe United States shall act.\n\\(a\\) Malaysia shall act.",
            [("12\\.", "The United States shall act."), ("\\(a\\)", "Malaysia shall act.")],
        ),
    ],
)
def test_bullets_and_list_numbers(text, expected):
    check(text, expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "MS. PSAKI: Good afternoon. We condemn the attack.",
            [("MS. PSAKI:", "Good afternoon."), ("", "We condemn the attack.")],
        ),
        ("MR. CARNEY: No.\nQ Why not?", [("MR. CARNEY:", "No."), ("Q", "Why not?")]),
        (
            "THE PRESIDENT: Thank you.\n\nQ: Did you warn Russia?",
            [("THE PRESIDENT:", "Thank you."), ("Q:", "Did you warn Russia?")],
        ),
        (
            "SECRETARY BLINKEN: We reject that claim.",
            [("SECRETARY BLINKEN:", "We reject that claim.")],
        ),
        (
            "PRESIDENT BIDEN: We will respond.\nADMIRAL KIRBY: Thanks, Karine.",
            [("PRESIDENT BIDEN:", "We will respond."), ("ADMIRAL KIRBY:", "Thanks, Karine.")],
        ),
        (
            "MR. McDONOUGH: Sure. SECRETARY LaHOOD: Yes.",
            [("MR. McDONOUGH:", "Sure."), ("SECRETARY LaHOOD:", "Yes.")],
        ),
        ("Mr. CARNEY: Again, no.", [("Mr. CARNEY:", "Again, no.")]),
        ("MR. EARNEST:Good morning.", [("MR. EARNEST:", "Good morning.")]),
        ("MS. JEAN-PIERRE: — and so on.", [("MS. JEAN-PIERRE:", "— and so on.")]),
        ("MR. GIBBS: the President agrees.", [("MR. GIBBS:", "the President agrees.")]),
        ("Q. Did the Director meet him?", [("Q.", "Did the Director meet him?")]),
        ("Q -- who is heading it?", [("Q", "-- who is heading it?")]),
        # A tag ends the sentence before it, wherever sentencex put the break.
        (
            "Q Is it over? MR. GIBBS: No. Q Why?",
            [("Q", "Is it over?"), ("MR. GIBBS:", "No."), ("Q", "Why?")],
        ),
        (
            "I don't think -- MR. GIBBS: Well, let me finish.",
            [("", "I don't think --"), ("MR. GIBBS:", "Well, let me finish.")],
        ),
        (
            "Yes. (Laughter.) Q Next question.",
            [("", "Yes."), ("", "(Laughter.)"), ("Q", "Next question.")],
        ),
        (
            "Q Is it? MS. PSAKI: Sure.",  # sentencex cuts after "MS."
            [("Q", "Is it?"), ("MS. PSAKI:", "Sure.")],
        ),
        (
            "2:01 P.M. EDT MR. GIBBS: Good afternoon.",
            [("", "2:01 P.M. EDT"), ("MR. GIBBS:", "Good afternoon.")],
        ),
        (  # in a transcript, "Q" before a lower-case word is the reporter's too
            "MR. EARNEST: Yes.\nQ would you say more?",
            [("MR. EARNEST:", "Yes."), ("Q", "would you say more?")],
        ),
        ("- MS. PSAKI: We reject that.", [("- MS. PSAKI:", "We reject that.")]),
        ("CORRECTED: Q Jay, is it true?", [("CORRECTED: Q", "Jay, is it true?")]),
    ],
)
def test_speaker_tags(text, expected):
    check(text, expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "BEIJING, June 3 (Reuters) - China rejected the claims.",
            [("BEIJING, June 3 (Reuters) -", "China rejected the claims.")],
        ),
        (
            "WASHINGTON (AP) — The Senate rejected the bill.",
            [("WASHINGTON (AP) —", "The Senate rejected the bill.")],
        ),
        (
            "UNITED NATIONS, Sept 21 (Reuters) - Iran warned the council.",
            [("UNITED NATIONS, Sept 21 (Reuters) -", "Iran warned the council.")],
        ),
        ("GENEVA, 3 June - Talks resumed.", [("GENEVA, 3 June -", "Talks resumed.")]),
        (
            "WASHINGTON, D.C. – Today, the President announced aid.",
            [("WASHINGTON, D.C. –", "Today, the President announced aid.")],
        ),
        (
            "Title of the release\n\nWASHINGTON – Today, the President announced aid.",
            [("", "Title of the release"), ("WASHINGTON –", "Today, the President announced aid.")],
        ),
        (
            "**Washington, D.C.** — The Office of Management and Budget announced cuts.",
            [("**Washington, D.C.** —", "The Office of Management and Budget announced cuts.")],
        ),
        (
            "First.\n\nKYIV, March 1, 2022 (AFP) -- Russia shelled the city.",
            [("", "First."), ("KYIV, March 1, 2022 (AFP) --", "Russia shelled the city.")],
        ),
    ],
)
def test_datelines(text, expected):
    check(text, expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        (  # a heading of a tag alone: the prefix of the next sentence
            "TO THE CONGRESS OF THE UNITED STATES:\n\nI am providing notification.",
            [("TO THE CONGRESS OF THE UNITED STATES:", "I am providing notification.")],
        ),
        ("THE PRESIDENT:\nWe will not back down.", [("THE PRESIDENT:", "We will not back down.")]),
        ("1.\n\nKenya accused the rebels.", [("1.", "Kenya accused the rebels.")]),
        ("Summary\n\n-\n\nThe talks resumed.", [("", "Summary"), ("-", "The talks resumed.")]),
        (
            "* * *\n\nMR. GIBBS: Give me a minute.",
            [("* * *\n\nMR. GIBBS:", "Give me a minute.")],
        ),
        ("Thank you.\n\nTHE PRESIDENT:", [("", "Thank you.")]),  # nothing follows
        ("- ", []),  # layout with no sentence after it gives none
        ("Q", []),
        (
            "Headline without a stop\n\n1. First paragraph.",
            [("", "Headline without a stop"), ("1.", "First paragraph.")],
        ),
    ],
)
def test_layout_only_headings_give_no_empty_sentence(text, expected):
    check(text, expected)


@pytest.mark.parametrize(
    "text",
    [
        "U.S. forces withdrew.",
        "3.5 million people fled.",
        "No. 10 said it would act.",
        "WHO officials said the outbreak was over.",
        "S. 160, the Wildfire Act, passed.",  # a Senate bill, not item "S."
        "A. Philip Randolph spoke first.",  # an initial, not item "A."
        "I. M. Pei designed it.",
        "Q fever spread in the region.",  # not a reporter's "Q" (no tag before)
        "US: the market fell.",  # one word before a lower-case word: not a tag
        "He said: NATO must act.",
        "The vote on Q3 results: Markets rose.",
        "(Koran XVI:90) Only love can conquer hatred.",
        "NATO — our alliance — stands together.",  # not a dateline
        "He paused - then spoke. - No, he said.",  # a dash inside a line is no bullet
        "Mr. Smith: a profile of the envoy.",
    ],
)
def test_text_that_is_not_layout_is_kept(text):
    sentences = split_sentences(text)
    assert all(s.prefix == "" for s in sentences)
    assert " ".join(s.text for s in sentences) == text
    assert_well_formed(text, sentences)


@pytest.mark.parametrize(
    "text, expected",
    [
        (  # "A:" inside a sentence, and a one-letter "A:" anyway, is no tag
            "Choose one. A: the first option is best.",
            ["Choose one.", "A: the first option is best."],
        ),
        (  # a year at a line start is no list number
            "Elections are due in\n2024. Observers will attend.",
            ["Elections are due in", "2024.", "Observers will attend."],
        ),
        (  # a bare place before a dash is a dateline near the top only
            "We met. " * 130 + "\n\nNATO — NATO stands together.",
            ["We met."] * 130 + ["NATO — NATO stands together."],
        ),
        (  # nor is it a dateline before a lower-case word
            "NATO — and its allies — agreed.",
            ["NATO — and its allies — agreed."],
        ),
        (  # hard-wrapped text still keeps its sentences whole
            "The envoy said the talks, which\nincluded Iran, failed.",
            ["The envoy said the talks, which\nincluded Iran, failed."],
        ),
    ],
)
def test_no_cut_in_context(text, expected):
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == expected
    assert all(s.prefix == "" for s in sentences)
    assert_well_formed(text, sentences)


def test_sentence_keeps_its_three_field_form():
    s = Sentence("Hi.", 0, 3)
    assert s.prefix == "" and s == Sentence("Hi.", 0, 3, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.prefix = "-"  # type: ignore[misc]
    assert not hasattr(s, "__dict__")


REALTEXT = Path(__file__).resolve().parents[2] / "shared" / "realtext"
# What a sentence must not start with: a speaker tag, a reporter's "Q", a bullet.
_TAG_START = re.compile(r"[A-Z][A-Z. ]+:|Q:? ")
_BULLET_START = re.compile(r"[-*•] ")


def _sample_documents(n, seed=14):
    """``n`` documents drawn with a fixed seed from the three pools (reservoir sampling:
    one pass over each file, only the drawn lines parsed)."""
    rng = random.Random(seed)
    sample, seen = [], 0
    for name in ("ungd", "whitehouse-2009", "whitehouse-2021"):
        with gzip.open(REALTEXT / f"{name}.jsonl.gz", "rb") as fh:
            for line in fh:
                if seen < n:
                    sample.append(line)
                else:
                    j = rng.randrange(seen + 1)
                    if j < n:
                        sample[j] = line
                seen += 1
    return [json.loads(line) for line in sample]


def test_real_documents_are_well_formed():
    if not REALTEXT.is_dir():
        pytest.skip(f"real-text pool not found at {REALTEXT} (the shared/ folder beside the repo)")
    docs = _sample_documents(1000)
    assert len(docs) == 1000 and {d["source"] for d in docs} >= {"ungd", "whitehouse-2021"}
    leaks = []
    for doc in docs:
        text = doc["text"]
        sentences = split_sentences(text)
        assert_well_formed(text, sentences)
        for s in sentences:
            line_start = text.rfind("\n", 0, s.start) + 1
            starts_line = not text[line_start : s.start].strip()
            if _TAG_START.match(s.text) or (starts_line and _BULLET_START.match(s.text)):
                leaks.append((doc["id"], s.text[:80]))
    assert leaks == []
