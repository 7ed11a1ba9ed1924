"""The web view at /__mock/ui (see docs/web-view.md)."""
