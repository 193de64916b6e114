"""Copies of one story folded at index time: searched once, cited once with the others listed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openai
import pytest
from api_server import offline_pipeline, running

from conftest import clean_env


def story(title: str, date: str, paragraphs: list[str]) -> str:
    """A Markdown article: front matter with its headline and date, then its paragraphs."""
    return f"---\ntitle: {title}\ndate: {date}\n---\n" + "\n\n".join(paragraphs) + "\n"


PARAGRAPHS = [
    "The new ferry across the river Wend carried 18,400 passengers in its first week, the harbour authority said "
    "on Monday.",
    "The electric vessel, named Marta, replaced a diesel boat that had run the crossing between Aldport and Kessing "
    "since 1987.",
    "Crossings now take eleven minutes instead of eighteen, and the ferry runs every twenty minutes from six in the "
    "morning until midnight.",
    "Harbour director Ilse Brandt said the authority had expected about 12,000 passengers and would add a second "
    "vessel in the summer.",
    "Cyclists made up almost a third of the passengers, according to ticket counts, and the bicycle deck was full "
    "at rush hour on three days.",
    "Residents of Kessing had campaigned for a faster crossing for a decade, arguing that the old boat was too slow "
    "and too loud.",
]
FERRY = story("New Wend ferry carries 18,400 passengers in its first week", "2024-03-04", PARAGRAPHS)
#: The same story syndicated: retitled, dated a day later, two words edited and a paragraph added.
SYNDICATED = story(
    "Electric ferry Marta beats expectations on the Wend",
    "2024-03-05",
    [
        PARAGRAPHS[0].replace("on Monday.", "on Monday evening."),
        *PARAGRAPHS[1:4],
        PARAGRAPHS[4].replace("almost", "nearly"),
        PARAGRAPHS[5],
        "The Aldport Courier contributed reporting to this article.",
    ],
)
#: Another story on the same ferry, with the same people and places: it must stay apart.
STRIKE = story(
    "Wend ferry crews strike over rosters",
    "2024-03-20",
    [
        "Crews of the electric ferry Marta walked out on Wednesday, halting the crossing between Aldport and Kessing "
        "for the first time since it opened this month.",
        "The union said the harbour authority had asked crews to work twelve-hour shifts without a proper break since "
        "the service began.",
        "Harbour director Ilse Brandt said talks with the union would resume on Friday and that a replacement bus "
        "would run every half hour.",
        "Commuters from Kessing queued for more than an hour at the bus stop, and several cyclists rode the long way "
        "round by the Hallam bridge.",
        "The strike is due to last until Saturday unless the two sides agree on a new roster.",
    ],
)
BAKERY = story(
    "Bakery chain closes northern shops",
    "2024-03-08",
    [
        "The bakery chain Kornhaus closed 12 shops in the northern provinces on Friday, blaming the price of flour "
        "and energy.",
        "The company said the 140 staff of the closed shops would be offered jobs in its remaining branches in the "
        "south.",
    ],
)
QUESTION = "How many passengers did the new Wend ferry carry in its first week?"
COPIES = ("ferry-copy.txt", "wire/ferry-syndicated.md")


def write_folder(folder: Path) -> Path:
    """The ferry story, an exact copy under another name, a syndicated copy, another ferry story and a bakery story."""
    (folder / "wire").mkdir(parents=True)
    (folder / "ferry.txt").write_text(FERRY, encoding="utf-8")
    (folder / "ferry-copy.txt").write_text(FERRY, encoding="utf-8")
    (folder / "wire" / "ferry-syndicated.md").write_text(SYNDICATED, encoding="utf-8")
    (folder / "ferry-strike.txt").write_text(STRIKE, encoding="utf-8")
    (folder / "bakery.txt").write_text(BAKERY, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def folded(tmp_path_factory: pytest.TempPathFactory):
    """The folder indexed once, folding on (the default)."""
    root = tmp_path_factory.mktemp("duplicates")
    pipeline = offline_pipeline(root / "index", seeds_dir=write_folder(root / "news"))
    return pipeline, pipeline.index()


@pytest.fixture
def fresh(tmp_path: Path):
    """A pipeline over a private copy of the folder, indexed, for tests that change it."""

    def make(**settings: object):
        return offline_pipeline(tmp_path / "index", seeds_dir=tmp_path / "news", **settings)

    write_folder(tmp_path / "news")
    pipeline = make()
    pipeline.index()
    return pipeline, make


def group_members(sources: list[str]) -> list[str]:
    return [s for s in sources if s in ("ferry.txt", *COPIES)]


def test_an_exact_copy_under_another_name_is_folded_into_the_shorter_name(folded):
    _, summary = folded
    assert summary.folded["ferry-copy.txt"] == "ferry.txt"


def test_a_copy_retitled_redated_and_lightly_edited_is_folded_into_the_earlier_article(folded):
    _, summary = folded
    assert summary.folded["wire/ferry-syndicated.md"] == "ferry.txt"


def test_another_story_about_the_same_ferry_is_not_folded(folded):
    _, summary = folded
    assert summary.folded == {"ferry-copy.txt": "ferry.txt", "wire/ferry-syndicated.md": "ferry.txt"}
    assert "ferry-strike.txt" not in summary.folded and "ferry-strike.txt" not in summary.folded.values()


def test_five_reports_of_the_same_talks_by_different_outlets_are_not_folded(pipeline):
    assert pipeline.snapshot().folds.copy_of == {}


def test_the_top_results_hold_one_copy_of_a_story(folded):
    pipeline, _ = folded
    chunks = pipeline.retrieve(QUESTION, k=10)
    assert chunks[0].source == "ferry.txt"
    assert set(group_members([c.source for c in chunks])) == {"ferry.txt"}


def test_the_answer_cites_one_copy_and_lists_the_others(folded):
    from rag.citations import verify

    pipeline, _ = folded
    answer = pipeline.ask(QUESTION)
    assert not answer.refused, answer.text
    cited = answer.citations[0]
    assert (cited.source, cited.also_in) == ("ferry.txt", ("ferry-copy.txt", "wire/ferry-syndicated.md"))
    assert "18,400 passengers" in cited.quote and verify(cited, pipeline.seeds_dir)
    assert not {c.source for c in [*answer.citations, *answer.closest]} & set(COPIES), "no copy is cited"


def test_a_filter_naming_a_copy_searches_that_copy(folded):
    from rag.answer.filters import SearchFilter
    from rag.citations import verify

    pipeline, _ = folded
    where = SearchFilter.of(sources=["wire/ferry-syndicated.md"])
    answer = pipeline.ask(QUESTION, where=where)
    cited = answer.citations[0]
    assert (cited.source, cited.also_in) == ("wire/ferry-syndicated.md", ("ferry.txt", "ferry-copy.txt"))
    assert cited.quote.endswith("said on Monday evening.") and verify(cited, pipeline.seeds_dir)


def test_the_chat_and_the_api_list_the_other_copies(folded):
    from rag.serve import build_app
    from ui.render import sources_html

    pipeline, _ = folded
    page = sources_html(pipeline.ask(QUESTION).citations, pipeline.seeds_dir)
    assert "also in: <code>ferry-copy.txt</code>, <code>wire/ferry-syndicated.md</code>" in page
    with running(build_app(pipeline)) as url:
        client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
        message = (
            client.chat.completions.create(model="newsrag-offline", messages=[{"role": "user", "content": QUESTION}])
            .choices[0]
            .message
        )
    cited = message.citations[0]
    assert (cited["source"], cited["also_in"]) == ("ferry.txt", ["ferry-copy.txt", "wire/ferry-syndicated.md"])


def test_removing_the_canonical_file_promotes_the_earliest_copy_without_embedding_again(fresh):
    pipeline, _ = fresh
    (pipeline.seeds_dir / "ferry.txt").unlink()
    summary = pipeline.index()
    assert summary.removed == ["ferry.txt"] and summary.embedded == 0
    assert summary.folded == {"wire/ferry-syndicated.md": "ferry-copy.txt"}
    cited = pipeline.ask(QUESTION).citations[0]
    assert (cited.source, cited.also_in) == ("ferry-copy.txt", ("wire/ferry-syndicated.md",))


def test_a_copy_changed_into_another_story_is_unfolded_and_searched(fresh):
    pipeline, _ = fresh
    seals = "Volunteers counted 212 harbour seals on the sandbanks at the mouth of the river Wend on Sunday."
    (pipeline.seeds_dir / "ferry-copy.txt").write_text(story("Seals counted", "2024-03-06", [seals]), "utf-8")
    summary = pipeline.index()
    assert summary.changed == ["ferry-copy.txt"]
    assert summary.folded == {"wire/ferry-syndicated.md": "ferry.txt"}
    assert pipeline.retrieve("How many harbour seals did volunteers count?", k=1)[0].source == "ferry-copy.txt"
    assert pipeline.ask(QUESTION).citations[0].also_in == ("wire/ferry-syndicated.md",)


def test_turning_folding_off_and_on_refolds_without_embedding_again(fresh):
    _, make = fresh
    off = make(fold_duplicates="off")
    summary = off.index()
    assert (summary.refolded, summary.embedded, summary.folded) == (True, 0, {})
    assert len(set(group_members([c.source for c in off.retrieve(QUESTION, k=10)]))) > 1, "copies are searched"
    assert off.ask(QUESTION).citations[0].also_in == ()
    summary = make().index()
    assert (summary.refolded, summary.embedded) == (True, 0)
    assert summary.folded == {"ferry-copy.txt": "ferry.txt", "wire/ferry-syndicated.md": "ferry.txt"}
    again = make().index()
    assert not again.modified and again.folded == summary.folded


def test_the_canonical_article_is_the_earliest_then_the_shortest_name_and_short_briefs_fold_only_when_exact():
    from rag.index.duplicates import fold_articles

    def brief(day: int, when: str) -> str:
        return story("Brief", f"2024-01-0{day}", [f"The bridge over the Wend reopened on {when}."])

    articles = [
        ("a-long-name.txt", FERRY),
        ("b.txt", FERRY),
        ("undated.txt", FERRY.replace("date: 2024-03-04\n", "")),
        ("earlier/ferry.md", SYNDICATED.replace("2024-03-05", "2024-03-01")),
        ("brief1.txt", brief(1, "Monday")),
        ("brief2.txt", brief(2, "Monday")),
        ("brief3.txt", brief(3, "Tuesday")),
    ]
    folds = fold_articles(articles)
    assert folds.copy_of == {
        "a-long-name.txt": "earlier/ferry.md",
        "b.txt": "earlier/ferry.md",
        "undated.txt": "earlier/ferry.md",
        "brief2.txt": "brief1.txt",
    }
    assert folds.summary() == "4 duplicate articles folded into 2"
    assert folds.also_in("b.txt") == ("earlier/ferry.md", "a-long-name.txt", "undated.txt")
    assert folds.also_in("brief3.txt") == ()


def test_a_text_with_other_figures_is_another_story_but_a_trimmed_copy_is_not():
    from rag.index.duplicates import fold_articles

    corrected = FERRY.replace("18,400", "18,900")  # an update, or the same template with other results
    trimmed = story("Ferry", "2024-03-04", PARAGRAPHS[:3] + PARAGRAPHS[4:])  # the 12,000 paragraph cut
    folds = fold_articles([("ferry.txt", FERRY), ("corrected.txt", corrected), ("trimmed.txt", trimmed)])
    assert folds.copy_of == {"trimmed.txt": "ferry.txt"}


@pytest.mark.slow
def test_rag_index_reports_the_folded_copies_and_rag_ask_lists_them(tmp_path):
    env = clean_env(RAG_SEEDS_DIR=str(write_folder(tmp_path / "news")), RAG_INDEX_DIR=str(tmp_path / "index"))

    def rag(*args: str) -> subprocess.CompletedProcess[str]:
        run = [sys.executable, "-m", "rag.cli", *args]
        return subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    first = rag("index")
    assert first.returncode == 0, first.stderr
    assert "Indexed 5 files (5 new" in first.stdout
    assert "\n2 duplicate articles folded into 1: copies of one story are searched once" in first.stdout
    again = rag("index")
    assert "Index is up to date: 5 files" in again.stdout and "2 duplicate articles folded into 1" in again.stdout
    asked = rag("ask", QUESTION)
    assert asked.returncode == 0, asked.stderr
    assert "\n[1] ferry.txt, 2024-03-04 — New Wend ferry carries 18,400 passengers" in asked.stdout
    assert "\n    also in: ferry-copy.txt, wire/ferry-syndicated.md\n" in asked.stdout


@pytest.mark.slow
def test_the_folding_measurement_runs_and_folds_no_two_different_stories():
    script = Path(__file__).parent.parent / "eval" / "duplicates.py"
    run = [sys.executable, str(script), "--limit", "2", "--formats-every", "100"]
    result = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "| exact | 11 | 1.00 / 1.00 | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 |" in result.stdout
    assert "precision 1.000" in result.stdout and "(0 folds of two different stories)" in result.stdout
