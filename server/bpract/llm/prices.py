"""Versioned model prices and exact call costs in nano-dollars."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from bpract.llm.types import Usage

__all__ = ["NANO_PER_USD", "Price", "PriceTable", "usd"]

#: Costs are whole nano-dollars (1e-9 USD), so sums stay exact.
NANO_PER_USD = 1_000_000_000
_NANO_PER_TOKEN_AT_ONE_USD_PER_M = Decimal(1000)  # $1 per million tokens = 1000 nano$ a token


class Price(msgspec.Struct, frozen=True, kw_only=True):
    """Dollars per million tokens for each kind of token; ``set`` is the date it was set."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    set: str = ""
    known: bool = True
    """False for a model missing from the table (priced at zero, and flagged in the ledger)."""

    def cost(self, usage: Usage) -> int:
        """The cost of ``usage`` in nano-dollars, rounded up to the next nano-dollar."""
        dollars_per_m = (
            usage.input * self.input
            + usage.output * self.output
            + usage.cache_read * self.cache_read
            + usage.cache_write * self.cache_write
        )
        return math.ceil(dollars_per_m * _NANO_PER_TOKEN_AT_ONE_USD_PER_M)

    def cache_saving(self, usage: Usage) -> int:
        """Nano-dollars prompt caching saved against paying full input price for those tokens."""
        full = (usage.cache_read + usage.cache_write) * self.input
        paid = usage.cache_read * self.cache_read + usage.cache_write * self.cache_write
        return math.floor((full - paid) * _NANO_PER_TOKEN_AT_ONE_USD_PER_M)


_UNKNOWN = Price(
    input=Decimal(0), output=Decimal(0), cache_read=Decimal(0), cache_write=Decimal(0), known=False
)


class PriceTable:
    """Prices by model, looked up as ``provider:model`` first, then ``model``."""

    def __init__(self, version: str, models: Mapping[str, Price]) -> None:
        self.version = version
        self.models = dict(models)

    @classmethod
    def load(cls, overrides: Path | Mapping[str, Any] | None = None) -> PriceTable:
        """The bundled table, with ``overrides`` (a TOML file or a parsed mapping) on top."""
        text = resources.files("bpract.llm").joinpath("prices.toml").read_text(encoding="utf-8")
        table = cls._parse(tomllib.loads(text))
        if overrides is None:
            return table
        raw = (
            tomllib.loads(overrides.read_text("utf-8"))
            if isinstance(overrides, Path)
            else overrides
        )
        extra = cls._parse({"version": table.version, **raw})
        return cls(extra.version, table.models | extra.models)

    @staticmethod
    def _parse(raw: Mapping[str, Any]) -> PriceTable:
        models = {
            name: msgspec.convert(
                {k: (str(v) if k != "set" else v) for k, v in entry.items()}, Price, strict=False
            )
            for name, entry in raw.get("models", {}).items()
        }
        return PriceTable(str(raw.get("version", "")), models)

    def price(self, provider: str, model: str) -> Price:
        """The price of ``model`` on ``provider``; an unknown model costs zero, flagged."""
        return self.models.get(f"{provider}:{model}") or self.models.get(model) or _UNKNOWN


def usd(nano: int) -> float:
    """Nano-dollars as dollars, for display."""
    return nano / NANO_PER_USD
