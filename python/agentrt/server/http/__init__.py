"""The HTTP process's side: routes, request validation and guard, errors, the radix web view."""
