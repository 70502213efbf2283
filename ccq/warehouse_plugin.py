"""dbt-duckdb plugin (declared under `plugins:` in dbt_project/profiles.yml): dbt's connection to
the warehouse of the working folder.

1. **Which file, and its memory budget.** The profile names a placeholder path, `ccq.duckdb`,
   the same for every working folder: dbt parses the whole project again (10 s) whenever the
   profile's connection differs from the one its saved parse state was made with, and the path
   and settings are part of it. The file is chosen here, when dbt connects: CCQ_DUCKDB_PATH (a
   copy, in tests), else `<CCQ_HOME>/warehouse/ccq.duckdb` (ccq.settings), with the one memory
   budget of every writer (ccq.settings.MEMORY_LIMIT).
2. **The personal-data key**, for the `hash_pii` macro. It reads the key once per dbt process
   (ccq.pii.load_key: CCQ_PII_KEY, else $CCQ_HOME/secrets/pii.key, generated on first use) and
   sets two session variables on the connection and on each of its cursors (DuckDB variables
   belong to one connection; dbt runs every statement on a cursor): HMAC-SHA-256's inner and
   outer padded keys, as BLOBs bound as parameters. The SQL stays plain and vectorised,
   sha256(opad || unhex(sha256(ipad || value))), and the key never appears in SQL text, so not
   in compiled SQL, target/, logs/, run_results or Dagster's logs.

   When the key cannot be had, the variables stay unset and a third one carries the reason: the
   macro raises it (error()) as soon as a value is to be hashed, rather than publish nulls or an
   unkeyed hash. Commands that hash nothing (MetricFlow on the marts, docs) still work.
3. **Python functions the SQL calls**: `ccq_required_agents`, staffing by Erlang C and A
   (ccq.staffing.erlang), the same code ccq.spark registers in the Spark session.
"""
from __future__ import annotations

from typing import Any, Dict

import duckdb
import pyarrow as pa

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError

from ccq.pii import ERROR_VARIABLE, IPAD_VARIABLE, OPAD_VARIABLE, PiiKeyError, hmac_pads, load_key
from ccq.settings import MEMORY_LIMIT, dbt_warehouse


class Plugin(BasePlugin):
    def initialize(self, plugin_config: Dict[str, Any]) -> None:
        self._pads: tuple[bytes, bytes] | None = None
        self._error = ""
        try:
            self._pads = hmac_pads(load_key())
        except PiiKeyError as e:
            self._error = f"hash_pii: {e}"

    def update_connection_config(self, creds, config: Dict[str, Any]) -> None:
        # Called just before dbt-duckdb opens creds.path, on every new connection.
        path = dbt_warehouse()
        if path.stem != creds.database:
            # DuckDB names the catalog after the file, and dbt names every relation with the
            # catalog it took from the profile's placeholder.
            raise DbtRuntimeError(f"CCQ_DUCKDB_PATH={path}: the warehouse file must be named "
                                  f"{creds.database}.duckdb (dbt's catalog is {creds.database!r})")
        creds.path = str(path)
        config["memory_limit"] = MEMORY_LIMIT

    def _install(self, con) -> None:
        if self._pads is None:
            con.execute(f"SET VARIABLE {ERROR_VARIABLE} = ?", [self._error])
            return
        ipad, opad = self._pads
        con.execute(f"SET VARIABLE {IPAD_VARIABLE} = ?", [ipad])
        con.execute(f"SET VARIABLE {OPAD_VARIABLE} = ?", [opad])

    def configure_connection(self, conn) -> None:
        self._install(conn)
        conn.create_function("ccq_required_agents", _required_agents,
                             [duckdb.sqltype("VARCHAR")] + [duckdb.sqltype("DOUBLE")] * 7,
                             duckdb.sqltype("BIGINT"), type="arrow", null_handling="special")

    def configure_cursor(self, cursor) -> None:
        self._install(cursor)


def _required_agents(model: pa.Array, calls: pa.Array, aht: pa.Array, interval: pa.Array, threshold: pa.Array,
                     target: pa.Array, cap: pa.Array, patience: pa.Array) -> pa.Array:
    # Imported when the staffing model runs, not when dbt starts: scipy costs 0.2 to 0.4 s, paid
    # otherwise by every dbt invocation of every refresh.
    from ccq.staffing.erlang import required_agents_of_columns

    required = required_agents_of_columns(model, calls, aht, interval, threshold, target, cap, patience)
    return pa.array(required, type=pa.float64(), from_pandas=True).cast(pa.int64())
