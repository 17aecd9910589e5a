"""Everything that runs inside SGLang's processes. `plugin.py` is the only module touching SGLang seams."""
