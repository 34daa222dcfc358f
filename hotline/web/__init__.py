"""The web side: console pages, JSON API, health and metrics."""
