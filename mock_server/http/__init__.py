"""The public API's edge: routes, authentication, problem+json, bodies."""
