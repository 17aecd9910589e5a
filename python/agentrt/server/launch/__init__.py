"""Start-up: the launcher, CPU defaults, SGLang argv helpers, the plugin entry point, records."""
