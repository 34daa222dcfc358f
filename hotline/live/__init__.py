"""Live updates: what happens on calls, as it happens, for the console (desk, wallboard)."""
