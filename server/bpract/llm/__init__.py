"""One door for every model call: providers, routing, prices, usage ledger, budgets."""
