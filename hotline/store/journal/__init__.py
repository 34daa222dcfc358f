"""The journal that keeps the flow's record writes while the database is away."""

from hotline.store.journal.deadletters import DeadLetter, DeadLetters
from hotline.store.journal.store import JournalingCallStore, dead_letters_path

__all__ = ["DeadLetter", "DeadLetters", "JournalingCallStore", "dead_letters_path"]
