"""The offline answerer: quote the sentences that answer, or refuse.

With no LLM, the honest answer is the article's own words: the best sentences by the
evidence score (`rag.answer.scoring`) that hold the kind of answer asked for, or a plain
refusal below the calibrated threshold.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence

from rag.answer.answer_types import answer_type
from rag.answer.calibration import UNCALIBRATED_LINE, Thresholds
from rag.answer.dates import topic_dates
from rag.answer.filters import SearchFilter
from rag.answer.followup import condense_offline
from rag.answer.lexicon import WORD, Lexicon
from rag.answer.protocol import Question
from rag.answer.reading import answer_line
from rag.answer.scoring import Evidence, unknown_names, without_question_words
from rag.answer.snapshot import IndexSnapshot
from rag.answer.spans import Span, all_spans
from rag.answer.spelling import corrected
from rag.citations import cite, still_in_files
from rag.index.parsing import clean_text
from rag.models import Answer, Chunk, Done, Event, Outcome, TextDelta
from rag.prompts import fill
from rag.reader.model import Reader

#: Further sentences are quoted when their score is this close to the best one.
RUNNER_UP_MARGIN = 0.12
MAX_SENTENCES = 3
#: Words between a question word and a candidate answer at which its support halves (`closest_answer`).
NEAR_REACH = 3.0

#: Passages shown under a refusal ("Closest passages (they may not answer your question)").
CLOSEST = 3
#: A summary quotes up to this many sentences, chosen from this many candidates.
SUMMARY_SENTENCES = 6
SUMMARY_CANDIDATES = 30
#: Maximal marginal relevance: weight of relevance against novelty (Carbonell & Goldstein, 1998).
MMR_LAMBDA = 0.7
#: A summary reads the articles whose best sentence scores within this of the best article's.
ARTICLE_MARGIN = 0.15
#: Questions that ask for an overview rather than one fact; group "topic" is what it is about.
_BROAD = re.compile(
    r"^(?:(?:please |can you |could you )?(?:summari[sz]e|sum up|give me (?:an? )?(?:overview|summary|timeline|"
    r"rundown|background|recap)(?: of| on)?|(?:an? )?(?:overview|summary|timeline|recap|background) of|"
    r"tell me (?:more )?about|describe|brief me on|what(?:'s| is| was) the (?:latest|news|story) (?:on|about|with)|"
    r"(?:the )?latest on|what(?:'s| is) (?:going on|happening) (?:with|in|at)|what happened (?:with|to|in|at|on|"
    r"during|between)?))\b\s*(?P<topic>.*)$",
    re.IGNORECASE,
)
#: Questions about someone's part in the story ("What was Turkey's role?", "What role is the US
#: playing?", "What is Russia's position?", "What is the US saying about Mugabe?") are broad too.
_PART_IN_STORY = re.compile(
    r"^what(?:'s| is| was| are| were) .+?['’]s? (?:stated |official )?(?:role|position|stance|"
    r"response|reaction|view|strategy)s?\b|"
    r"^what role (?:is|was|did|does|has) .+? (?:play|playing|played)\b|"
    r"^what (?:is|are|was|were) .+? saying about\b",
    re.IGNORECASE,
)

#: Openings that refer back to the sentence before ("She said the measures would target...").
_OPENS_WITH_REFERENCE = re.compile(r"^(?:He|She|They|This|These|Those)\b")


def quotable(ev: Evidence) -> bool:
    """A sentence may be quoted when it can hold the asked-for kind of answer and it, or a
    neighbour, shares at least one content word with the question (an extract that shares
    nothing with the question, "<script>alert(1)</script>" or "?!?", answers nothing)."""
    return ev.typed and ev.overlaps


def select_evidence(scored: Sequence[Evidence], threshold: float, limit: int = MAX_SENTENCES) -> list[Evidence]:
    """The sentences to quote: the best one, plus close runners-up; empty means refuse.

    Sentences that cannot hold the kind of answer asked for are never quoted: "How old is
    Medinsky?" is refused when no sentence about him states an age. Where the asked-for kind
    is only a preference ("Who…?"), a miss lowers the score (`rag.answer.answer_types.expectation`).
    """
    scored = [ev for ev in scored if quotable(ev)]
    if not scored or scored[0].score < threshold:
        return []
    chosen = [scored[0]]
    for ev in scored[1:]:
        if len(chosen) == limit or ev.score < scored[0].score - RUNNER_UP_MARGIN:
            break
        if all(ev.chunk.text != c.chunk.text for c in chosen):
            chosen.append(ev)
    return chosen


def continues(following: Chunk) -> bool:
    """True when a sentence only makes sense with the one before it, so a quote should include it.

    "Von der Leyen said the EU was preparing a new sanctions package." is followed by "She
    said the measures would target the shadow fleet...": the answer is in the second.
    """
    return bool(_OPENS_WITH_REFERENCE.match(following.text))


def spanning(first: Chunk, following: Chunk) -> Chunk:
    """One quote spanning two consecutive sentences of an article."""
    return first.model_copy(update={"end": following.end, "text": f"{first.text} {following.text}"})


def with_continuations(kept: list[tuple[Chunk, str]], snapshot: IndexSnapshot) -> list[tuple[Chunk, str]]:
    """Quotes extended by a following sentence that refers back to them (see `continues`)."""
    quoted = {chunk.id for chunk, _ in kept}
    extended = []
    for chunk, raw in kept:
        following = snapshot.sentence(chunk.source, chunk.position + 1)
        if (
            following is not None
            and following.id not in quoted
            and continues(following)
            and clean_text(raw[following.start : following.end]) == following.text
        ):
            chunk = spanning(chunk, following)
        extended.append((chunk, raw))
    return extended


def summary_topic(question: str) -> str | None:
    """What a broad question is about ("Summarize the talks" -> "the talks"), or None for a factual one."""
    match = _BROAD.match(question.strip())
    if match is not None:
        return match.group("topic").strip(" ?.!") or question
    part = _PART_IN_STORY.match(question.strip())
    if part is not None:
        return question.strip(" ?.!")
    return None


def leading_phrase(question: str, chunk: Chunk, lexicon: Lexicon) -> str | None:
    """The asked-for thing as the quoted sentence words it ("Vladimir Medinsky"), or None.

    Exact text of the sentence, never composed words; only for questions that ask for a
    kind of thing (a person, a number, a date or time).
    """
    preferred = answer_type(question)
    if preferred is None:
        return None
    found = all_spans(preferred, without_question_words(chunk.text, question, lexicon), chunk.entities)
    if not found:
        return None
    start, end = closest_answer(found, chunk.text, lexicon.question_terms(question), lexicon)
    phrase = chunk.text[start:end].strip()
    return phrase or None


def closest_answer(spans: Sequence[Span], text: str, question_terms: Sequence[str], lexicon: Lexicon) -> Span:
    """The candidate answer the question's words surround most closely (the first on a tie).

    The density measure of factoid QA: each question word in the sentence supports each
    candidate by its IDF, by half at NEAR_REACH words between them, and the candidate with
    the most support leads the answer. In "Mr Hockey said … when the captain of the cargo
    ship rescued …", "Hockey" is far from "captain"; in "Tampa Captain Arne Rinnan" the name
    is next to both question words. `spans` must not be empty.
    """
    wanted = set(question_terms)
    words = list(WORD.finditer(text))
    starts, ends = [m.start() for m in words], [m.end() for m in words]
    anchors = [(i, t) for i, m in enumerate(words) for t in lexicon.word_terms(m.group().lower()) if t in wanted]

    def support(span: Span) -> float:
        first = bisect.bisect_right(ends, span[0])  # the first word ending after the span starts
        last = bisect.bisect_left(starts, span[1]) - 1  # the last word starting in it
        best: dict[str, float] = {}
        for at, term in anchors:
            if first <= at <= last:
                continue  # the span itself, not a word around it
            between = first - at - 1 if at < first else at - last - 1
            best[term] = max(best.get(term, 0.0), 1.0 / (1.0 + between / NEAR_REACH))
        return sum(lexicon.idf(t) * v for t, v in best.items())

    return max(spans, key=support)


def read_line(
    reader: Reader, threshold: float, query: str, kept: list[tuple[Chunk, str]]
) -> tuple[list[tuple[Chunk, str]], str | None, float]:
    """The quotes with the one that states the reader's answer line first, the line (None below
    `threshold`: the reader is not sure enough to claim it) and the reader's confidence in it."""
    line = answer_line(reader, query, [chunk for chunk, _ in kept])
    if line is None:
        return kept, None, 0.0
    if line.confidence < threshold:
        return kept, None, line.confidence
    return [kept[line.index], *kept[: line.index], *kept[line.index + 1 :]], line.text, line.confidence


