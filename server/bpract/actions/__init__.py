"""Actions: calls into the business's own systems, run only after the visitor confirms."""
