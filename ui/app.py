"""The Gradio app. It only formats and forwards: answers come from `Pipeline.ask_stream`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag.answer.filters import SearchFilter
from rag.errors import RagError
from rag.models import Answer, Citation, Done, TextDelta
from rag.pipeline import Pipeline
from ui.render import answer_message, article_html, mode_label

log = logging.getLogger(__name__)

EXAMPLES = [
    "Who headed the Russian delegation?",
    "How long did Friday's talks last?",
    "What did Kaja Kallas say about Putin?",
    "How many Ukrainian civilians have been killed, according to the UN?",
]
CSS = """
.unsupported { background: #fff3cd; }
.sources { font-size: 0.9em; margin-top: 0.5em; }
.answer-line { font-size: 1.1em; font-weight: 600; margin-bottom: 0.4em; }
.quotes { color: #333; }
.summary li { margin-bottom: 0.3em; }
.meta, .notice, .flag { font-size: 0.85em; color: #666; }
.article-body { max-height: 480px; overflow-y: auto; line-height: 1.5; }
mark { background: #ffe066; }
"""
SYSTEM_FONT = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"]


def _filter(chosen: list[str], date_from: str, date_to: str) -> SearchFilter | None:
    """The chat's article and date controls as a search filter ("any" means no limit)."""
    return SearchFilter.of(
        chosen or None, None if date_from == "any" else date_from, None if date_to == "any" else date_to
    )


def respond(
    pipeline: Pipeline,
    message: str,
    chat: list[dict[str, Any]],
    turns: list[list[str]],
    chosen: list[str],
    date_from: str,
    date_to: str,
    k: int,
) -> Iterator[tuple[Any, ...]]:
    """Stream one answer into the chat; yields (textbox, chat, turns, citations, picker)."""
    chat = [*(chat or []), {"role": "user", "content": message}, {"role": "assistant", "content": "…"}]
    yield "", chat, turns, [], gr.update()
    try:
        where = _filter(chosen, date_from, date_to)
        if where is not None and not pipeline.articles(where):
            chat[-1]["content"] = "No article matches the chosen filters; widen them and ask again."
            yield "", chat, turns, [], gr.update()
            return
        streamed = ""
        answer: Answer | None = None
        for event in pipeline.ask_stream(message, history=turns, where=where, k=int(k)):
            if isinstance(event, Done):
                answer = event.answer
            elif isinstance(event, TextDelta):
                streamed += event.text
                chat[-1]["content"] = streamed
                yield "", chat, turns, [], gr.update()
        if answer is None:
            raise RuntimeError("the answer stream ended without an answer")
        chat[-1]["content"] = answer_message(answer, pipeline.seeds_dir)
        turns = [*turns, [message, answer.text]]
        citations = [c.model_dump() for c in answer.citations]
        choices = [(f"[{c.number}] {c.title or c.source}", i) for i, c in enumerate(answer.citations)]
        yield "", chat, turns, citations, gr.update(choices=choices, value=None)
    except RagError as exc:
        chat[-1]["content"] = f"⚠ {exc}"
        yield "", chat, turns, [], gr.update()
    except Exception:
        log.exception("unexpected error while answering")
        chat[-1]["content"] = (
            "⚠ Something went wrong on our side while answering; it has been logged. Please try again."
        )
        yield "", chat, turns, [], gr.update()


def show_article(pipeline: Pipeline, citations: list[dict[str, Any]], picked: int | None) -> str:
    if picked is None or not (0 <= int(picked) < len(citations)):
        return ""
    return article_html(pipeline.seeds_dir, Citation(**citations[int(picked)]))


def build_app(pipeline: Pipeline) -> gr.Blocks:
    """The chat page; all behaviour is in `respond` and `show_article`."""
    articles = pipeline.articles()
    dates = sorted({a.date for a in articles if a.date})
    with gr.Blocks(title="News Q&A", analytics_enabled=False) as app:
        turns = gr.State([])
        citations = gr.State([])
        gr.Markdown(
            f"## Ask the news articles\nAnswers quote and cite {len(articles)} articles. "
            f"Mode: **{mode_label(pipeline.mode)}**.",
            elem_id="header",
        )
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    height=520,
                    elem_id="chat",
                    sanitize_html=True,
                    feedback_options=None,
                    buttons=["copy"],
                )
                box = gr.Textbox(
                    placeholder="Ask a question about the articles and press Enter",
                    show_label=False,
                    elem_id="question",
                    max_lines=4,
                )
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("Clear chat", elem_id="clear")
                gr.Examples(EXAMPLES, inputs=box, label="Examples")
            with gr.Column(scale=2):
                picker = gr.Dropdown(label="Read a cited article", choices=[], value=None, elem_id="picker")
                article = gr.HTML(elem_id="article")
                with gr.Accordion("Search settings", open=False):
                    chosen = gr.CheckboxGroup(
                        [(f"{a.title or a.source} ({a.date or 'undated'})", a.source) for a in articles],
                        label="Only these articles (none ticked: all)",
                        elem_id="articles",
                    )
                    with gr.Row():
                        date_from = gr.Dropdown(["any", *dates], value="any", label="From date")
                        date_to = gr.Dropdown(["any", *dates], value="any", label="To date")
                    k = gr.Slider(1, 10, value=pipeline.settings.top_k, step=1, label="Number of sources")

        def answer(*args: Any) -> Iterator[tuple[Any, ...]]:
            yield from respond(pipeline, *args)

        inputs = [box, chatbot, turns, chosen, date_from, date_to, k]
        outputs = [box, chatbot, turns, citations, picker]
        box.submit(answer, inputs, outputs, concurrency_limit=16, show_progress="hidden", api_name="ask")
        send.click(answer, inputs, outputs, concurrency_limit=16, show_progress="hidden", api_name="ask_button")
        clear.click(
            lambda: ([], [], [], gr.update(choices=[], value=None), ""),
            None,
            [chatbot, turns, citations, picker, article],
        )
        picker.change(lambda cites, picked: show_article(pipeline, cites, picked), [citations, picker], article)
    return app


def launch(pipeline: Pipeline, host: str = "127.0.0.1", port: int = 7860, share: bool = False, **kwargs: Any) -> Any:
    """Serve the chat; no share link and no analytics unless asked."""
    app = build_app(pipeline)
    app.queue(default_concurrency_limit=16)
    theme = gr.themes.Default(font=SYSTEM_FONT, font_mono=["ui-monospace", "monospace"])
    return app.launch(
        server_name=host,
        server_port=port,
        share=share,
        theme=theme,
        css=CSS,
        footer_links=[],
        show_error=False,
        **kwargs,
    )
