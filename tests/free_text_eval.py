"""Recall and precision of the free-text name finder on the labelled comments in tests/fixtures/free_text.

Each fixture line is one comment with every person name marked ``[[like this]]``. Scores are counted
over words: a word of a marked name is found when a span of :func:`privacy.find_names` covers it; a
word inside a found span that is not part of a marked name is a false alarm. A name counts as fully
redacted when every one of its words is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from helpers.data.survey import privacy

FIXTURES = Path(__file__).parent / "fixtures" / "free_text"
_MARK = re.compile(r"\[\[(.+?)\]\]")
_WORD = re.compile(r"[^\W_]+(?:[.'’-][^\W_]+)*\.?")


@dataclass(frozen=True)
class Scores:
    """Word-level scores of the name finder on one labelled file.

    comments: comments in the file; names: marked names; name_words: their words.
    found_words: name words the finder covered; alarm_words: other words it covered.
    names_fully_found: names with every word covered.
    """

    comments: int
    names: int
    name_words: int
    found_words: int
    alarm_words: int
    names_fully_found: int

    @property
    def recall(self) -> float:
        return self.found_words / self.name_words

    @property
    def precision(self) -> float:
        return self.found_words / (self.found_words + self.alarm_words)

    @property
    def name_recall(self) -> float:
        return self.names_fully_found / self.names


def comments(name: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """(plain text, marked name spans) of every comment in a fixture file."""
    out = []
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, spans, pos = "", [], 0
        for m in _MARK.finditer(line):
            text += line[pos : m.start()]
            spans.append((len(text), len(text) + len(m.group(1))))
            text += m.group(1)
            pos = m.end()
        out.append((text + line[pos:], spans))
    return out


def evaluate(name: str) -> Scores:
    n = words = found = alarms = full = 0
    data = comments(name)
    for text, gold in data:
        pred = privacy.find_names(text)
        for m in _WORD.finditer(text):
            in_gold = any(a <= m.start() and m.end() <= b for a, b in gold)
            in_pred = any(a <= m.start() and m.end() <= b for a, b in pred)
            words += in_gold
            found += in_gold and in_pred
            alarms += in_pred and not in_gold
        for a, b in gold:
            n += 1
            full += all(
                any(pa <= a + m.start() and a + m.end() <= pb for pa, pb in pred) for m in _WORD.finditer(text[a:b])
            )
    return Scores(len(data), n, words, found, alarms, full)


def misses(name: str) -> list[str]:
    """Comments where the finder missed or over-reached, with its spans shown as <<...>> (for development)."""
    out = []
    for text, gold in comments(name):
        pred = privacy.find_names(text)
        if sorted(pred) != sorted(gold):
            shown = text
            for a, b in sorted(pred, reverse=True):
                shown = shown[:a] + "<<" + shown[a:b] + ">>" + shown[b:]
            out.append(shown)
    return out
