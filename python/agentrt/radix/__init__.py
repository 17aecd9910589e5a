"""The patched RadixAttention tree: original and transformed context branches (issue 3/8)."""
