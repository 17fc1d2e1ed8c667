"""The real samples in ../shared/data written back as the raw Amazon dumps users download.

- `amazon2023_office_users/office_users.jsonl` (30 real 2023 users, grouped per user) ->
  a 2023 review file (`user_id, parent_asin, rating, title, text, timestamp`), gzipped,
  and a 2023 meta file (`parent_asin, title, main_category, price, store`) from the
  reviews' `product` objects.
- `amazon_fashion_5core/AMAZON_FASHION_5.json` is a raw 2018 review file already (no
  meta file exists for it): used as it is.
- `amazon_office_5core/` (2014 Office 5-core interactions with integer ids, and the item
  texts) -> a 2014 review file (`reviewerID, asin, unixReviewTime`; the sample has no
  ratings or review text) and a 2014 meta file (`asin, title` from `Office.text`).
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

TASKS = {"user_summary", "user_profile", "purchase_reason", "endorsement"}  # what a build's file offers


def _write_lines(path: Path, rows) -> Path:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def amazon2023_office(shared: Path, folder: Path) -> tuple[Path, Path]:
    reviews, meta = [], {}
    for line in (shared / "amazon2023_office_users" / "office_users.jsonl").read_text(encoding="utf-8").splitlines():
        user = json.loads(line)
        for r in [*user["history"], user["heldout"]]:
            reviews.append({"rating": r["rating"], "title": r["review_title"], "text": r["review_full"],
                            "asin": r["parent_asin"], "parent_asin": r["parent_asin"], "user_id": user["user_id"],
                            "timestamp": r["timestamp_ms"], "verified_purchase": True})
            p = r["product"]
            meta.setdefault(r["parent_asin"], {"main_category": p["main_category"], "title": p["title"],
                                               "categories": [], "price": p["price"], "store": p["brand"],
                                               "parent_asin": r["parent_asin"]})
    return (_write_lines(folder / "Office_Products.jsonl.gz", reviews),
            _write_lines(folder / "meta_Office_Products.jsonl", meta.values()))


def fashion_2018(shared: Path) -> Path:
    return shared / "amazon_fashion_5core" / "AMAZON_FASHION_5.json"


def office_5core_2014(shared: Path, folder: Path) -> tuple[Path, Path]:
    base = shared / "amazon_office_5core"
    asin_of = {}
    for line in (base / "Office.item2index").read_text(encoding="utf-8").splitlines():
        asin, _, index = line.partition("\t")
        if index.strip().isdigit():
            asin_of[int(index)] = asin.strip()
    reviews = []
    for name in ("train.csv", "dev.csv", "test.csv"):
        with open(base / name, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                reviews.append({"reviewerID": f"office5core-{row['user_id']}", "asin": asin_of[int(row["item_id"])],
                                "unixReviewTime": int(row["time"])})
    meta = []
    with open(base / "Office.text", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            meta.append({"asin": row["id"], "title": row["text"]})
    return _write_lines(folder / "reviews_Office_Products_5.json", reviews), _write_lines(folder / "meta_Office_Products.json", meta)


def sample_inputs(name: str, shared: Path, folder: Path) -> list:
    """The `data build` input options of a sample (files written to `folder` where needed)."""
    if name == "amazon2023_office":
        reviews, meta = amazon2023_office(shared, folder)
        # 30 users of 5 reviews each, no item reviewed twice: an item k-core would keep no one.
        return ["--reviews", reviews, "--meta", meta, "--item-min-interactions", "1"]
    if name == "fashion_2018":
        return ["--reviews", fashion_2018(shared), "--users", "12", "--category", "AMAZON_FASHION"]
    reviews, meta = office_5core_2014(shared, folder)
    return ["--reviews", reviews, "--meta", meta, "--users", "12"]
