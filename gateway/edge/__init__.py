"""The HTTP edge: request context, authentication, body guard, problem details."""
