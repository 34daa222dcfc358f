"""hotline: a citizen-service hotline (12345/114 style) on Asterisk ARI."""

__version__ = "0.1.0"
