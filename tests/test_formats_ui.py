"""In the chat, a quote from a PDF names its page, and the article view shows the PDF's story with it marked."""

from __future__ import annotations

import format_files as ff
import pytest
from test_formats import CRANES, OTHER
from test_ui import ask, browser, open_page, run_ui  # noqa: F401 - browser is a fixture

from conftest import ROOT, clean_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pdf_app(tmp_path_factory: pytest.TempPathFactory):
    """`rag ui` over a folder holding one two-column PDF, indexed before it starts."""
    from rag.pipeline import build_pipeline
    from rag.settings import load_settings

    root = tmp_path_factory.mktemp("pdf-ui")
    (root / "seeds").mkdir()
    ff.pdf(root / "seeds" / "paper.pdf", [OTHER, CRANES], columns=2)
    build_pipeline(load_settings(seeds_dir=root / "seeds", index_dir=root / "index", _env_file=None)).index()
    env = clean_env(
        RAG_SEEDS_DIR=str(root / "seeds"),
        RAG_INDEX_DIR=str(root / "index"),
        RAG_WATCH="off",
        PYTHONPATH=str(ROOT),
        GRADIO_ANALYTICS_ENABLED="False",
    )
    yield from run_ui(env, root / "rag-ui.log")


@pytest.fixture
def pdf_page(browser, pdf_app, request):  # noqa: F811 - the imported fixture
    yield from open_page(browser, pdf_app, request)


def test_a_pdf_quote_names_its_page_and_opens_in_the_extracted_story(pdf_page):
    page = pdf_page
    ask(page, "How many new cranes did the harbour authority order?", "14 new cranes")
    assert "paper.pdf, page 2" in page.inner_text("#chat .sources")
    page.click("#picker input")
    page.locator("ul[role='listbox'] li").first.click()
    page.wait_for_selector("#article mark#cited-quote")
    marked = page.inner_text("#article mark#cited-quote")
    assert marked == "The harbour authority ordered 14 new cranes from a Finnish supplier."
    story = page.inner_text("#article .article-body")
    assert "The council met to discuss the parking budget" in story and "Harbour Gazette" not in story
    assert "paper.pdf, page 2" in page.inner_text("#article .meta")
