"""Server-side context editing on the chat routes, and its lookahead over the in-process API."""
