"""Everything that runs inside SGLang's processes, by concern: launch/ (start-up; launch/plugin.py
is the plugin entry point and the only module touching SGLang seams), scheduling/, control/,
http/, editing/, metrics/."""
