"""The agent-side programming model: lookahead strategies and their runtime (issue 4/8)."""
