"""The holdout statistics: worked examples by hand, interval coverage, SRM, sample size."""

from __future__ import annotations

import math
import random

import pytest

from bpract.triggers.lift import (
    NOT_YET_CONCLUSIVE,
    Arm,
    Estimate,
    absolute_difference,
    relative_lift,
    sample_size,
    srm_check,
    verdict,
    visitors_still_needed,
)

Z95 = 1.959964  # the normal quantile at 0.975
Z80 = 0.841621  # at 0.80


def test_relative_lift_worked_example() -> None:
    # pt = 120/1000 = 0.12, pc = 100/1000 = 0.10, lift = 0.12/0.10 - 1 = 0.20
    # Var = (0.12·0.88/1000)/0.10² + 0.12²·(0.10·0.90/1000)/0.10⁴
    #     = 0.0001056/0.01 + 0.0144·0.00009/0.0001 = 0.01056 + 0.01296 = 0.02352
    # half-width = 1.959964·√0.02352 = 1.959964·0.153362 = 0.300585
    lift = relative_lift(Arm(visitors=1000, converted=120), Arm(visitors=1000, converted=100))
    assert lift is not None
    assert lift.estimate == pytest.approx(0.20)
    assert (round(lift.low, 4), round(lift.high, 4)) == (-0.1006, 0.5006)
    assert lift.level == 0.95


def test_relative_lift_at_another_level() -> None:
    # at 90 %: z = 1.644854, half-width 1.644854·0.153362 = 0.252258
    lift = relative_lift(
        Arm(visitors=1000, converted=120), Arm(visitors=1000, converted=100), level=0.90
    )
    assert lift is not None
    assert (round(lift.low, 4), round(lift.high, 4)) == (-0.0523, 0.4523)


def test_absolute_difference_worked_example() -> None:
    # 0.12 - 0.10 = 0.02; Var = 0.12·0.88/1000 + 0.10·0.90/1000 = 0.0001956
    # half-width = 1.959964·0.0139857 = 0.0274115
    diff = absolute_difference(Arm(visitors=1000, converted=120), Arm(visitors=1000, converted=100))
    assert diff is not None
    assert diff.estimate == pytest.approx(0.02)
    assert (round(diff.low, 4), round(diff.high, 4)) == (-0.0074, 0.0474)


def test_unequal_arms_worked_example() -> None:
    # nt = 2000, xt = 240 (0.12); nc = 1000, xc = 100 (0.10)
    # lift: Var = (0.12·0.88/2000)/0.01 + 0.0144·(0.09/1000)/0.0001 = 0.00528 + 0.01296 = 0.01824
    #       half-width = 1.959964·0.135056 = 0.264705
    # difference: Var = 0.1056/2000 + 0.09/1000 = 0.0001428, half-width 1.959964·0.01195 = 0.023421
    treated, control = Arm(visitors=2000, converted=240), Arm(visitors=1000, converted=100)
    lift, diff = relative_lift(treated, control), absolute_difference(treated, control)
    assert lift is not None
    assert diff is not None
    assert (round(lift.low, 4), round(lift.high, 4)) == (-0.0647, 0.4647)
    assert (round(diff.low, 4), round(diff.high, 4)) == (-0.0034, 0.0434)


@pytest.mark.parametrize(
    ("treated", "control"),
    [((0, 0), (100, 10)), ((100, 10), (0, 0)), ((100, 10), (100, 0))],
)
def test_no_relative_lift_without_a_control_rate(
    treated: tuple[int, int], control: tuple[int, int]
) -> None:
    t = Arm(visitors=treated[0], converted=treated[1])
    c = Arm(visitors=control[0], converted=control[1])
    assert relative_lift(t, c) is None


def test_no_difference_for_an_empty_arm() -> None:
    assert absolute_difference(Arm(visitors=0, converted=0), Arm(visitors=5, converted=1)) is None
    assert absolute_difference(Arm(visitors=5, converted=1), Arm(visitors=0, converted=0)) is None
    same = absolute_difference(Arm(visitors=10, converted=0), Arm(visitors=10, converted=0))
    assert same == Estimate(estimate=0, low=0, high=0, level=0.95)


def test_the_interval_covers_the_true_lift_95_times_in_100() -> None:
    # true rates 0.10 (control) and 0.12 (treated): true lift 0.20; 20,000 visitors, 50/50
    rng = random.Random(0)  # 189 of 200 covered; 94.5 % over seeds 0..14
    draw = rng.random
    covered = 0
    for _ in range(200):
        xt = sum(draw() < 0.12 for _ in range(10_000))
        xc = sum(draw() < 0.10 for _ in range(10_000))
        lift = relative_lift(Arm(visitors=10_000, converted=xt), Arm(visitors=10_000, converted=xc))
        assert lift is not None
        covered += lift.low <= 0.20 <= lift.high
    assert 0.93 <= covered / 200 <= 0.97


