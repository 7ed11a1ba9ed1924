"""A contract-test toolkit for any implementation of the Things Downlinks API."""
