"""Downlinks, their statuses and lifecycle, SenML, time formats: no HTTP."""
