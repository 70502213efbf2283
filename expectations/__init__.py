"""Great Expectations for what the loader cannot see in one row of the raw data (the models are dbt's to check).

- catalog: the suites (raw ones generated from the contract by raw_suites, the rest JSON under
  suites/), their parameters and the SQL of the frame each validates;
- gx_batches: GX, batch by batch, on Arrow batches read from DuckDB;
- table_checks: the checks GX cannot make batch by batch, as DuckDB queries;
- results: what a validation returns;
- runner: validate a relation, and the entry points the pipeline calls.
"""
