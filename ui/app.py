"""The Gradio app. It only formats and forwards: answers come from `Pipeline.ask_stream`."""

from __future__ import annotations

import datetime
import html
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag import feedback
from rag.answer.filters import SearchFilter
from rag.errors import RagError
from rag.hosts import is_loopback
from rag.index.ingest import MAX_FILE_BYTES
from rag.models import Answer, Chunk, Citation, Done, TextDelta
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.uploads import MAX_DOCUMENT_BYTES, BackgroundIndex, IndexStatus, remove_article, save_uploads
from rag.watch import FolderWatcher, refresh_job, watching
from ui.render import (
    DERIVED_MARK,
    answer_message,
    article_html,
    articles_html,
    headline,
    index_status_html,
    lines_html,
    mode_label,
)

log = logging.getLogger(__name__)

#: The demo corpus's examples (`seeds/`, the default RAG_SEEDS_DIR).
EXAMPLES = [
    "Who headed the Russian delegation?",
    "How long did Friday's talks last?",
    "What did Kaja Kallas say about Putin?",
    "How many Ukrainian civilians have been killed, according to the UN?",
]


def examples(seeds_dir: Path, articles: list[Chunk]) -> list[str]:
    """The demo's examples for the demo corpus; for a folder of the user's, questions made from
    it (the news of its latest day, an overview of its latest headline), since questions about
    the demo's talks in Istanbul mean nothing beside other news."""
    if seeds_dir.resolve() == Path(str(Settings.model_fields["seeds_dir"].default)).resolve():
        return EXAMPLES
    dated = sorted((a for a in articles if a.date), key=lambda a: (a.date or "", a.source))
    found = []
    if dated:
        day = datetime.date.fromisoformat(str(dated[-1].date))
        found.append(f"What happened on {day.day} {day:%B %Y}?")
    titled = [a.title for a in [*reversed(dated), *articles] if a.title and len(a.title) <= 90]
    if titled:
        found.append(f"Give me an overview of {titled[0]}")
    return found


CSS = """
.unsupported { background: #fff3cd; }
.sources { font-size: 0.9em; margin-top: 0.5em; }
.answer-line { font-size: 1.1em; font-weight: 600; margin-bottom: 0.4em; }
.quotes { color: #333; }
.summary li { margin-bottom: 0.3em; }
.meta, .notice, .flag { font-size: 0.85em; color: #666; }
.article-body { max-height: 480px; overflow-y: auto; line-height: 1.5; }
.article-list { max-height: 320px; overflow-y: auto; padding-left: 1.4em; }
.article-list li { margin-bottom: 0.4em; }
mark { background: #ffe066; }
.chat-error { margin: 0; }
#chat .message-row:has(.chat-error) + .message-buttons button:is([aria-label="Like"], [aria-label="Dislike"]) {
  display: none;
}
"""
#: After an answer, the chat scrolls to the question that asked it, so the question and the answer
#: line are in view with the sources below them (Gradio's autoscroll showed the bottom: the last
#: sources and the mode line, the answer scrolled out of sight above).
SHOW_LAST_QUESTION = """
() => setTimeout(() => {
  const wrap = document.querySelector('#chat .bubble-wrap');
  const asked = wrap ? wrap.querySelectorAll('.message-row.user-row') : [];
  if (!asked.length) return;
  const question = asked[asked.length - 1];
  wrap.scrollTop += question.getBoundingClientRect().top - wrap.getBoundingClientRect().top - 8;
}, 50)
"""
SYSTEM_FONT = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"]


def _filter(chosen: list[str], date_from: str, date_to: str) -> SearchFilter | None:
    """The chat's article and date controls as a search filter ("any" means no limit)."""
    return SearchFilter.of(
        chosen or None, None if date_from == "any" else date_from, None if date_to == "any" else date_to
    )


#: A question longer than this is echoed into the chat shortened; the pipeline still gets all of it.
ECHO_CHARS = 300


