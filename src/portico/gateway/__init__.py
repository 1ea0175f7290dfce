"""The data plane: HTTP requests in, function invocations, HTTP responses out (pure ASGI)."""