def test_balanced_arms_are_no_mismatch() -> None:
    srm = srm_check(5000, 5000, 0.5)
    assert srm is not None
    assert (srm.chi_square, srm.p_value, srm.flagged) == (0, 1, False)


def test_a_4_percent_imbalance_on_10000_is_a_mismatch() -> None:
    # expected 5000/5000: χ² = 200²/5000 + 200²/5000 = 16, so √χ² = 4 standard deviations;
    # p = 2·(1 − Φ(4)) = 2·0.0000316712 = 0.0000633425
    srm = srm_check(5200, 4800, 0.5)
    assert srm is not None
    assert srm.chi_square == pytest.approx(16)
    assert srm.p_value == pytest.approx(0.0000633425, rel=1e-5)
    assert srm.flagged


def test_srm_p_value_at_the_published_critical_value() -> None:
    # the chi-square table (1 df): 10.828 at p = 0.001. Arms 10,000 with a 10 % share:
    # expected control 1,000; control 1,104 gives χ² = 104²/1000 + 104²/9000 = 12.0178
    srm = srm_check(8896, 1104, 0.10)
    assert srm is not None
    assert srm.chi_square == pytest.approx(10.816 + 1.2017778, rel=1e-6)
    assert srm.flagged
    assert math.erfc(math.sqrt(10.828 / 2)) == pytest.approx(0.001, abs=1e-6)
    # just under the critical value is not flagged: control 1,098 gives χ² = 10.6711
    near = srm_check(8902, 1098, 0.10)
    assert near is not None
    assert near.chi_square == pytest.approx(98**2 / 1000 + 98**2 / 9000)
    assert 0.001 < near.p_value < 0.0011
    assert not near.flagged


@pytest.mark.parametrize(("share", "treated", "control"), [(0, 10, 0), (1, 0, 10), (0.5, 0, 0)])
def test_no_srm_check_without_two_expected_arms(share: float, treated: int, control: int) -> None:
    assert srm_check(treated, control, share) is None


def test_sample_size_for_a_10_percent_lift_on_a_10_percent_baseline() -> None:
    # pc = 0.10, pt = 0.11, 50/50: (1.959964 + 0.841621)² = 7.848880
    # (0.10·0.90/0.5 + 0.11·0.89/0.5) / 0.01² = (0.18 + 0.1958)/0.0001 = 3758
    # N = 7.848880·3758 = 29,496.09 → 29,497 in total, about 14,749 per arm
    assert math.isclose((Z95 + Z80) ** 2 * 3758, 29_496.09, abs_tol=0.02)
    assert sample_size(0.10, 0.10, 0.5) == 29_497


def test_sample_size_with_a_small_holdout() -> None:
    # a 10 % holdout: (0.09/0.1 + 0.0979/0.9)/0.0001 = 10,087.78; × 7.848880 = 79,177.8
    assert sample_size(0.10, 0.10, 0.10) == 79_178
    assert sample_size(0.10, 0.10, 0.10, alpha=0.05, power=0.9) > 79_178


@pytest.mark.parametrize(
    ("baseline", "mde", "share"), [(0, 0.1, 0.5), (1, 0.1, 0.5), (0.6, 1, 0.5), (0.1, 0, 0.5),
                                   (0.1, 0.1, 0), (0.1, 0.1, 1)],
)  # fmt: skip
def test_no_sample_size_without_a_test(baseline: float, mde: float, share: float) -> None:
    assert sample_size(baseline, mde, share) is None


def test_visitors_still_needed() -> None:
    assert visitors_still_needed(29_497, 10_000, 9_000) == 10_497
    assert visitors_still_needed(29_497, 20_000, 10_000) == 0


def test_verdict_waits_for_the_sample_size() -> None:
    clear = Estimate(estimate=0.2, low=0.1, high=0.3, level=0.95)
    assert verdict(clear, None, 29_497, 29_496) == NOT_YET_CONCLUSIVE
    assert verdict(clear, None, None, 100_000) == NOT_YET_CONCLUSIVE
    assert verdict(clear, None, 29_497, 29_497) == "lift"
    harm = Estimate(estimate=-0.2, low=-0.3, high=-0.1, level=0.95)
    assert verdict(harm, None, 10, 10) == "harm"
    flat = Estimate(estimate=0.0, low=-0.1, high=0.1, level=0.95)
    assert verdict(flat, None, 10, 10) == "no detectable lift"
    mismatch = srm_check(5200, 4800, 0.5)
    assert verdict(clear, mismatch, 10, 10_000).startswith("sample ratio mismatch")
