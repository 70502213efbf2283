"""ccq: the call-centre quality warehouse from the command line (click).

    ccq demo      generate the demo centre, load, validate, build, certify, publish, open the app
    ccq refresh   load what is in the landing folder and rebuild
    ccq backfill  reload a range of extract days and rebuild
    ccq status    last runs, what is certified up to when, what is waiting, what failed and why
    ccq ingest    bring in files a real system wrote (Asterisk, Amazon Connect, FreeSWITCH, Anonymous Bank)
    ccq app       start the Streamlit app on the published snapshot
    ccq dagster   start Dagster's UI (dagster dev) on the same working data
    ccq kpis      print KPI values with their certified flag
    ccq configure the seed rows for queues and sites the data names but the seeds do not
    ccq generate  write demo extracts into the landing folder only
    ccq contract  the raw contract as a readable page

Where the working data lives: --home, else $CCQ_HOME, else .ccq/ in the project. What dbt builds the
warehouse on: --engine, else $CCQ_ENGINE, else the embedded DuckDB (spark: docs/scale-out.md).

This module parses and checks the options; orchestration/commands.py does the work. A bad option
or argument is one line naming it and what is allowed, exit code 2; an error inside a command is
one line `ccq <command>: <message>`, exit code 1; never a traceback or a usage block.
"""
from __future__ import annotations

import functools
import os
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import click

from ccq.settings import ENGINES, spark_dbt_executable
from orchestration import commands
from orchestration.commands import UsageError


def _fail(value: str, what: str) -> ValueError:
    return ValueError(f"{value!r} {what}")


