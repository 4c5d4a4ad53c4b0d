"""From an engine's words to a menu option: every recognised word votes for the options whose keyword
phrase contains it, weighted by its duration and confidence. A caller (or an engine) that gets only part of
a multi-word keyword ("배송" of "배송 조회") still reaches its option, with the confidence of what was heard."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ivr.voice.engines.base import Hypothesis

MIN_WORD_SECONDS = 0.05


@dataclass(frozen=True)
class Decision:
    option: str | None
    confidence: float
    complete: bool  # the words are exactly one whole keyword phrase of the winning option


def normalise(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def decide(hyp: Hypothesis, keywords: dict[str, str]) -> Decision:
    phrases = {normalise(p): option for p, option in keywords.items()}
    voters: dict[str, set[str]] = defaultdict(set)
    for phrase, option in phrases.items():
        for word in phrase.split():
            voters[word].add(option)
    score: dict[str, float] = defaultdict(float)
    weight: dict[str, float] = defaultdict(float)
    for w in hyp.words:
        options = voters.get(w.word.lower(), set())
        duration = max(w.end - w.start, MIN_WORD_SECONDS)
        for option in options:
            score[option] += duration * w.conf / len(options)
            weight[option] += duration
    if not score:
        return Decision(None, 0.0, False)
    best = max(score, key=lambda o: score[o])
    heard = normalise(" ".join(w.word for w in hyp.words))
    return Decision(best, min(1.0, score[best] / weight[best]), phrases.get(heard) == best)
