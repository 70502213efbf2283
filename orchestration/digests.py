from dagster import AssetExecutionContext, MaterializeResult, asset

from ccq import digest
from orchestration.publishing import published_snapshot
from orchestration.resources import WarehouseResource


@asset(
    deps=[published_snapshot],
    group_name="publish",
    kinds={"html", "email"},
    description="Each owner role's digest of what needs its action on the last complete day (missed and at-risk "
                "KPIs, control-chart signals, first actions, links to the app), from the published snapshot: HTML "
                "under reports/digests/, and sent by SMTP when CCQ_SMTP_HOST is set.",
)
def owner_digests(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    paths = warehouse.paths
    digests = digest.build(paths, digest.app_url())
    written = digest.write(digests, paths)
    smtp = digest.SmtpSettings.from_env()
    sent, error = 0, ""
    if smtp is not None:
        # The numbers are published already: a mail server that is down is reported, not a failed refresh.
        try:
            sent = digest.send(digests, smtp)
        except (OSError, digest.smtplib.SMTPException) as exc:
            error = f"sending to {smtp.host}:{smtp.port} failed: {exc}"
            context.log.error(error)
    folder = str(written[0].parent) if written else str(paths.reports / "digests")
    return MaterializeResult(metadata={
        "digests": len(written), "digests_sent": sent, "digest_folder": folder,
        "smtp": f"{smtp.host}:{smtp.port}" if smtp else "", "digest_error": error,
    })
