"""The reference platform agent: a small service implementing docs/platform-contract.md."""