def diverse(candidates: Sequence[Evidence], snapshot: IndexSnapshot, limit: int) -> list[Evidence]:
    """Up to `limit` candidates by maximal marginal relevance over their sentence vectors."""
    if not candidates:
        return []
    vectors = snapshot.retriever.vectors([ev.chunk.id for ev in candidates])
    chosen: list[int] = []
    left = list(range(len(candidates)))
    best = candidates[0].score
    while left and len(chosen) < limit:

        def gain(i: int) -> float:
            similar = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            return MMR_LAMBDA * (candidates[i].score - best) - (1 - MMR_LAMBDA) * similar

        pick = max(left, key=gain)
        chosen.append(pick)
        left.remove(pick)
    return [candidates[i] for i in chosen]


def about_the_story(scored: Sequence[Evidence]) -> list[Evidence]:
    """The candidates a summary chooses from: the sentences of the articles that tell the story,
    those whose best sentence scores close to the best article's.

    "Tell me about Britain's Great Repeal Bill plans" is one article's story; a sentence of
    another article that shares a word ("plans") is not part of it.
    """
    relevant = [ev for ev in scored if ev.overlaps]
    if not relevant:
        return []
    best: dict[str, float] = {}
    for ev in relevant:
        best[ev.chunk.source] = max(best.get(ev.chunk.source, ev.score), ev.score)
    top = max(best.values())
    return [ev for ev in relevant if best[ev.chunk.source] >= top - ARTICLE_MARGIN]


