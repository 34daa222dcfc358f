"""Handling units (承办单位) and the dispatch catalogue (派单目录)."""
