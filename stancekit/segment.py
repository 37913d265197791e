"""Sentence segmentation with character offsets into the caller's text.

Built on `sentencex` (Wikimedia's rule-based segmenter, abbreviation lists for ~300
languages, tens of MB/s), then refined for news text and transcripts:

* leading and trailing whitespace is trimmed, so ``text[start:end] == sentence``;
* a blank line always ends a sentence (paragraphs, headlines, "Source link");
* a single line break ends a sentence unless the next line starts in lower case
  (hard-wrapped text keeps its sentences whole) and is not a list item ("iv. ", "a) ");
* layout in front of a sentence is kept out of its text and offsets, and stored in
  `Sentence.prefix` instead:

  - bullets and list numbers at the start of a line: ``- * • · – − ▪ ● ◦ ‣``, ``1.`` ``2)``
    ``12\\.`` (at most three digits: "2024." is a year), ``iv.`` ``III.``
    (lower-case, or at least two capitals: "I. M. Pei" and "S. 160" keep their letter),
    ``a)`` ``(a)`` ``(iv)`` ``\\(a\\)``; never "U.S." or "No. 10" or "3.5". A "•"
    (or ▪ ● ◦ ‣), not prose, is a bullet inside a line too, and ends the sentence
    before it ("vaccinated • Making sure ...");
  - speaker tags of transcripts at the start of a line or of a sentence: a run of at
    most 15 upper-case words ending in a colon ("MS. PSAKI:", "THE PRESIDENT:",
    "SECRETARY LaHOOD:", "MR. McDONOUGH:", "Mr. CARNEY:"); a tag of one word only
    before a character that is not lower case ("NOTE: The", not "US: the market
    fell"), nor a digit right after the colon ("XVI:90"), never of one letter ("A:"); and the reporter's "Q",
    "Q:" or "Q." before anything but a lower-case word ("Q fever" stays), or before
    one too at the start of a line once the text has had a tag. A tag also ends a
    sentence: after "--", "—", ")", a time stamp ("2:01 P.M. EDT") or a sentence stop
    ("... -- MR. GIBBS: No.", "(Laughter.) Q Next one") the text before it is a
    sentence of its own, and "MS. | PSAKI:", which sentencex may cut after the
    title, is joined again;
  - datelines of wire copy at the start of a line: an upper-case place with a region,
    a date or an agency ("BEIJING, June 3 (Reuters) -", "WASHINGTON (AP) —",
    "WASHINGTON, D.C. –", "GENEVA, 3 June -"); a bare place ("WASHINGTON –") only at
    the start of a paragraph in the first 1,000 characters, where a press release puts
    it (later in a transcript, "NATO — NATO stands together" is speech);

  layout stacks ("- MS. PSAKI:"), and a line of layout only (a tag or a marker alone,
  "TO THE CONGRESS OF THE UNITED STATES:") gives no sentence: it becomes the prefix of
  the next one (layout with no sentence after it is dropped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sentencex

_LINE_BREAK = re.compile(r"\n\s*")
# A segment less its outer white space; group 1 is set where it starts with a capitalised
# word ("The", not "THE PRESIDENT:", "Mr. CARNEY:", "Q", "- " or "1."): no layout there.
_STRIP = re.compile(r"(?:(?=[A-Z][a-z][^.])())?\S(?:.*\S)?", re.DOTALL)

# Whitespace between layout and the sentence (zero-width spaces follow some list numbers).
_GAP = re.compile(r"[\s\u200b\ufeff]*")
# After a marker or tag: white space, or the end of the piece.
_END_OR_GAP = r"(?=[\s\u200b\ufeff]|\Z)"

_MARKER = re.compile(
    r"(?:[-*•·‣▪●◦–−]"  # bullets (not the em dash: it marks an interrupted speaker)
    r"|\d{1,3}\\?[.)]"  # 1.  2)  12\.   (never a year: "2024." is a sentence's end)
    r"|(?:[ivx]{1,4}|[IVX]{2,4})\\?[.)]"  # iv.  III.  (not "I." or "V.": initials)
    r"|[a-zA-Z]\)"  # a)  B)
    r"|\\?\((?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})\\?\))" + _END_OR_GAP  # (a)  (iv)  (3)  \(a\)
)
# A lower-case line start that is a list item, not a hard-wrapped sentence going on.
_LOWER_MARKER = re.compile(r"(?:[ivx]{1,4}[.)]|[a-z]\))" + _END_OR_GAP)

# One word of a speaker tag: capitals, with a "Mc"/"La" inside a name (McDONOUGH, LaHOOD).
_TAG_WORD = r"[A-Z](?:[a-z]{1,2}(?=[A-Z]))?[A-Z'’\-]*\.?"
_TIME_ZONE = r"(?:[ECMP][SD]T|GMT|UTC|CES?T)"
# A tag of one word needs a capital, a quote, a digit after a space or the like after
# it ("NOTE: The"), not "US: the market fell" or "(Koran XVI:90)"; a longer one takes
# anything ("MR. GIBBS: the President").
_TAG_BODY = (
    rf"(?!{_TIME_ZONE}\b)(?:(?:(?:Mr|Ms|Mrs|Dr)\. |{_TAG_WORD} )(?:{_TAG_WORD} ){{0,13}}{_TAG_WORD}:"
    rf"|{_TAG_WORD}:(?=[ \t\u200b]+[^\sa-z]|[^\sa-z0-9]|\s*\Z))"
)
_TAG = re.compile(rf"(?:{_TIME_ZONE} )?{_TAG_BODY}")  # "P.M. | EDT MR. GIBBS:"
_Q = re.compile(r"Q[:.]?(?=[ \t\u200b]+[^\sa-z]|\s*\Z)")  # "Q Thanks", not "Q fever"
_Q_LOWER = re.compile(r"Q:?(?=[ \t\u200b]+[a-z])")  # "Q would you": once a text has tags

# A tag inside a segment, after a stop, a closing bracket or quote, or a dash of
# interruption ("... -- MR. GIBBS: No.", "(Laughter.) Q Next"), or after a time stamp
# ("2:01 P.M. EDT MR. GIBBS:"). `_split_at_tags` checks what precedes a stop.
_TAG_BREAK = re.compile(
    rf"[.?!)\]\"”’—-](?:(?<![A-Z]\.)|(?<=[AP]\.M\.))[ \t]+(?:{_TIME_ZONE} )?"
    rf"(?={_TAG_BODY}|Q[:.]?[ \t]+(?:[A-Z]|--|—))"
)
# A bullet glyph that is never prose, inside a line ("vaccinated • Making sure ...").
_INLINE_BULLETS = "•▪●◦‣"
_INLINE_BULLET = re.compile(r"(?<=\s)[•▪●◦‣](?=\s)")
_TITLE_END = re.compile(r"(?<![^\s(\[\"“*-])(?:MRS?|MS|DR|Mrs?|Ms|Dr)\.\Z")
_TITLE_BEFORE = re.compile(
    r"\b(?:Mr|Ms|Mrs|Dr|Lt|St|Sen|Rep|Gov|Gen|Col|Capt|Sgt|Prof|Hon|Adm)\.\Z"
)

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE = rf"(?:{_MONTH} \d{{1,2}}|\d{{1,2}} {_MONTH})(?:,? \d{{4}})?"
_DATELINE = re.compile(
    r"(?:\*\*)?"
    r"(?P<place>[A-Z][A-Z.'’\-]*[A-Z.](?: [A-Z][A-Z.'’\-]*[A-Z.]){0,2}"  # BEIJING, ST. LOUIS
    r"|(?<=\*\*)[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}(?=,))"  # **Washington, D.C.**
    rf"(?P<region>,? (?!{_MONTH} )[A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*){{0,2}})??"
    r"(?: ?\*\*)?"
    rf"(?P<date>,? {_DATE})?"
    r"(?P<agency> \([A-Z][A-Za-z&. ]{0,30}\))?"
    r"(?: ?\*\*)? ?(?:--|[-–—])(?: ?\*\*|(?=[\s\u200b\ufeff]|\Z))"
)
_BARE_DATELINE_WITHIN = 1000
_HINT_REACH = 80  # a speaker tag's colon lies within this many characters of its start


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence and its character offsets: ``source[start:end] == text``.

    ``prefix`` is the layout cut from in front of the sentence (a bullet, a list
    number, a speaker tag, a dateline, or several of them; "" if none), exactly as in
    the source: it neither starts nor ends with white space, and only white space
    (zero-width spaces included) lies between its end and ``start``, so that
    ``source[start - len(prefix) - k : start - k] == prefix`` for the length ``k`` of
    that gap (usually 1).
    """

    text: str
    start: int
    end: int
    prefix: str = ""


