"""Live monitoring of calls by supervisors: listen, whisper, barge (issue 19)."""
