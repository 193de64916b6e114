"""The reader: its input, its model file, what it changes in the offline answer, and its training data.

The answerer's use of the reader is tested with a scripted reader, and the packaged model on
the demo's own question; the model file's checks are tested on files made here.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.answer.offline import OfflineAnswerer
from rag.answer.protocol import Question as Asked
from rag.errors import InputError, ModelFileError
from rag.index.embedding import sha256_of
from rag.reader.encoding import MAX_TOKENS, encode, load_tokenizer, token_span
from rag.reader.examples import Question, check_files, label, split_articles
from rag.reader.model import CARD_FILE, MODEL_FILE, TOKENIZER_PATH, Reader, Reading

from conftest import SEEDS

SENTENCE = "Rustem Umerov, Ukraine's defence minister, led its delegation in Istanbul."


def test_pair_keeps_the_sentence_and_finds_the_answer_tokens() -> None:
    tokenizer = load_tokenizer(str(TOKENIZER_PATH))
    batch = encode(tokenizer, ["Who led Ukraine's delegation?"], [SENTENCE], [f"Talks began. {SENTENCE} It ended."])
    first, last = batch.sentence_tokens[0]
    span = token_span(batch, 0, (0, len("Rustem Umerov")))
    assert span is not None and first == span[0] < span[1] < last
    assert batch.token_type_ids[0, first] == 1 and batch.token_type_ids[0, 1] == 0


def test_overlong_question_and_sentence_are_cut_not_refused() -> None:
    question = "Who " + "really " * 400 + "led the delegation?"
    sentence = "Rustem Umerov led it " + "and spoke at length " * 300 + "."
    tokenizer = load_tokenizer(str(TOKENIZER_PATH))
    batch = encode(tokenizer, [question, "Who?"], [sentence, SENTENCE], [sentence + " More.", ""])
    assert batch.input_ids.shape[1] == MAX_TOKENS
    assert batch.sentence_tokens[0][0] < batch.sentence_tokens[0][1]  # the sentence's start is kept
    assert batch.attention_mask[1].sum() < MAX_TOKENS  # the short pair is padded, not cut


def _model_folder(tmp_path: Path, content: bytes = b"not an onnx model") -> Path:
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / MODEL_FILE).write_bytes(content)
    (folder / CARD_FILE).write_text(json.dumps({"sha256": sha256_of(folder / MODEL_FILE)}), encoding="utf-8")
    return folder


def test_a_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path)
    (folder / MODEL_FILE).unlink()
    with pytest.raises(ModelFileError, match=r"make train-reader.*RAG_READER=off"):
        Reader(folder)


def test_an_altered_model_file_fails_its_sha256(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path)
    (folder / MODEL_FILE).write_bytes(b"not the model the card names")
    with pytest.raises(ModelFileError, match="sha256"):
        Reader(folder)


def test_a_card_without_a_checksum_or_a_file_onnxruntime_cannot_read_is_refused(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path)
    with pytest.raises(ModelFileError, match="cannot be loaded"):
        Reader(folder)
    (folder / CARD_FILE).write_text("{}", encoding="utf-8")
    with pytest.raises(ModelFileError, match="card"):
        Reader(folder)


def test_rag_on_without_a_model_fails_at_start_in_one_line(
    tmp_path: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import rag.reader.model
    from rag.cli import main

    monkeypatch.setattr(rag.reader.model, "READER_DIR", tmp_path / "no-reader")
    env = {"RAG_SEEDS_DIR": str(SEEDS), "RAG_INDEX_DIR": str(index_dir), "RAG_READER": "on"}
    result = CliRunner().invoke(main, ["ask", "Who led Ukraine's delegation?"], env=env)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "make train-reader" in lines[0] and "RAG_READER=off" in lines[0]
    off = CliRunner().invoke(main, ["ask", "Who led Ukraine's delegation?"], env={**env, "RAG_READER": "off"})
    assert off.exit_code == 0 and "[1]" in off.output, off.output


class ScriptedReader:
    """A reader whose probabilities are given per sentence (by a word it contains), spans by a word too."""

    def __init__(self, probabilities: dict[str, float], answer: str) -> None:
        self.probabilities = probabilities
        self.answer = answer
        self.questions: list[str] = []

    def read(self, question: str, sentences: Sequence[str], contexts: Sequence[str]) -> list[Reading]:
        self.questions.append(question)
        found = []
        for sentence in sentences:
            p = max((v for k, v in self.probabilities.items() if k in sentence), default=0.01)
            at = sentence.find(self.answer)
            found.append(Reading(p, (at, at + len(self.answer)) if at >= 0 else None, 0.9))
        return found


def _answer(pipeline, reader: ScriptedReader, question: str):
    answerer = OfflineAnswerer(pipeline.answerer.thresholds, reader, line=0.8)  # type: ignore[arg-type]
    return answerer.answer(Asked(question, None, None, 5), question, pipeline.snapshot())


def test_a_confident_reading_is_a_claim_of_the_sentence_s_own_words(pipeline) -> None:
    question = "Who led Ukraine's delegation at the Istanbul talks?"  # the word statistics said "Putin"
    answer = _answer(pipeline, ScriptedReader({"Umerov": 0.93}, "Rustem Umerov"), question)
    assert answer.outcome == "answer" and answer.claim == "Rustem Umerov" and answer.confidence == 0.93
    assert answer.text.startswith("Rustem Umerov [1].\n\n") and "Umerov" in answer.citations[0].text
    assert all("Umerov" in c.text for c in answer.citations)  # only quotes that state the claim
    assert answer.confidence_label() == "reader confidence 0.93 (sure: it answers from 0.80)"


def test_the_reader_reads_only_what_the_evidence_score_quotes(pipeline) -> None:
    reader = ScriptedReader({"Medinsky": 0.9}, "Vladimir Medinsky")
    question = "Who led Russia's delegation?"
    quoted = OfflineAnswerer(pipeline.answerer.thresholds).answer(
        Asked(question, None, None, 5), question, pipeline.snapshot()
    )
    answer = _answer(pipeline, reader, question)
    assert answer.claim == "Vladimir Medinsky"
    assert {c.quote for c in answer.citations} <= {c.quote for c in quoted.citations}
    assert reader.questions == ["Who led Russia's delegation?"]


def test_an_unsure_reading_shows_passages_without_a_claim(pipeline) -> None:
    question = "Who led Ukraine's delegation at the Istanbul talks?"
    answer = _answer(pipeline, ScriptedReader({"Umerov": 0.5}, "Rustem Umerov"), question)
    assert answer.outcome == "passages" and answer.claim is None and not answer.refused
    assert answer.text.startswith("These passages may answer your question")
    assert answer.citations and answer.confidence == 0.5
    assert answer.confidence_label() == "reader confidence 0.50 (not sure: it answers from 0.80; passages only)"


def test_a_reading_without_any_span_shows_passages(pipeline) -> None:
    answer = _answer(
        pipeline, ScriptedReader({"Umerov": 0.99}, "words no sentence has"), "Who led Ukraine's delegation?"
    )
    assert answer.outcome == "passages" and answer.claim is None and answer.citations


def test_the_evidence_score_still_refuses_whatever_the_reader_says(pipeline) -> None:
    reader = ScriptedReader({"": 0.99}, "the")  # sure of every sentence
    answer = _answer(pipeline, reader, "Who is the Pope?")
    assert answer.outcome == "refusal" and answer.refused and answer.claim is None and not reader.questions
    assert answer.text.startswith("The articles do not say")


def test_summaries_are_not_read(pipeline) -> None:
    reader = ScriptedReader({"": 0.99}, "the")
    answer = _answer(pipeline, reader, "Summarize the talks")
    assert answer.outcome == "answer" and answer.claim is None and not reader.questions


def test_the_packaged_reader_is_on_by_default_and_reads_the_demo_questions(pipeline) -> None:
    assert pipeline.settings.reader == "on" and pipeline.answerer.reader is not None
    sure = pipeline.ask("Who led Russia's delegation?")
    assert sure.outcome == "answer" and sure.claim == "Vladimir Medinsky"
    assert sure.confidence is not None and sure.confidence >= pipeline.answerer.line
    assert sure.confidence_label().startswith("reader confidence 0.9") and "Medinsky" in sure.citations[0].text
    assert sure.claim_threshold == pipeline.answerer.line
    for question in ("Who led Ukraine's delegation?", "Who led Ukraine's delegation at the Istanbul talks?"):
        answer = pipeline.ask(question)  # the word statistics said "Vladimir Medinsky" and "Putin"
        assert answer.outcome in ("answer", "passages"), question
        assert answer.claim is None or "Umerov" in answer.claim, (question, answer.claim)
    istanbul = answer
    assert any("Umerov" in c.text for c in istanbul.citations), "the Istanbul question quotes the sentence naming him"
    assert pipeline.ask("Who is the Pope?").outcome == "refusal"


def test_reader_off_answers_with_the_evidence_score_alone(index_dir: Path) -> None:
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    off = build_pipeline(load_settings(seeds_dir=SEEDS, index_dir=index_dir, reader="off", _env_file=None))
    assert off.answerer.reader is None
    answer = off.ask("Who headed the Russian delegation?")
    assert answer.confidence is None and answer.outcome == "answer" and answer.claim and "Medinsky" in answer.claim


def _question(answerable: bool = True, answer: str | None = "Umerov", article: str = "a.txt") -> Question:
    return Question("q1", article, "Who led it?", answerable, answer, (SENTENCE,) if answerable else (), "factoid")


def test_labels_trust_only_what_the_annotators_checked() -> None:
    raw = f"Intro. {SENTENCE} Outro."
    at = raw.index(SENTENCE)
    ranges = [(at, at + len(SENTENCE))]
    q = _question()
    assert label(q, "a.txt", at, at + len(SENTENCE), SENTENCE, ranges) == (1, (7, 13))
    assert label(q, "a.txt", 0, 6, "Intro.", ranges) == (0, None)
    # another article naming the answer may answer too: left out
    assert label(q, "b.txt", 0, 40, "Umerov spoke later.", ranges) == (None, None)
    assert label(q, "b.txt", 0, 40, "Rain fell.", ranges) == (0, None)
    # an evidence sentence without the answer (a two-sentence question's other half): left out
    assert label(_question(answer="Zelensky"), "a.txt", at, at + len(SENTENCE), SENTENCE, ranges) == (None, None)
    unanswerable = _question(answerable=False, answer=None)
    assert label(unanswerable, "a.txt", 0, 6, "Intro.", []) == (0, None)
    assert label(unanswerable, "b.txt", 0, 6, "Other.", []) == (None, None)


def test_split_is_by_article() -> None:
    questions = [
        Question(f"{a}_q{i}", f"{a}.txt", "Who?", True, "x", ("x",), "factoid") for a in range(50) for i in range(6)
    ]
    train, test = split_articles(questions)
    assert not train & test and len(test) == 10 and len(train) == 40


def test_training_refuses_data_the_checker_refuses(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "qa").mkdir(parents=True)
    (data / "articles").mkdir()
    (data / "articles" / "a.txt").write_text(f"Title\n2017/1/1\n\n{SENTENCE}\n", encoding="utf-8")
    shutil.copy(Path(__file__).parent / "data" / "check_qa.py", data / "check_qa.py")
    good = {
        "id": "a_q1",
        "article": "a.txt",
        "question": "Who led it?",
        "answerable": True,
        "answer": "Umerov",
        "evidence": [SENTENCE],
        "kind": "factoid",
        "history": [],
    }
    bad = {**good, "id": "a_q2", "answer": "Zelensky"}
    (data / "qa" / "batch_1.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"batch_1.jsonl:2"):
        check_files(data)
    (data / "qa" / "batch_1.jsonl").write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert check_files(data) == [data / "qa" / "batch_1.jsonl"]
