"""Client-side helpers: an OpenAI-compatible streaming chat client and a managed server process."""
