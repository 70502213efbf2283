"""Great Expectations for what the loader cannot see in one row of the raw data (the models are dbt's to check).

- catalog: the suites (raw ones generated from the contract by raw_suites, the rest JSON under
  suites/), their parameters and the SQL of the frame each validates;
- gx_batches: GX, batch by batch, on Arrow batches read from DuckDB;
- frames: what DuckDB prepares for GX to judge beyond the partition's rows (key copies in the
  whole table, column types, volume against the norm);
- results: what a validation returns;
- runner: validate a relation, and the entry points the pipeline calls.
"""