def split_sentences(text: str, language: str = "en") -> list[Sentence]:
    """Split ``text`` into sentences with character offsets.

    Layout in front of a sentence (bullets, list numbers, speaker tags such as
    "MS. PSAKI:" or "Q", wire datelines) is not part of the sentence: ``start`` lies
    past it and it is kept in ``Sentence.prefix``. See the module docstring for the
    rules.

    Args:
        text: any string; offsets refer to it unchanged.
        language: ISO 639 code of the text's language, passed to sentencex.

    Returns:
        The sentences in order; empty for empty or blank text.

    Example:
        >>> split_sentences("Gen. Smith arrived. He denied it.")
        [Sentence(text='Gen. Smith arrived.', start=0, end=19, prefix=''), Sentence(text='He denied it.', start=20, end=33, prefix='')]
        >>> split_sentences("MS. PSAKI: Go ahead.\\n- China rejected it.")
        [Sentence(text='Go ahead.', start=11, end=20, prefix='MS. PSAKI:'), Sentence(text='China rejected it.', start=23, end=41, prefix='-')]
    """
    if not text or text.isspace():
        return []
    sentences: list[Sentence] = []
    pending = -1  # start of layout that waits for the next sentence
    pending_end = -1
    carry = -1
    transcript = False  # a speaker tag was seen
    # Speaker tags hold a colon or are "Q": only segments near one (or near a "•") need
    # a closer look.
    hints = _positions(text, ":") + _positions(text, "Q") + _positions(text, "•")
    hints.sort()
    hints.append(len(text) + _HINT_REACH)
    hint = 0
    reach = _HINT_REACH
    strip = _STRIP.search
    append = sentences.append
    for bound in sentencex.get_sentence_boundaries(language, text):
        lo, hi = bound["start_index"], bound["end_index"]
        if carry >= 0:
            lo, carry = carry, -1
        while hints[hint] < lo:
            hint += 1
        if hints[hint] < hi + reach:
            if (
                hi - lo > 3
                and text[hi - 1] == " "
                and text[hi - 3].isupper()
                and _TITLE_END.search(text, max(lo, hi - 6), hi - 1)
                and _TAG.match(text, hi)
            ):
                carry = lo  # sentencex cut "MS. | PSAKI:" after the title: join them
                continue
            pieces = _split_lines(text, lo, hi)
            if hints[hint] < hi:
                pieces = _split_at_tags(text, pieces)
        else:
            pieces = _split_lines(text, lo, hi)
        for piece_start, piece_end in pieces:
            match = strip(text, piece_start, piece_end)
            if not match:
                continue
            s, e = match.span()
            if match.lastindex is None:  # not a capitalised word: maybe layout
                prefix_end, s = _cut_layout(text, s, e, transcript)
                if prefix_end > match.start():
                    if pending < 0:
                        pending = match.start()
                    pending_end = prefix_end
                    transcript = transcript or text[prefix_end - 1] == ":"
                elif pending >= 0:
                    s = _GAP.match(text, s, e).end()  # a zero-width space after "3\\."
                if s >= e:  # layout only: it goes in front of the next sentence
                    continue
            if pending >= 0:
                append(Sentence(text[s:e], s, e, text[pending:pending_end]))
                pending = -1
            else:
                append(Sentence(match.group(), s, e))
    return sentences


