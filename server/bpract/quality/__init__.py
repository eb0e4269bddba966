"""Answer quality: grounding scores, the weekly review sample, verdicts, ratings."""

from __future__ import annotations

from bpract.quality.grounding import Grounder, Grounding, OfflineGrounder, score
from bpract.quality.judge import JudgeGrounder, JudgeVerdict
from bpract.quality.ratings import record_rating
from bpract.quality.report import WeekFigures, week_figures
from bpract.quality.review import ReviewItem, review_items, sample_week, set_verdict
from bpract.quality.scorer import GroundingScorer

__all__ = [
    "Grounder",
    "Grounding",
    "GroundingScorer",
    "JudgeGrounder",
    "JudgeVerdict",
    "OfflineGrounder",
    "ReviewItem",
    "WeekFigures",
    "record_rating",
    "review_items",
    "sample_week",
    "score",
    "set_verdict",
    "week_figures",
]
