"""Loading raw extracts into the warehouse's raw schema, with quarantine and reconciliation."""
from ccq.ingest.loader import FileLoad, LoadError, load_file, load_files, load_landing, ensure_warehouse

__all__ = ["FileLoad", "LoadError", "load_file", "load_files", "load_landing", "ensure_warehouse"]
