"""Record and replay request sequences against any implementation of the API."""
