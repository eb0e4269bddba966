"""The statistics of a rule's holdout test: lift with its interval, sample ratio, sample size.

Two arms of visitors: treated (the rule may reach them) and control (held out).
With ``nt``, ``xt`` the treated visitors and conversions, ``pt = xt / nt`` (and
``nc``, ``xc``, ``pc`` for control), ``q = 1 − p`` and ``z`` the two-sided
normal quantile of the level (1.96 at 95 %):

- relative lift ``pt / pc − 1``, delta-method variance (GrowthBook's formula)
  ``Var ≈ (pt·qt / nt) / pc² + pt² · (pc·qc / nc) / pc⁴``, interval ``lift ± z·√Var``;
- absolute difference ``pt − pc``, Wald interval with unpooled variance
  ``pt·qt / nt + pc·qc / nc``;
- sample ratio mismatch: Pearson's chi-square of the arm sizes against the
  expected control share ``s`` (1 degree of freedom), ``p = erfc(√(χ² / 2))``,
  flagged below ``SRM_ALPHA``;
- fixed-horizon sample size for a two-sided test at ``alpha`` with ``power``,
  ``pt = pc·(1 + mde)``: ``N = (z₁₋α/₂ + z_power)² · (pc·qc / s + pt·qt / (1 − s)) / (pt − pc)²``
  visitors in total.

Peeking: the test is fixed-horizon. Its interval is valid once the planned
sample size is reached; looked at earlier and repeatedly, a 95 % interval
excludes zero far more often than 5 % of the time under no effect. So before
the sample size is reached the verdict is "not yet conclusive", whatever the
interval says.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import msgspec

__all__ = [
    "NOT_YET_CONCLUSIVE",
    "SRM_ALPHA",
    "Arm",
    "Estimate",
    "SrmCheck",
    "absolute_difference",
    "relative_lift",
    "sample_size",
    "srm_check",
    "verdict",
    "visitors_still_needed",
]

SRM_ALPHA = 0.001
"""A sample ratio mismatch is flagged below this p-value."""

NOT_YET_CONCLUSIVE = "not yet conclusive"

_NORMAL = NormalDist()


class Arm(msgspec.Struct, frozen=True, kw_only=True):
    """One arm of the test: visitors assigned to it, and how many of them converted."""

    visitors: int
    converted: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.visitors if self.visitors else None


class Estimate(msgspec.Struct, frozen=True, kw_only=True):
    """A point estimate and its two-sided confidence interval at ``level``."""

    estimate: float
    low: float
    high: float
    level: float


class SrmCheck(msgspec.Struct, frozen=True, kw_only=True):
    """Are the arm sizes what the holdout share predicts?"""

    expected_control_share: float
    chi_square: float
    p_value: float
    flagged: bool
    """``p_value < SRM_ALPHA``: assignment or counting is broken; do not trust the lift."""


def _z(level: float) -> float:
    """The two-sided normal quantile: 1.96 for 0.95."""
    return _NORMAL.inv_cdf(0.5 + level / 2)


def _around(estimate: float, variance: float, level: float) -> Estimate:
    half = _z(level) * math.sqrt(variance)
    return Estimate(estimate=estimate, low=estimate - half, high=estimate + half, level=level)


def relative_lift(treated: Arm, control: Arm, level: float = 0.95) -> Estimate | None:
    """``pt / pc − 1`` with its delta-method interval; None for an empty arm or ``pc == 0``."""
    pt, pc = treated.rate, control.rate
    if pt is None or not pc:
        return None
    variance = (pt * (1 - pt) / treated.visitors) / pc**2 + pt**2 * (
        pc * (1 - pc) / control.visitors
    ) / pc**4
    return _around(pt / pc - 1, variance, level)


def absolute_difference(treated: Arm, control: Arm, level: float = 0.95) -> Estimate | None:
    """``pt − pc`` with its Wald interval (unpooled variance); None for an empty arm."""
    pt, pc = treated.rate, control.rate
    if pt is None or pc is None:
        return None
    variance = pt * (1 - pt) / treated.visitors + pc * (1 - pc) / control.visitors
    return _around(pt - pc, variance, level)


def srm_check(treated_n: int, control_n: int, expected_control_share: float) -> SrmCheck | None:
    """Chi-square of the arm sizes (1 df); None without visitors or with a share of 0 or 1."""
    total = treated_n + control_n
    if total == 0 or not 0 < expected_control_share < 1:
        return None
    expected_c = total * expected_control_share
    expected_t = total - expected_c
    chi_square = (treated_n - expected_t) ** 2 / expected_t + (
        control_n - expected_c
    ) ** 2 / expected_c
    p_value = math.erfc(math.sqrt(chi_square / 2))
    return SrmCheck(
        expected_control_share=expected_control_share,
        chi_square=chi_square,
        p_value=p_value,
        flagged=p_value < SRM_ALPHA,
    )


def sample_size(
    baseline_rate: float,
    relative_mde: float,
    control_share: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int | None:
    """Visitors in total (both arms) to detect a relative lift of ``relative_mde``.

    None when no such test exists: a baseline of 0 or 1, a target rate above 1,
    no lift to detect, or a control share of 0 or 1."""
    treated_rate = baseline_rate * (1 + relative_mde)
    if not (0 < baseline_rate < 1 and 0 < treated_rate < 1 and relative_mde != 0):
        return None
    if not 0 < control_share < 1:
        return None
    z = _NORMAL.inv_cdf(1 - alpha / 2) + _NORMAL.inv_cdf(power)
    spread = baseline_rate * (1 - baseline_rate) / control_share + treated_rate * (
        1 - treated_rate
    ) / (1 - control_share)
    return math.ceil(z**2 * spread / (treated_rate - baseline_rate) ** 2)


def visitors_still_needed(needed: int, treated_n: int, control_n: int) -> int:
    """How many more visitors (both arms) before the planned sample size is reached."""
    return max(0, needed - treated_n - control_n)


def verdict(lift: Estimate | None, srm: SrmCheck | None, needed: int | None, visitors: int) -> str:
    """One phrase for the report; the interval is read only at the planned sample size."""
    if srm is not None and srm.flagged:
        return "sample ratio mismatch: do not trust the lift"
    if needed is None or visitors < needed or lift is None:
        return NOT_YET_CONCLUSIVE
    if lift.low > 0:
        return "lift"
    if lift.high < 0:
        return "harm"
    return "no detectable lift"
