"""The OpenAPI documents as data, and JSON Schema validation driven by them."""
