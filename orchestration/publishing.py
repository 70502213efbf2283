from dagster import AssetExecutionContext, MaterializeResult, asset
from dagster_dbt import get_asset_key_for_model

from ccq.publish import publish
from orchestration.dbt_models import certified_kpis
from orchestration.resources import WarehouseResource


@asset(
    deps=[get_asset_key_for_model([certified_kpis], "kpi_values")],
    group_name="publish",
    kinds={"duckdb"},
    description="Read-only snapshot of the warehouse for the app, swapped in atomically after a fully successful run.",
)
def published_snapshot(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    path = publish(warehouse.paths)
    context.log.info(f"published {path}")
    return MaterializeResult(metadata={"snapshot": str(path), "bytes": path.stat().st_size})
