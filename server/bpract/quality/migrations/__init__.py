"""SQL migrations of the ``quality`` feature (review samples and verdicts)."""
