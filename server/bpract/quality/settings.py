"""Settings of answer quality: how answers are scored for grounding."""

from __future__ import annotations

from dataclasses import dataclass

from bpract.settings import env

__all__ = ["MODES", "QualitySettings"]

MODES = ("auto", "judge", "offline", "overlap", "off")


@dataclass(frozen=True, slots=True, kw_only=True)
class QualitySettings:
    grounding: str = env("BPRACT_GROUNDING", "auto")
    """``judge`` (the ``judge`` task of the site's policy when it names a real model, else
    offline), ``auto`` (``judge`` when a policy folder configures the models, else
    ``offline``: keys alone do not turn on a second paid call per answer), ``offline``
    (word overlap and the knowledge base's embedder), ``overlap`` (word overlap only), ``off``."""

    grounding_interval: float = env("BPRACT_GROUNDING_INTERVAL", 5.0)
    """Seconds between passes of the grounding scorer."""

    def mode(self, policy_dir: str) -> str:
        """The grounding mode, ``auto`` resolved against the LLM policy folder."""
        if self.grounding not in MODES:
            choices = ", ".join(MODES)
            raise ValueError(f"BPRACT_GROUNDING must be one of {choices}, not {self.grounding!r}")
        if self.grounding == "auto":
            return "judge" if policy_dir else "offline"
        return self.grounding
