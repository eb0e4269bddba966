"""How often ordinary questions are taken for a request for a person, on public data.

Every StackFAQ query (web-app questions: "following someone on Twitter") and every
BANKING77 customer message is run through the offline recogniser
(``bpract.chat.phrases.asks_for_human``); none of them asks for a person, so each hit
is a false handoff. The requests it must catch are the tests' own
(tests/chat/test_units.py). Budget: at most 0.5 % of ordinary questions.

    uv run python bench/handoff_words.py [--data ../shared/data]

The data: StackFAQ from https://github.com/ML-Recipes/BERT-FAQ (MIT), BANKING77 from
https://github.com/PolyAI-LDN/task-specific-datasets (CC BY 4.0), each folder as
``../shared/data`` holds it (``stackfaq/queries_dev.jsonl``, ``banking77/{train,test}.csv``).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from _support import Row, machine, print_table
from bpract.chat.phrases import asks_for_human

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BUDGET = 0.005


def questions(data: Path) -> dict[str, list[str]]:
    stackfaq = data / "stackfaq" / "queries_dev.jsonl"
    banking = [data / "banking77" / name for name in ("train.csv", "test.csv")]
    with stackfaq.open(encoding="utf-8") as f:
        faq = [json.loads(line)["query"] for line in f if line.strip()]
    bank: list[str] = []
    for path in banking:
        with path.open(encoding="utf-8", newline="") as f:
            bank += [row["text"] for row in csv.DictReader(f)]
    return {"StackFAQ queries": faq, "BANKING77 messages": bank}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    print(json.dumps(machine()))
    rows: list[Row] = []
    examples: list[str] = []
    for name, texts in questions(args.data).items():
        hits = [t for t in texts if asks_for_human(t)]
        rate = len(hits) / len(texts)
        rows.append(Row(f"{name}: false handoffs", f"{len(hits)} of {len(texts)} ({rate:.2%})",
                        f"≤ {BUDGET:.1%}", rate <= BUDGET))  # fmt: skip
        examples += hits[:5]
    print_table("ordinary questions taken for a request for a person", rows)
    for text in examples:
        print(f"  hit: {text}")


if __name__ == "__main__":
    main()
