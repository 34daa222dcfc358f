"""The standard phrasebook (004 篇10, 003 telephone etiquette): loading and validation."""