@functools.cache
def _time_zones() -> dict[str, str]:
    """lower-case name -> name of the zones both DuckDB (which converts the local times) and the
    IANA database know; DuckDB's list also has ambiguous abbreviations (IST, BST) that are not."""
    import zoneinfo

    import duckdb

    with duckdb.connect() as con:
        names = {r[0] for r in con.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    iana = zoneinfo.available_timezones()
    return {n.lower(): n for n in (names & iana if iana else names)}


def time_zone(value: str) -> str:
    name = None
    if ".." not in value and not any(c in value for c in "'\"\\") and not value.startswith("/"):
        name = _time_zones().get(value.lower())
    if name is None:
        raise _fail(value, "is not an IANA time zone name (e.g. Europe/London, Asia/Shanghai, UTC)")
    return name


def encoding(value: str) -> str:
    import codecs

    try:
        ok = getattr(codecs.lookup(value), "_is_text_encoding", True)
    except LookupError:
        ok = False
    if not ok:
        raise _fail(value, "is not a text encoding Python knows (e.g. utf-8, gb18030, latin-1)")
    return value


def day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise _fail(value, "is not a date (YYYY-MM-DD)") from None


def positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise _fail(value, "is not a whole number of 1 or more")
    return n


def port(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= 65535:
        raise _fail(value, "is not a port number (1 to 65535)")
    return n


def existing(value: str) -> str:
    if not Path(value).exists():
        raise _fail(value, "does not exist (give the files or folders to read)")
    return value


class _Checked(click.ParamType):
    """An option value checked by one of the functions above; its ValueError is click's message."""

    def __init__(self, check):
        self.check, self.name = check, check.__name__.replace("_", " ")

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return self.check(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


TIME_ZONE, ENCODING, DAY, POSITIVE, PORT, EXISTING = map(_Checked, (time_zone, encoding, day, positive, port, existing))


def _formats() -> list[str]:
    from ccq.ingest.adapters import FORMATS

    return [*FORMATS, "contract"]


def _run(name: str, ctx: click.Context, **options) -> int:
    """Call commands.cmd_<name> with the options as one namespace (looked up when called, so a
    test can stand in for a command)."""
    if ctx.obj.get("engine"):
        os.environ["CCQ_ENGINE"] = ctx.obj["engine"]
    args = SimpleNamespace(home=ctx.obj["home"], command=name, **options)
    return int(getattr(commands, f"cmd_{name}")(args) or 0)


@click.group(help=__doc__.split("\n\n")[0], context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", help="working data folder (default: $CCQ_HOME, else .ccq in the project)")
@click.option("--engine", type=click.Choice(ENGINES), envvar="CCQ_ENGINE",
              help="what dbt builds the warehouse on (default: $CCQ_ENGINE, else duckdb); spark: docs/scale-out.md")
@click.pass_context
def cli(ctx: click.Context, home: str | None, engine: str | None):
    if engine == "spark" and not spark_dbt_executable().is_file():
        raise click.UsageError(f"--engine spark: the Spark engine's environment is missing ({spark_dbt_executable()}); "
                               "`./dev ccq --engine spark ...` makes .venv-spark, or set CCQ_SPARK_PYTHON")
    ctx.obj = {"home": home, "engine": engine}


def _size_options(f):
    for option in reversed([
        click.option("--days", type=POSITIVE, help="days of history ending yesterday (default: from the first day of "
                                                  "last month, so there is a full month)"),
        click.option("--start", type=DAY, help="first day (YYYY-MM-DD); default: --days before today"),
        click.option("--agents", type=POSITIVE, default=60, show_default=True),
        click.option("--queues", type=POSITIVE, default=5, show_default=True),
        click.option("--seed", type=int, default=7, show_default=True),
    ]):
        f = option(f)
    return f


FULL_REFRESH = click.option("--full-refresh", is_flag=True, help="rebuild the incremental models from scratch (as the "
                                                                 "nightly reconciliation does)")


@cli.command(help="the main job: generate, load, validate, build, certify, publish, open the app")
@_size_options
@click.option("--dataset", type=click.Choice(["generated", "anonymous-bank"]), default="generated",
              help="generated demo centre (default) or the real Anonymous Bank month (February 1999)")
@click.option("--no-app", is_flag=True, help="stop after publishing")
@click.option("--port", type=PORT, default=8501, show_default=True)
@click.pass_context
def demo(ctx, **options) -> int:
    return _run("demo", ctx, **options)


@cli.command(help="write demo extracts into the landing folder")
@_size_options
@click.pass_context
def generate(ctx, **options) -> int:
    return _run("generate", ctx, **options)


@cli.command(help="load new or changed landing files and rebuild")
@FULL_REFRESH
@click.pass_context
def refresh(ctx, **options) -> int:
    return _run("refresh", ctx, **options)


@cli.command(help="reload the extract days of a date range and rebuild")
@click.option("--from", "start", type=DAY, required=True, help="first extract day (YYYY-MM-DD)")
@click.option("--to", "end", type=DAY, required=True, help="last extract day (YYYY-MM-DD)")
@FULL_REFRESH
@click.pass_context
def backfill(ctx, **options) -> int:
    return _run("backfill", ctx, **options)


@cli.command(help="last runs, what is certified up to when, what is waiting, what failed and why")
@click.option("--runs", type=POSITIVE, default=10, show_default=True, help="how many recent runs to show")
@click.option("--periods", type=POSITIVE, default=10, show_default=True, help="how many uncertified periods to list")
@click.pass_context
def status(ctx, **options) -> int:
    return _run("status", ctx, **options)


@cli.command(help="convert files from a real system's format into the landing folder, then refresh")
@click.option("--format", "format", type=click.Choice(_formats()), required=True, help="the system that wrote the files")
@click.option("--time-zone", type=TIME_ZONE, help="IANA time zone of the site the files come from, for local times "
                                                  "without an offset (e.g. Asia/Shanghai); default: the configured "
                                                  "site's (the default site's, or the data set's own for anonymous-bank)")
@click.option("--encoding", type=ENCODING, default="utf-8", show_default=True, help="file encoding (e.g. gb18030)")
@click.option("--no-refresh", is_flag=True, help="only write the landing files")
@click.argument("paths", nargs=-1, required=True, type=EXISTING, metavar="PATH...")
@click.pass_context
def ingest(ctx, **options) -> int:
    return _run("ingest", ctx, **{**options, "paths": list(options["paths"])})


@cli.command("app", help="start the Streamlit app")
@click.option("--port", type=PORT, default=8501, show_default=True)
@click.pass_context
def app_(ctx, **options) -> int:
    return _run("app", ctx, **options)


@cli.command(help="start Dagster's UI (dagster dev) on this home's run history")
@click.option("--port", type=PORT, default=3000, show_default=True)
@click.pass_context
def dagster(ctx, **options) -> int:
    return _run("dagster", ctx, **options)


@cli.command(help="print KPI values with their certified flag")
@click.option("--grain", type=click.Choice(["interval", "interval_30", "hour", "day", "week", "month"]), default="day",
              show_default=True)
@click.option("--format", "format", type=click.Choice(["table", "csv"]), default="table", show_default=True,
              help="csv: safe to open in a spreadsheet (text starting with =, +, -, @, tab or CR gets a leading ', "
                   "text cells are quoted)")
@click.option("--raw", is_flag=True, help="with --format csv: the values exactly as stored, for programs")
@click.option("--kpi", help="only this KPI")
@click.option("--scope", help="only this scope id (a queue or agent id; all: the whole centre); "
              "a table shows the whole centre by default, a CSV every scope")
@click.option("--scope-type", type=click.Choice(commands.SCOPE_ORDER), help="only scopes of this type (all: the whole centre)")
@click.option("--period", type=DAY, help="only the period starting on this date (YYYY-MM-DD)")
@click.pass_context
def kpis(ctx, **options) -> int:
    return _run("kpis", ctx, **options)


@cli.command(help="list (or --write-missing: append to seeds/) the rows that configure the queues and sites the data "
                  "names but the seeds do not")
@click.option("--write-missing", is_flag=True, help="append the rows to seeds/queues.csv, sites.csv and "
                                                    "queue_parameters.csv for review")
@click.pass_context
def configure(ctx, **options) -> int:
    return _run("configure", ctx, **options)


@cli.command(help="print (or --write) the readable page of the raw contract")
@click.option("--write", metavar="PATH", help="write the Markdown page there (docs/raw_contract.md)")
@click.pass_context
def contract(ctx, **options) -> int:
    return _run("contract", ctx, **options)


# --- running it -------------------------------------------------------------------------------

def _one_line(message: object) -> str:
    return " ".join(str(message).split())


def _usage_message(e: click.UsageError) -> str:
    """One line for a bad command line: the option and what is wrong with its value, or what is
    missing or unknown (click's own sentence, without its usage block)."""
    if isinstance(e, click.exceptions.NoArgsIsHelpError):
        return "missing command (ccq --help lists them)"
    if isinstance(e, click.MissingParameter) and e.param is not None:
        return f"missing {e.param.param_type_name} {_name(e.param)}"
    if isinstance(e, click.BadParameter) and e.param is not None:
        return f"{_name(e.param)} {_one_line(e.message).rstrip('.')}"
    message = _one_line(e.format_message())
    return (message[:1].lower() + message[1:]).rstrip(".")


def _name(param: click.Parameter) -> str:
    return param.opts[0] if param.param_type_name == "option" else (param.metavar or param.name).rstrip(".")


def _command_path(e: click.ClickException) -> str:
    ctx = getattr(e, "ctx", None)
    return ctx.command_path if ctx is not None else "ccq"


def parse(argv: list[str]) -> dict:
    """The options of one command line (`<command> [options]`) as the command receives them."""
    command = cli.commands[argv[0]]
    with command.make_context(argv[0], list(argv[1:])) as ctx:
        return dict(ctx.params)


def main(argv: list[str] | None = None) -> int:
    from ccq.ingest.loader import LoadError

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return int(cli.main(args=args, prog_name="ccq", standalone_mode=False) or 0)
    except click.exceptions.Exit as e:  # --help
        return e.exit_code
    except click.UsageError as e:
        print(f"{_command_path(e)}: {_usage_message(e)}", file=sys.stderr)
        return 2
    except click.exceptions.Abort:
        commands._say("interrupted: nothing more was published; the app keeps the snapshot it had")
        return 130
    except KeyboardInterrupt:
        commands._say("interrupted: nothing more was published; the app keeps the snapshot it had")
        return 130
    except UsageError as e:  # a bad combination of options, found by the command
        print(f"{_name_of(args)}: {_one_line(e)}", file=sys.stderr)
        return 2
    except SystemExit as e:  # raise SystemExit("message") inside a command: one line, not the bare message
        if not isinstance(e.code, str):
            raise
        print(f"{_name_of(args)}: {_one_line(e.code)}", file=sys.stderr)
        return 1
    except (LoadError, ValueError) as e:  # a file that cannot be loaded, a value a command rejects
        print(f"{_name_of(args)}: {_one_line(e)}", file=sys.stderr)
        return 1


def _name_of(args: list[str]) -> str:
    """`ccq <command>` of a command line (the first word that is a command)."""
    names = set(cli.commands)
    return next((f"ccq {a}" for a in args if a in names), "ccq")


if __name__ == "__main__":
    sys.exit(main())
