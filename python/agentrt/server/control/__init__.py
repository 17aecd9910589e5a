"""The control channel between the HTTP process and the scheduler: client, endpoint, ops."""