def _positions(text: str, char: str) -> list[int]:
    """Where ``char`` occurs in ``text``."""
    found = []
    i = text.find(char)
    while i >= 0:
        found.append(i)
        i = text.find(char, i + 1)
    return found


def _split_at_tags(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Cut the segments ``pieces`` where a speaker tag or a "•" starts inside one."""
    cut = []
    for start, end in pieces:
        breaks = []
        for match in _TAG_BREAK.finditer(text, start, end):
            i = match.start()
            char = text[i]
            if char == "." and _TITLE_BEFORE.search(text, max(i - 8, 0), i + 1):
                continue  # "Mr. CARNEY:" is one tag
            if char == "-" and text[i - 1 : i] != "-":  # "--", not a hyphen
                continue
            breaks.append(match.end())
        if text.find("•", start, end) >= 0:
            breaks.extend(m.start() for m in _INLINE_BULLET.finditer(text, start, end))
            breaks.sort()
        for i in breaks:
            if i > start:
                cut.append((start, i))
                start = i
        cut.append((start, end))
    return cut


def _split_lines(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Cut ``text[lo:hi]`` at line breaks that end a sentence."""
    pieces = []
    start = lo
    for match in _LINE_BREAK.finditer(text, lo, hi):
        following = text[match.end() : match.end() + 1]
        blank_line = match.group().count("\n") > 1
        if (
            blank_line
            or not following
            or not following.islower()
            or _LOWER_MARKER.match(text, match.end(), hi)
        ):
            pieces.append((start, match.start()))
            start = match.end()
    pieces.append((start, hi))
    return pieces


def _cut_layout(text: str, s: int, e: int, transcript: bool) -> tuple[int, int]:
    """Layout at the start of the segment ``text[s:e]`` (``s`` not white space).

    ``transcript``: the text had a speaker tag before, so "Q" at the start of a line
    is the reporter's even before a lower-case word. Returns ``(prefix_end, start)``:
    the end of the layout (``s`` if none) and where the sentence's text starts (``e``
    or beyond if the segment is layout only).
    """
    line_start = _at_line_start(text, s)
    prefix_end = pos = s
    while pos < e:
        char = text[pos]
        match = None
        if char in _INLINE_BULLETS:
            match = _MARKER.match(text, pos, e)  # a bullet anywhere, not only at a line start
        elif char.isupper():
            if char == "Q":
                match = _Q.match(text, pos, e)
                if match is None and transcript and line_start:
                    match = _Q_LOWER.match(text, pos, e)
            if match is None:
                match = _TAG.match(text, pos, e)
                if match is not None and match.end() - pos < 3:  # "A:" is no tag
                    match = None
            if match is not None:
                line_start = False  # no list marker after a tag
            elif line_start:
                match = _MARKER.match(text, pos, e)  # "III."  "B)"
                if match is None and pos == s:
                    match = _dateline(text, pos, e)
        elif line_start:
            match = _MARKER.match(text, pos, e)
            if match is None and pos == s and char == "*":
                match = _dateline(text, pos, e)  # **WASHINGTON** –
        if match is None:
            break
        prefix_end = match.end()
        pos = _GAP.match(text, prefix_end, e).end()
    return prefix_end, pos


def _dateline(text: str, pos: int, end: int) -> re.Match[str] | None:
    """A wire dateline at ``pos`` (a line start), or None."""
    match = _DATELINE.match(text, pos, end)
    if match is None or match["region"] or match["date"] or match["agency"]:
        return match
    # A bare place ("WASHINGTON –"): one or two words before a capitalised sentence, at
    # a paragraph start near the top of the text, where a press release puts it.
    if (
        pos >= _BARE_DATELINE_WITHIN
        or match["place"].count(" ") > 1
        or not text[_GAP.match(text, match.end(), end).end() : end][:1].isupper()
        or not _at_paragraph_start(text, pos)
    ):
        return None
    return match


def _at_line_start(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and text[i] in " \t\r\f\v\u200b\ufeff":
        i -= 1
    return i < 0 or text[i] == "\n"


def _at_paragraph_start(text: str, pos: int) -> bool:
    i = pos - 1
    newlines = 0
    while i >= 0 and text[i].isspace():
        newlines += text[i] == "\n"
        i -= 1
    return i < 0 or newlines > 1
