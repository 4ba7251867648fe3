"""Formula discovery: `discover` and its `Result` (`search`), Pareto selection (`pareto`) and the
routes (`routes`: one module per route, tried in one ordered list)."""