def echoed(message: str) -> str:
    """The question as the chat shows it: a long one (a pasted article) cut at a word, with its length,
    so the reply about it (often "too long") is not pushed out of sight."""
    if len(message) <= ECHO_CHARS:
        return message
    cut = message[: ECHO_CHARS - 40].rsplit(" ", 1)[0] or message[: ECHO_CHARS - 40]
    return f"{cut.rstrip()} … ({len(message):,} characters)"


def error_bubble(text: str) -> str:
    """A message that is not an answer; CSS hides the 👍/👎 under it, since there is nothing to rate."""
    return f'<p class="chat-error">⚠ {html.escape(text)}</p>'


def respond(
    pipeline: Pipeline,
    message: str,
    chat: list[dict[str, Any]],
    turns: list[list[str]],
    chosen: list[str],
    date_from: str,
    date_to: str,
    k: int,
    records: dict[str, Any] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Stream one answer into the chat; yields (textbox, chat, turns, citations, picker, records).

    `records` maps the chat index of each answer to what a 👍/👎 on it must store.
    """
    records = dict(records or {})
    chat = [*(chat or []), {"role": "user", "content": echoed(message)}, {"role": "assistant", "content": "…"}]
    yield "", chat, turns, [], gr.update(), records
    try:
        where = _filter(chosen, date_from, date_to)
        if where is not None and not pipeline.articles(where):
            chat[-1]["content"] = error_bubble("No article matches the chosen filters; widen them and ask again.")
            yield "", chat, turns, [], gr.update(), records
            return
        streamed = ""
        answer: Answer | None = None
        for event in pipeline.ask_stream(message, history=turns, where=where, k=int(k)):
            if isinstance(event, Done):
                answer = event.answer
            elif isinstance(event, TextDelta):
                streamed += event.text
                chat[-1]["content"] = streamed
                yield "", chat, turns, [], gr.update(), records
        if answer is None:
            raise RuntimeError("the answer stream ended without an answer")
        chat[-1]["content"] = answer_message(answer, pipeline.seeds_dir)
        records[str(len(chat) - 1)] = feedback.answer_record(answer, turns, uuid.uuid4().hex[:16])
        turns = [*turns, [message, answer.text]]
        citations = [c.model_dump() for c in answer.citations]
        choices = [(f"[{c.number}] {c.title or c.source}", i) for i, c in enumerate(answer.citations)]
        yield "", chat, turns, citations, gr.update(choices=choices, value=None), records
    except RagError as exc:
        chat[-1]["content"] = error_bubble(str(exc))
        yield "", chat, turns, [], gr.update(), records
    except Exception:
        log.exception("unexpected error while answering")
        chat[-1]["content"] = error_bubble(
            "Something went wrong on our side while answering; it has been logged. Please try again."
        )
        yield "", chat, turns, [], gr.update(), records


def show_article(pipeline: Pipeline, citations: list[dict[str, Any]], picked: int | None) -> str:
    if picked is None or not (0 <= int(picked) < len(citations)):
        return ""
    return article_html(pipeline.seeds_dir, Citation(**citations[int(picked)]))


RATING = {True: "up", False: "down"}


def _save(pipeline: Pipeline, line: dict[str, Any]) -> str | None:
    """Append a feedback line; the message to show instead of a traceback when it cannot be written."""
    from filelock import Timeout

    path = feedback.feedback_file(pipeline.settings)
    try:
        feedback.append(path, line)
    except (OSError, Timeout) as exc:
        log.warning("feedback not saved to %s: %s", path, exc)
        reason = getattr(exc, "strerror", None) or exc
        return f"Could not save the feedback to {path} ({reason}); check RAG_FEEDBACK_PATH."
    return None


def rate(pipeline: Pipeline, records: dict[str, Any], index: Any, liked: Any) -> tuple[str | None, bool, str]:
    """Store a 👍/👎 (or its removal) at once; returns (answer awaiting a correction, show the box, status).

    A 👎 is written before any correction is typed, so closing the page loses nothing;
    the correction, if sent, is a later line for the same answer (the export keeps the last).
    """
    key = str(index[0] if isinstance(index, list | tuple) else index)
    record = (records or {}).get(key)
    if record is None:
        return None, False, "There is no answer to rate in that message."
    rating = RATING.get(liked, "cleared") if isinstance(liked, bool) else "cleared"
    failed = _save(pipeline, feedback.entry(record, rating))
    if failed:
        return None, False, failed
    if rating == "down":
        return key, True, "Thanks. What was wrong? Type the right answer if you know it, then Send."
    return None, False, "Thanks for the feedback." if rating == "up" else "Rating removed."


def send_correction(pipeline: Pipeline, records: dict[str, Any], pending: str | None, text: str) -> tuple[str, str]:
    """Store the correction for the 👎 answer; returns (cleared textbox, status)."""
    record = (records or {}).get(pending or "")
    if record is None:
        return text, "Click 👎 on an answer first."
    failed = _save(pipeline, feedback.entry(record, "down", text))
    if failed:
        return text, failed
    saved = "Saved your correction" if text.strip() else "Saved"
    return "", f"{saved}, thank you. `rag feedback export` turns corrections into gold questions."


#: Seconds between a page's checks for a change the folder watcher noticed.
WATCH_POLL_SECONDS = 2.0


class Articles:
    """Adding and removing articles from the page, with one background refresh for all pages
    (`job`, shared with the folder watcher when there is one)."""

    def __init__(
        self, pipeline: Pipeline, job: BackgroundIndex | None = None, watcher: FolderWatcher | None = None
    ) -> None:
        self.pipeline = pipeline
        self.job = job or BackgroundIndex(pipeline.index)
        self.watcher = watcher

    def upload(self, files: list[str] | None) -> tuple[str, None, gr.Timer]:
        """Save the uploaded files that pass the checks, then refresh the index in the background."""
        paths = [Path(f) for f in files or []]
        report = save_uploads(
            self.pipeline.seeds_dir,
            [(p.name, p) for p in paths],
            self.pipeline.settings.upload_max_files,
            columns=self.pipeline.settings.columns,
        )
        for path in paths:  # Gradio's copy is no longer needed, whatever the outcome
            path.unlink(missing_ok=True)
        if report.saved:
            self.job.request()
        return lines_html(report.lines), None, gr.Timer(active=bool(report.saved))

    def confirm_remove(self, source: str | None) -> tuple[Any, str, str | None, str]:
        """Ask before deleting: the question naming the file, or why there is nothing to ask.

        Returns (confirmation box, its question, the file awaiting the answer, status line).
        """
        chosen = {a.source: a for a in self.pipeline.articles()}.get(source or "")
        if chosen is None:
            return gr.Group(visible=False), "", None, lines_html(["Choose an article to remove."])
        title, derived = headline(chosen)
        named = f"“{title}”" + (f" ({DERIVED_MARK})" if derived else "")
        question = (
            f"<p>Delete <code>{html.escape(chosen.source)}</code>, {html.escape(named)}, from "
            f"<code>{html.escape(str(self.pipeline.seeds_dir))}</code>? The file itself is deleted, "
            "not only its place in the index.</p>"
        )
        return gr.Group(visible=True), question, chosen.source, ""

    def remove(self, source: str | None) -> tuple[str, gr.Timer]:
        """Delete one article file from the seeds folder, then refresh the index in the background."""
        if not source:
            return lines_html(["Choose an article to remove."]), gr.Timer(active=False)
        message = remove_article(self.pipeline.seeds_dir, source, [a.source for a in self.pipeline.articles()])
        removed = message.startswith("Removed")
        if removed:
            self.job.request()
        return lines_html([message]), gr.Timer(active=removed)

    def reindex(self) -> gr.Timer:
        self.job.request()
        return gr.Timer(active=True)

    def opened(self, chosen: list[str]) -> tuple[Any, ...]:
        """What a newly opened (or reloaded) page shows: the lists as they are now, and the refresh line
        only while a refresh runs; a finished one was news to the page that asked for it, not to this one."""
        shown, *rest, _ = self.tick(chosen)
        status = self.job.status()
        watched = self.watcher is not None and self.watcher.busy
        return ("" if not status.running else shown, *rest, self._folder_line(status if watched else None))

    def noticed(self, seen: int) -> tuple[int, Any]:
        """For the page's slow timer: (changes seen, progress timer), the timer started when the
        folder watcher noticed a change (or finished its refresh) since the page last looked."""
        changes = self.watcher.changes if self.watcher is not None else 0
        return changes, gr.Timer(active=True) if changes != seen else gr.update()

    def _folder_line(self, status: IndexStatus | None) -> Any:
        """The line under the header: the folder watcher's last change and its refresh, with a progress
        bar while it runs; hidden (no gap under the header) before any change, or with no `status`."""
        if self.watcher is None or status is None or not self.watcher.message(status):
            return gr.update(value="", visible=False)
        busy = self.watcher.busy and status.running
        return gr.update(
            value=index_status_html(busy, status.done, status.total, self.watcher.message(status)), visible=True
        )

    def tick(self, chosen: list[str]) -> tuple[Any, ...]:
        """Progress while a refresh runs; once it is done, every list that names articles.

        Returns (status, timer, header, article list, remove choices, article filter, from date, to date,
        folder status).
        """
        status = self.job.status()
        shown = index_status_html(status.running, status.done, status.total, status.message)
        folder = self._folder_line(status)
        if status.running:
            return (shown, gr.Timer(active=True), *[gr.update()] * 6, folder)
        articles = self.pipeline.articles()
        sentences = self.pipeline.snapshot().sentence_counts()
        sources = [a.source for a in articles]
        dates = ["any", *sorted({a.date for a in articles if a.date})]
        return (
            shown,
            gr.Timer(active=False),
            header(self.pipeline, len(articles)),
            articles_html(articles, sentences),
            gr.update(choices=_labels(articles), value=None),
            gr.update(choices=_labels(articles), value=[c for c in chosen or [] if c in sources]),
            gr.update(choices=dates),
            gr.update(choices=dates),
            folder,
        )


def _labels(articles: list[Chunk]) -> list[tuple[str, str]]:
    """(label, file) for the article pickers: headline and date, or the story's first words, marked."""
    found = []
    for a in articles:
        title, derived = headline(a)
        when = a.date or "undated"
        found.append((f"“{title}” ({DERIVED_MARK}, {when})" if derived else f"{title} ({when})", a.source))
    return found


def header(pipeline: Pipeline, count: int) -> str:
    return f"## Ask the news articles\nAnswers quote and cite {count} articles. Mode: **{mode_label(pipeline.mode)}**."


MANAGE_OFF = (
    "Adding and removing articles is off: this chat is reachable from other machines without a "
    "password. Set RAG_UI_PASSWORD, or run `rag ui` on 127.0.0.1."
)


def build_app(
    pipeline: Pipeline, manage: bool = False, job: BackgroundIndex | None = None, watcher: FolderWatcher | None = None
) -> gr.Blocks:
    """The chat page; `manage` adds uploading and removing articles (loopback or password only),
    and with a `watcher` (sharing `job`) the line under the header that says what changed in
    the seeds folder and how its refresh goes. `rag ui` always manages: it refuses to open the
    chat to other machines without a password."""
    articles = pipeline.articles()
    dates = sorted({a.date for a in articles if a.date})
    sentences = pipeline.snapshot().sentence_counts()
    panel = Articles(pipeline, job, watcher)
    with gr.Blocks(title="News Q&A", analytics_enabled=False) as app:
        turns = gr.State([])
        citations = gr.State([])
        records = gr.State({})
        pending = gr.State(None)
        heading = gr.Markdown(header(pipeline, len(articles)), elem_id="header")
        folder_status = gr.HTML(elem_id="folder-status", visible=False)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,  # shown, the label floated over the first visible line of the chat
                    autoscroll=False,  # SHOW_LAST_QUESTION scrolls instead
                    height=520,
                    elem_id="chat",
                    sanitize_html=True,
                    feedback_options=("Like", "Dislike"),
                    buttons=["copy"],
                )
                with gr.Group(visible=False, elem_id="feedback-box") as feedback_box:
                    correction = gr.Textbox(
                        label="What was wrong? The right answer, if you know it (optional)",
                        placeholder="e.g. Vladimir Medinsky — or: the articles do not say",
                        elem_id="correction",
                        max_lines=4,
                    )
                    with gr.Row():
                        send_fb = gr.Button("Send feedback", elem_id="send-feedback", size="sm")
                        close_fb = gr.Button("Close", elem_id="close-feedback", size="sm")
                feedback_status = gr.Markdown(elem_id="feedback-status")
                box = gr.Textbox(
                    placeholder="Ask a question about the articles and press Enter",
                    show_label=False,
                    elem_id="question",
                    max_lines=4,
                )
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("Clear chat", elem_id="clear")
                shown = examples(pipeline.settings.seeds_dir, articles)
                if shown:
                    gr.Examples(shown, inputs=box, label="Examples")
            with gr.Column(scale=2):
                picker = gr.Dropdown(label="Read a cited article", choices=[], value=None, elem_id="picker")
                article = gr.HTML(elem_id="article")
                with gr.Accordion("Search settings", open=False):
                    chosen = gr.CheckboxGroup(
                        _labels(articles), label="Only these articles (none ticked: all)", elem_id="articles"
                    )
                    with gr.Row():
                        date_from = gr.Dropdown(["any", *dates], value="any", label="From date")
                        date_to = gr.Dropdown(["any", *dates], value="any", label="To date")
                    k = gr.Slider(1, 10, value=pipeline.settings.top_k, step=1, label="Number of sources")
                with gr.Accordion("Articles in the index", open=False, elem_id="manage"):
                    table = gr.HTML(articles_html(articles, sentences), elem_id="article-list")
                    if manage:
                        upload = gr.File(
                            label="Add articles: .txt, .md, saved web pages (.html), .pdf, .docx, .eml, .mbox, "
                            f"feeds (.rss, .atom, .xml) or exports (.csv, .tsv, .jsonl); text up to "
                            f"{MAX_FILE_BYTES // 1_000_000} MB each, other files {MAX_DOCUMENT_BYTES // 1_000_000} MB, "
                            f"{pipeline.settings.upload_max_files} at a time",
                            file_count="multiple",
                            elem_id="upload",
                        )
                        upload_status = gr.HTML(elem_id="upload-status")
                        index_status = gr.HTML(elem_id="index-status")
                        # The whole column's width, so a headline and its date can be read, open or chosen.
                        doomed = gr.Dropdown(
                            _labels(articles), value=None, label="Article to remove", elem_id="remove-choice"
                        )
                        remove = gr.Button("Remove article…", variant="stop", elem_id="remove", size="sm")
                        with gr.Group(visible=False, elem_id="remove-confirm") as confirm_box:
                            confirm_text = gr.HTML(elem_id="remove-question")
                            with gr.Row():
                                confirmed = gr.Button(
                                    "Yes, delete the file", variant="stop", elem_id="remove-yes", size="sm"
                                )
                                kept = gr.Button("Cancel", elem_id="remove-no", size="sm")
                        awaiting = gr.State(None)
                        reindex = gr.Button("Re-index the seeds folder", elem_id="reindex", size="sm")
                    else:
                        gr.Markdown(MANAGE_OFF, elem_id="manage-off")

        def answer(*args: Any) -> Iterator[tuple[Any, ...]]:
            yield from respond(pipeline, *args)

        inputs = [box, chatbot, turns, chosen, date_from, date_to, k, records]
        outputs = [box, chatbot, turns, citations, picker, records]
        box.submit(answer, inputs, outputs, concurrency_limit=16, show_progress="hidden", api_name="ask")
        send.click(answer, inputs, outputs, concurrency_limit=16, show_progress="hidden", api_name="ask_button")
        # In the browser only, on every change of the chat: a step chained to the question's event would keep
        # that event pending, and Gradio ignores the next question asked while it is.
        chatbot.change(None, None, None, js=SHOW_LAST_QUESTION, api_visibility="private")
        clear.click(
            lambda: ([], [], [], gr.update(choices=[], value=None), "", {}, None, gr.Group(visible=False), ""),
            None,
            [chatbot, turns, citations, picker, article, records, pending, feedback_box, feedback_status],
        )
        picker.change(lambda cites, picked: show_article(pipeline, cites, picked), [citations, picker], article)

        def on_like(recs: dict[str, Any], data: gr.LikeData) -> tuple[Any, ...]:
            key, show, message = rate(pipeline, recs, data.index, data.liked)
            return key, gr.Group(visible=show), message

        chatbot.like(on_like, [records], [pending, feedback_box, feedback_status], api_visibility="private")
        send_fb.click(
            lambda recs, key, text: (*send_correction(pipeline, recs, key, text), None, gr.Group(visible=False)),
            [records, pending, correction],
            [correction, feedback_status, pending, feedback_box],
            api_visibility="private",
        )
        close_fb.click(lambda: (None, gr.Group(visible=False)), None, [pending, feedback_box], api_visibility="private")
        if manage:
            # Outside the accordion: a timer inside it is not started while it is closed, and a change the
            # folder watcher noticed must show with the accordion closed.
            timer = gr.Timer(1.0, active=False)
            upload.upload(panel.upload, upload, [upload_status, upload, timer], api_visibility="private")
            remove.click(
                panel.confirm_remove,
                doomed,
                [confirm_box, confirm_text, awaiting, upload_status],
                api_visibility="private",
            )
            confirmed.click(panel.remove, awaiting, [upload_status, timer], api_visibility="private").then(
                lambda: (gr.Group(visible=False), None), None, [confirm_box, awaiting], api_visibility="private"
            )
            kept.click(lambda: (gr.Group(visible=False), None), None, [confirm_box, awaiting], api_visibility="private")
            reindex.click(panel.reindex, None, timer, api_visibility="private")
            listed = [index_status, timer, heading, table, doomed, chosen, date_from, date_to, folder_status]
            timer.tick(panel.tick, chosen, listed, show_progress="hidden", api_visibility="private")
            app.load(panel.opened, chosen, listed, show_progress="hidden", api_visibility="private")
            if watcher is not None:
                seen = gr.State(0)
                watch_timer = gr.Timer(WATCH_POLL_SECONDS)
                watch_timer.tick(panel.noticed, seen, [seen, timer], show_progress="hidden", api_visibility="private")
                app.load(lambda: watcher.changes, None, seen, api_visibility="private")
    return app


def can_manage(host: str, share: bool, auth: bool) -> bool:
    """Articles may be added and removed only where a stranger cannot: loopback, or behind a login."""
    return auth or (not share and is_loopback(host))


def launch(
    pipeline: Pipeline,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    watch: bool = False,
    report: Callable[[str], None] = log.info,
    **kwargs: Any,
) -> Any:
    """Serve the chat; no share link and no analytics unless asked. With `watch`, the seeds folder
    is watched while the chat runs (`rag.watch`), each finished refresh told to `report`."""
    job = refresh_job(pipeline)
    with watching(pipeline, job, report, watch) as watcher:
        app = build_app(pipeline, can_manage(host, share, bool(kwargs.get("auth"))), job, watcher)
        app.queue(default_concurrency_limit=16)
        theme = gr.themes.Default(font=SYSTEM_FONT, font_mono=["ui-monospace", "monospace"])
        kwargs.setdefault("max_file_size", 10 * MAX_FILE_BYTES)  # bigger files are refused before they reach disk
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
