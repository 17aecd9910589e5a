"""The demo agent run by `make demo`: a repository reviewer with real local tools."""
