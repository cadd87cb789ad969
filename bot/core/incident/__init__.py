"""The incident: its messages (model.py), loaded from a file or stdin (load.py), read into rows and sections (structure/)."""