def opening_sentences(leads: Sequence[Chunk], snapshot: IndexSnapshot, limit: int) -> list[Chunk]:
    """Up to `limit` opening sentences of the articles whose first sentences are `leads` (in date
    order): one per article, spread over the period when there are more articles than places,
    then each article's second sentence, and so on."""
    if len(leads) > limit:
        step = len(leads) / limit
        return [leads[int(i * step)] for i in range(limit)]
    chosen: list[Chunk] = []
    for position in range(limit):
        for lead in leads:
            found = lead if position == 0 else snapshot.sentence(lead.source, lead.position + position)
            if found is not None and len(chosen) < limit:
                chosen.append(found)
    return chosen


def quoted_text(quotes: Sequence[Chunk]) -> str:
    """The answer text: each quoted sentence followed by its [n] marker."""
    return " ".join(f"{chunk.text} [{i}]" for i, chunk in enumerate(quotes, 1))


class OfflineAnswerer:
    """Extractive answers with verified citations; needs no model beyond the embedder."""

    mode = "offline"

    def __init__(self, thresholds: Thresholds, reader: Reader | None = None, line: float = UNCALIBRATED_LINE) -> None:
        self.thresholds = thresholds
        self.reader = reader
        #: The reader's confidence at which its span becomes the bold answer line.
        self.line = line

    def stream(self, question: Question, snapshot: IndexSnapshot) -> Iterator[Event]:
        answer = self.answer(question, condense_offline(question.text, question.history), snapshot)
        yield TextDelta(answer.text)
        yield Done(answer)

    def decision_score(self, query: str, snapshot: IndexSnapshot) -> float:
        """The score compared with the refusal threshold (-1 when nothing could answer), for calibration."""
        query, _ = corrected(query, snapshot.lexicon)
        if unknown_names(query, snapshot.lexicon):
            return -1.0
        usable = [ev for ev in snapshot.evidence(query) if quotable(ev)]
        return usable[0].score if usable else -1.0

    def answer(self, question: Question, query: str, snapshot: IndexSnapshot, notice: str | None = None) -> Answer:
        """The extractive answer to `query` (the standalone form of the question), or a refusal."""
        query, fixes = corrected(query, snapshot.lexicon)
        if fixes:
            typed = ", ".join(f"“{word}”" for word, _ in fixes)
            spelling = fill("spelling", typed=typed, names=", ".join(f"“{name}”" for _, name in fixes))
            notice = f"{notice} {spelling}" if notice else spelling
        topic = summary_topic(query)
        if topic is not None:
            return self.summary(question, query, topic, snapshot, notice)
        scored = snapshot.evidence(query, question.where)
        refuse = unknown_names(query, snapshot.lexicon)
        evidence = [] if refuse else select_evidence(scored, self.thresholds.for_question(query))
        kept, stale = still_in_files(snapshot.seeds_dir, [ev.chunk for ev in evidence])
        kept = with_continuations(kept, snapshot)
        base = self._base(question, query, scored, stale, notice)
        if not kept:
            return self._refusal(base, scored, snapshot)
        if self.reader is None:
            phrase, confidence = leading_phrase(query, kept[0][0], snapshot.lexicon), None
        else:
            kept, phrase, confidence = read_line(self.reader, self.line, query, kept)
        if phrase is not None:  # only sentences that state the same answer support it
            kept = [kept[0]] + [(c, raw) for c, raw in kept[1:] if phrase.lower() in c.text.lower()]
        citations = [cite(n, chunk, raw) for n, (chunk, raw) in enumerate(kept, 1)]
        text = quoted_text([chunk for chunk, _ in kept])
        outcome: Outcome = "answer"
        if phrase is not None:
            text = f"{phrase} [1].\n\n{text}"
        elif self.reader is not None:  # the reader is not sure what the sentences say: no claim
            text, outcome = f"{fill('passages')}\n\n{text}", "passages"
        update = {
            "text": text,
            "citations": citations,
            "refused": False,
            "outcome": outcome,
            "claim": phrase,
            "confidence": confidence,
            "claim_threshold": self.line if confidence is not None else None,
        }
        return base.model_copy(update=update)

    def summary(
        self, question: Question, query: str, topic: str, snapshot: IndexSnapshot, notice: str | None
    ) -> Answer:
        """A broad question's answer: diverse, relevant sentences across articles, in date order."""
        span = topic_dates(topic, snapshot.article_dates())
        if span is not None:
            return self.news_of(question, query, span, snapshot, notice)
        scored = snapshot.evidence(topic, question.where, n=SUMMARY_CANDIDATES)
        story = about_the_story(scored)
        chosen = diverse(story, snapshot, SUMMARY_SENTENCES)
        kept, stale = still_in_files(snapshot.seeds_dir, [ev.chunk for ev in chosen])
        base = self._base(question, query, scored, stale, notice)
        if not kept:
            return self._refusal(base, scored, snapshot)
        return self._listed(base, kept)

    def news_of(
        self, question: Question, query: str, span: tuple[str, str], snapshot: IndexSnapshot, notice: str | None
    ) -> Answer:
        """The opening sentences of the articles dated within `span` ("What happened on 9 February 2017?")."""
        where = question.where
        first = max(span[0], where.date_from or span[0]) if where else span[0]
        last = min(span[1], where.date_to or span[1]) if where else span[1]
        dated = SearchFilter(where.sources if where else None, first, last)
        leads = sorted(snapshot.articles(dated), key=lambda c: (c.date or "", c.source)) if first <= last else []
        chosen = opening_sentences(leads, snapshot, SUMMARY_SENTENCES)
        kept, stale = still_in_files(snapshot.seeds_dir, chosen)
        base = self._base(question, query, [Evidence(chunk, 0.0) for chunk in chosen], stale, notice)
        if not kept:
            return self._refusal(base, [], snapshot)
        return self._listed(base, kept)

    @staticmethod
    def _listed(base: Answer, kept: list[tuple[Chunk, str]]) -> Answer:
        """A summary's answer: one cited line per sentence, in date order."""
        kept = sorted(kept, key=lambda pair: (pair[0].date or "9999", pair[0].source, pair[0].position))
        citations = [cite(n, chunk, raw) for n, (chunk, raw) in enumerate(kept, 1)]
        lines = [f"- {chunk.text} [{n}]" for n, (chunk, _) in enumerate(kept, 1)]
        return base.model_copy(
            update={"text": "\n".join(lines), "citations": citations, "refused": False, "outcome": "answer"}
        )

    @staticmethod
    def _base(
        question: Question, query: str, scored: Sequence[Evidence], stale: list[str], notice: str | None
    ) -> Answer:
        shown = [ev.chunk.model_copy(update={"score": round(ev.score, 4)}) for ev in scored[: question.k]]
        notes = [n for n in (notice, fill("stale_index", files=", ".join(stale)) if stale else None) if n]
        return Answer(
            question=question.text,
            query=query,
            text=fill("refusal"),
            refused=True,
            sources=shown,
            notice=" ".join(notes) or None,
        )

    @staticmethod
    def _refusal(base: Answer, scored: Sequence[Evidence], snapshot: IndexSnapshot) -> Answer:
        """The plain refusal, with the closest passages (verified) so a wrong refusal still helps."""
        near: list[Chunk] = []
        for ev in scored:  # best first, each text once (a page may repeat its opening as its subtitle)
            if ev.overlaps and len(near) < CLOSEST and all(ev.chunk.text != chunk.text for chunk in near):
                near.append(ev.chunk)
        kept, _ = still_in_files(snapshot.seeds_dir, near)
        return base.model_copy(update={"closest": [cite(n, chunk, raw) for n, (chunk, raw) in enumerate(kept, 1)]})
