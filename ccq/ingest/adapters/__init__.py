"""Adapters from the formats real systems write to the raw contract.

An adapter reads source files (streaming, in DuckDB), writes contract CSV extracts into the
landing folder (`<table>/<table>_<YYYY-MM-DD>.csv`, one per UTC day), and accounts for every
source line: mapped into the contract, or quarantined with the reason (audit.quarantine, with
the source file and line). Each source file reconciles in audit.load_files under the table
name `source:<format>`: rows read = rows mapped + rows quarantined. The landing files then
load like any other extract.
"""
from ccq.ingest.adapters.base import AdapterResult, SourceFile
from ccq.ingest.adapters.registry import ADAPTERS, FORMATS, run_adapter

__all__ = ["ADAPTERS", "FORMATS", "AdapterResult", "SourceFile", "run_adapter"]
