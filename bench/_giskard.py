"""The public prompt-injection dataset (garak and PromptInject, via Giskard) read as Attacks.

``injection_prompts_data.csv`` holds the prompts; ``giskard_meta_data.csv``
holds, row for row, the evaluation of each: the substrings whose presence in
the model's output means the injection worked, and how to match them, as
Giskard's ``StringMatchingMethod`` reads them.  It is third-party data and is
not in this repository: by default it is read from
``../shared/data/prompt_injection`` beside the checkout.  Import it after
``tests/`` is on ``sys.path`` (the scoring is the tests' own: ``injection.attack``).
"""

from __future__ import annotations

import ast
import csv
from pathlib import Path

from _support import REPO
from injection.attack import Attack, Matcher

__all__ = ["DATA", "SOURCE", "MissingDataError", "load"]

DATA = REPO.parent / "shared" / "data" / "prompt_injection"
SOURCE = (
    "https://github.com/Giskard-AI/giskard, folder giskard/llm/injection_data/ "
    "(injection_prompts_data.csv and giskard_meta_data.csv; Apache-2.0, prompts from garak "
    "and PromptInject)"
)
_FILES = ("injection_prompts_data.csv", "giskard_meta_data.csv")


class MissingDataError(FileNotFoundError):
    """The dataset's files are not in the folder given."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        super().__init__(
            f"no prompt-injection dataset in {folder} (want {' and '.join(_FILES)}).\n"
            f"Get it from {SOURCE},\nthen pass its folder with --data PATH."
        )


def _flag(value: str) -> bool:
    if value not in ("True", "False"):
        raise ValueError(f"not a boolean: {value!r}")
    return value == "True"


def _matcher(row: dict[str, str]) -> Matcher:
    if row["evaluation_method_name"] != "StringMatchingMethod":
        raise ValueError(f"unknown evaluation method {row['evaluation_method_name']!r}")
    substrings = ast.literal_eval(row["substrings"])
    if not (isinstance(substrings, tuple) and all(isinstance(s, str) for s in substrings)):
        raise ValueError(f"substrings must be a tuple of strings: {row['substrings']!r}")
    return Matcher(
        substrings=substrings,
        all_must_match=_flag(row["all_substrings_must_be_found"]),
        exact=_flag(row["exact_matching"]),
        word=_flag(row["word_matching"]),
        case_sensitive=_flag(row["case_sensitive"]),
        punctuation_sensitive=_flag(row["punctuation_sensitive"]),
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load(folder: Path = DATA) -> list[Attack]:
    """Every prompt with its success criterion (the two files are aligned row by row)."""
    if not all((folder / name).is_file() for name in _FILES):
        raise MissingDataError(folder)
    prompts, meta = (_rows(folder / name) for name in _FILES)
    if len(prompts) != len(meta):
        raise ValueError(f"{len(prompts)} prompts but {len(meta)} evaluation rows")
    return [
        Attack(i, p["prompt"], p["name"], p["group"], p["source"], _matcher(m), p["language"])
        for i, (p, m) in enumerate(zip(prompts, meta, strict=True))
    ]
