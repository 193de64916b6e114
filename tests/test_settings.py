"""Settings: defaults, environment, and bad values that fail with a fix."""

from __future__ import annotations

import pytest

from rag.errors import SettingsError
from rag.settings import PLACEHOLDER_API_KEY, load_settings


def test_defaults_are_offline_and_local():
    s = load_settings(_env_file=None)
    assert str(s.seeds_dir) == "seeds" and str(s.index_dir) == "index"
    assert s.top_k == 5 and s.max_question_chars == 2000
    assert not s.server_mode and not s.llm_enabled


def test_llm_turns_on_with_a_key_or_a_base_url(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    s = load_settings(_env_file=None)
    assert s.llm_enabled and s.api_key() == PLACEHOLDER_API_KEY
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    s = load_settings(_env_file=None)
    assert s.llm_enabled and s.api_key() == "sk-test-123"
    assert "sk-test-123" not in repr(s) and "sk-test-123" not in str(s.model_dump())
    monkeypatch.setenv("RAG_LLM", "off")
    assert not load_settings(_env_file=None).llm_enabled


def test_blank_values_mean_unset(monkeypatch):
    monkeypatch.setenv("RAG_CHROMA_HOST", "")
    monkeypatch.setenv("OPENAI_API_KEY", " ")
    s = load_settings(_env_file=None)
    assert not s.server_mode and not s.llm_enabled


@pytest.mark.parametrize(
    ("name", "value", "mentions"),
    [
        ("RAG_TOP_K", "0", "RAG_TOP_K"),
        ("RAG_CHROMA_PORT", "99999", "RAG_CHROMA_PORT"),
        ("RAG_LLM_TIMEOUT", "-1", "RAG_LLM_TIMEOUT"),
        ("OPENAI_BASE_URL", "localhost:8080", "http://"),
        ("RAG_EMBEDDING", "word2vec", "RAG_EMBEDDING"),
        ("RAG_FOLD_DUPLICATES", "yes", "RAG_FOLD_DUPLICATES: Input should be 'on' or 'off'"),
        ("OPENAI_BASE_URL", "http://[::1/v1", "not a usable URL"),
        ("OPENAI_BASE_URL", "http://", "names no host"),
        ("RAG_INDEX_DIR", "", "RAG_INDEX_DIR: Value error, is empty"),
        ("RAG_SEEDS_DIR", " ", "RAG_SEEDS_DIR: Value error, is empty"),
        ("RAG_FEEDBACK_PATH", "/tmp", "is a folder; name a file"),
        ("RAG_LLM", "on", "RAG_LLM=on needs OPENAI_API_KEY or OPENAI_BASE_URL"),
    ],
)
def test_bad_values_fail_with_the_variable_and_a_fix(monkeypatch, name, value, mentions):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=r"Fix it in the environment or \.env") as info:
        load_settings(_env_file=None)
    assert mentions in str(info.value)


def test_an_env_file_that_is_not_utf8_is_one_clear_error(tmp_path, monkeypatch):
    (tmp_path / ".env").write_bytes(b"\xff\xfeRAG_TOP_K=3\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="not UTF-8 text"):
        load_settings()


def test_env_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("RAG_TOP_K=7\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings().top_k == 7
