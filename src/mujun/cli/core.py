"""The ``mujun`` command: a thin shell over the façade. Any MujunError becomes its message and exit 2."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mujun.cli.format import print_evaluation, print_explanation, print_run, print_runs, print_scheme, print_schemes, tr
from mujun.errors import MujunError
from mujun.settings import DEFAULT_SCHEME

if TYPE_CHECKING:
    from mujun.schemes import LoadedScheme


class LazyGroup(click.Group):
    """The root group: the other command modules are added on the first look-up of a command (``--help``
    or a command name), not at import, so ``mujun --version`` starts without them (issue 13)."""

    registered = False

    def _ensure(self) -> None:
        if not LazyGroup.registered:
            LazyGroup.registered = True
            _register()

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        own = super().get_command(ctx, cmd_name)
        if own is not None and not isinstance(own, click.Group):  # a command of this module (evaluate …)
            return own  # groups here get subcommands from the other modules (runs diff)
        self._ensure()
        return super().get_command(ctx, cmd_name)


def load(ref: Any) -> LoadedScheme:
    """A scheme by built-in id or path (``mujun.schemes.load``, imported on first use)."""
    from mujun.schemes import load as load_scheme

    return load_scheme(ref)


def builtin_ids() -> list[str]:
    from mujun.schemes import builtin_ids as ids

    return list(ids())


ENGINE = click.Choice(["duckdb", "spark"])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, help=tr("cli.help.root"))
@click.version_option(package_name="mujun", prog_name="mujun")
@click.option("--as", "as_user", metavar="NAME", envvar="MUJUN_AS", help=tr("cli.opt.as"))
def cli(as_user: str | None) -> None:
    """mujun: per-mu efficiency evaluation (help text: ``cli.help.root``)."""
    if as_user:
        from mujun.runs.changes import act_as

        act_as(as_user)


@cli.group(help=tr("cli.help.schemes"))
def schemes() -> None:
    """Evaluation schemes (help text: ``cli.help.schemes``)."""


@schemes.command("list")
def schemes_list() -> None:
    """List the built-in schemes."""
    print_schemes([load(i) for i in builtin_ids()])


@schemes.command("show")
@click.argument("scheme")
@click.option("--json", "as_json", is_flag=True, help="Print the resolved scheme as JSON.")
def schemes_show(scheme: str, as_json: bool) -> None:
    """Show a scheme readably: source, assumptions, groups, weights, rules."""
    loaded = load(scheme)
    if as_json:
        click.echo(json.dumps(loaded.scheme.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2))
    else:
        print_scheme(loaded)


@schemes.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
def schemes_validate(path: str) -> None:
    """Validate a scheme file; exit 2 with the key path of the first problem."""
    loaded = load(Path(path))
    click.echo(tr("cli.valid", id=loaded.id, sha=loaded.sha256))


@cli.command()
@click.option("--scheme", "scheme", default=DEFAULT_SCHEME, show_default=True, help="Built-in id or YAML path.")
@click.option(
    "--input",
    "input_path",
    help="CSV (UTF-8) or Parquet; with --engine spark and a result folder: a Parquet path or table the cluster reads.",
)
@click.option(
    "--out", "out", help="Result file: .csv, .parquet or .xlsx; with --engine spark a folder the executors write."
)
@click.option("--year", type=int, help="Data year (default: the latest in the input).")
@click.option("--engine", type=ENGINE, default="duckdb", show_default=True)
@click.option("--spark-master", help="Spark master URL (default local[*]).")
@click.option("--workspace", type=click.Path(file_okay=False), help="Store the run in this workspace.")
def evaluate(
    scheme: str,
    input_path: str | None,
    out: str | None,
    year: int | None,
    engine: str,
    spark_master: str | None,
    workspace: str | None,
) -> None:
    """Evaluate firms with a scheme; write a result file and/or store a run."""
    from mujun.data.canonical import read_ahead

    # a Parquet input is read while the engine is imported and the scheme loaded
    ahead = read_ahead(input_path) if input_path and not workspace and engine == "duckdb" else None
    from mujun import api
    from mujun.api_spark import check_route, evaluate_to_folder

    if not out and not workspace:
        raise click.UsageError(tr("cli.need_out"))
    if check_route(engine, out, input_path):  # --engine spark --out DIR: nothing but a summary reaches here
        if workspace or not input_path:
            raise click.UsageError(tr("cli.cluster.no_workspace" if workspace else "cli.need_input"))
        from mujun.cli.cluster import print_cluster_run

        assert out is not None
        run = evaluate_to_folder(input_path, load(scheme), out, year=year, spark_master=spark_master)
        print_cluster_run(run)
        return
    from mujun.cli.progress import step

    loaded = load(scheme)
    doc = None
    if workspace:
        from mujun.runs.workspace import Workspace

        with Workspace(workspace) as ws, step(tr("cli.step.evaluate")):
            stored = api.evaluate_and_store(ws, loaded, year, data=input_path, engine=engine, spark_master=spark_master)
        ev, doc = stored
    elif input_path:
        with step(tr("cli.step.check")):
            canon = api.prepare_data(input_path, loaded, ahead)
        suffix = Path(str(out)).suffix.lower() if out else ""
        if engine == "duckdb" and suffix == ".parquet":  # DuckDB writes the file itself: nothing is fetched
            with step(tr("cli.step.evaluate")):
                summary = api.evaluate_to_parquet(canon, loaded, str(out), year=year)
            if summary is not None:
                print_evaluation(summary)
                click.echo(tr("cli.written", path=Path(str(out))))
                _Exit.quick = True  # nothing is left open: the file is written, DuckDB closed
                return
        # a CSV or Parquet result file holds the public columns only: the engine fetches nothing else
        public = suffix in (".csv", ".parquet")
        with step(tr("cli.step.evaluate")):
            ev = api.evaluate(canon, loaded, year=year, engine=engine, spark_master=spark_master, public_only=public)
    else:
        raise click.UsageError(tr("cli.need_input"))
    print_evaluation(ev)
    if out:
        from mujun.reports import write_result

        with step(tr("cli.step.write")):
            written = write_result(ev, out)
        click.echo(tr("cli.written", path=written))
    if doc:
        click.echo(tr("cli.stored", run=doc["run_id"], workspace=workspace))


@cli.command()
@click.option("--uscc", required=True, help="The firm's unified social credit code (USCC).")
@click.option("--workspace", type=click.Path(file_okay=False), help="Explain from a stored run.")
@click.option("--run", "run_id", help="Run id (default: the latest run).")
@click.option("--scheme", default=DEFAULT_SCHEME, show_default=True)
@click.option("--input", "input_path", type=click.Path(dir_okay=False))
@click.option("--year", type=int)
@click.option("--json", "as_json", is_flag=True)
def explain(
    uscc: str,
    workspace: str | None,
    run_id: str | None,
    scheme: str,
    input_path: str | None,
    year: int | None,
    as_json: bool,
) -> None:
    """Why a firm has its class, and what single change would lift it."""
    from mujun import api
    from mujun.runs.workspace import Workspace

    if workspace:
        with Workspace(workspace, read_only=True) as ws:
            ex = api.explain_stored(ws, uscc, run_id)
            docs = ws.runs()
            used = next((d for d in docs if d["run_id"] == run_id), None) if run_id else docs[-1]
        loaded = _builtin_as_stored(used["scheme"]) if used else None
    else:
        if not input_path:
            raise click.UsageError(tr("cli.need_ws_or_input"))
        loaded = load(scheme)
        ex = api.explain(api.evaluate(input_path, loaded, year=year), uscc)
    if as_json:
        click.echo(json.dumps(ex.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_explanation(ex, loaded.scheme if loaded is not None else None)


def _builtin_as_stored(scheme: dict[str, str]) -> LoadedScheme | None:
    """The built-in scheme a run used, when unchanged since (its English labels name the indicators)."""
    if scheme.get("id") not in builtin_ids():
        return None
    loaded = load(scheme["id"])
    return loaded if loaded.sha256 == scheme.get("sha256") else None


@cli.group()
def runs() -> None:
    """Stored runs in a workspace."""


@runs.command("list")
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True)
def runs_list(workspace: str, as_json: bool) -> None:
    """List the runs stored in a workspace."""
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        docs = ws.runs()
        stale = ws.stale_runs()
    if as_json:
        click.echo(
            json.dumps([{**d, "stale_by_undo": stale.get(d["run_id"])} for d in docs], ensure_ascii=False, indent=2)
        )
        return
    print_runs(docs, stale)


@runs.command("show")
@click.argument("run_id")
@click.option("--workspace", required=True, type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="The whole manifest as JSON.")
def runs_show(run_id: str, workspace: str, as_json: bool) -> None:
    """A run's summary: scheme, year, input, firms and classes (``--json``: its manifest)."""
    from mujun.runs.workspace import Workspace

    with Workspace(workspace, read_only=True) as ws:
        doc = ws.manifest(run_id)
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    print_run(doc)


@cli.group()
def bench() -> None:
    """Benchmarks that print figures (not tests)."""


@bench.command("evaluate")
@click.option("--rows", type=int, default=1_000_000, show_default=True)
@click.option("--repeat", type=int, default=3, show_default=True)
@click.option("--whole-process", is_flag=True, help="Time `mujun evaluate` as a process beside the hand SQL's.")
@click.option("--engine", type=ENGINE, help="spark: the cluster path (Parquet folder in and out) against DuckDB.")
@click.option("--spark-master", help="Spark master URL, e.g. spark://host:7077 (implies --engine spark).")
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False),
    help="Spark: where input and result folders go; every executor must reach it (default: a temporary folder).",
)
def bench_evaluate(
    rows: int, repeat: int, whole_process: bool, engine: str | None, spark_master: str | None, work_dir: str | None
) -> None:
    """Engine vs one hand-written DuckDB SQL statement on synthetic firms (linyi-2022); with --engine spark,
    the cluster path vs DuckDB, each from Parquet to Parquet."""
    if (engine or ("spark" if spark_master else "duckdb")) == "spark":
        from mujun.bench.spark_bench import format_cluster_report, run_cluster_bench

        click.echo(format_cluster_report(run_cluster_bench(rows, repeat, spark_master or "local[*]", work_dir)))
        return
    if whole_process:
        from mujun.bench.whole import format_whole, run_whole

        click.echo(format_whole(run_whole(rows=rows, repeat=repeat)))
        return
    from mujun.bench.evaluate import format_report, run_bench

    click.echo(format_report(run_bench(rows=rows, repeat=repeat)))


@bench.command("import")
@click.option("--rows", type=int, default=100_000, show_default=True)
@click.option("--repeat", type=int, default=3, show_default=True)
def bench_import(rows: int, repeat: int) -> None:
    """Read, map and validate a SYNTHETIC 100,000-row department xlsx; raw read time beside it."""
    from mujun.bench.import_bench import format_import_report, run_import_bench

    click.echo(format_import_report(run_import_bench(rows=rows, repeat=repeat)))


@bench.command("web")
@click.option(
    "--pages",
    type=click.Choice(["results", "all"]),
    help="results: results and overview pages, --requests of them (100,000 firms, the 20-client targets); "
    "all: every page kind for --seconds on the demo's workspace, the first hit of each page and a quarantine "
    "correction (the 50-client targets). Default: all with 50 or more clients, else results.",
)
@click.option(
    "--firms",
    type=int,
    help="results: SYNTHETIC firms (default 100,000); all: the demo's --firms (default 4,000: 7,000 firms in the "
    "newest year).",
)
@click.option("--clients", type=int, default=20, show_default=True)
@click.option("--requests", type=int, default=2000, show_default=True, help="results pages (+1/5 overviews)")
@click.option("--seconds", type=float, default=60.0, show_default=True, help="How long the load runs (--pages all).")
@click.option(
    "--warmup",
    type=float,
    default=0.0,
    show_default=True,
    help="--pages all: seconds of the same load before the measured --seconds (reported apart).",
)
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, exists=True),
    help="--pages all: a copy of this workspace instead of building a demo.",
)
@click.option("--seed", type=int, default=42, show_default=True)
def bench_web(
    pages: str | None,
    firms: int | None,
    clients: int,
    requests: int,
    seconds: float,
    warmup: float,
    workspace: str | None,
    seed: int,
) -> None:
    """Page latency of the web app: SYNTHETIC workspace, concurrent clients on loopback, p50/p95."""
    if (pages or ("all" if clients >= 50 else "results")) == "all":
        from mujun.bench.web_pages import DEMO_FIRMS, format_pages_report, run_pages_bench

        got = run_pages_bench(firms or DEMO_FIRMS, clients, seconds, seed, workspace, warmup)
        click.echo(format_pages_report(got))
        return
    from mujun.bench.web import format_web_report, run_web_bench

    report = run_web_bench(firms=firms or 100_000, clients=clients, requests=requests, seed=seed)
    click.echo(format_web_report(report))


@bench.command("preview")
@click.option("--workspace", type=click.Path(file_okay=False), help="A workspace with runs (default: build a demo).")
@click.option("--previews", type=int, default=20, show_default=True)
def bench_preview(workspace: str | None, previews: int) -> None:
    """An objection's impact preview on the newest run (both recompute policies)."""
    from mujun.bench.preview import format_preview_report, run_preview_bench

    click.echo(format_preview_report(run_preview_bench(workspace, previews)))


@bench.command("exports")
@click.option("--workspace", required=True, type=click.Path(file_okay=False, exists=True), help="e.g. mujun demo's")
@click.option("--repeat", type=int, default=2, show_default=True)
def bench_exports(workspace: str, repeat: int) -> None:
    """Publicity PDF and xlsx, full results xlsx/CSV and their background jobs (on a copy of the workspace)."""
    from mujun.bench.exports import format_exports_report, run_exports_bench

    click.echo(format_exports_report(run_exports_bench(workspace, repeat)))


def _register() -> None:
    from mujun.cli.analysis import COMMANDS as ANALYSIS
    from mujun.cli.cleanup import COMMANDS as CLEANUP
    from mujun.cli.cycle import COMMANDS as CYCLE
    from mujun.cli.cycle import runs_diff
    from mujun.cli.history import COMMANDS as HISTORY
    from mujun.cli.intake import COMMANDS
    from mujun.cli.policy import COMMANDS as POLICY
    from mujun.cli.registers import COMMANDS as REGISTERS
    from mujun.cli.strategy import COMMANDS as STRATEGY
    from mujun.cli.templates import COMMANDS as TEMPLATES
    from mujun.cli.tiers import COMMANDS as TIERS
    from mujun.cli.users import COMMANDS as USERS
    from mujun.cli.web import COMMANDS as WEB_COMMANDS

    every = (
        *COMMANDS,
        *WEB_COMMANDS,
        *STRATEGY,
        *CLEANUP,
        *TIERS,
        *REGISTERS,
        *HISTORY,
        *USERS,
        *CYCLE,
        *POLICY,
        *ANALYSIS,
        *TEMPLATES,
    )
    for command in every:
        cli.add_command(command)
    runs.add_command(runs_diff)


class _Exit:
    """Set by a command whose process may end without Python's teardown (:func:`main`)."""

    quick = False


def _quick_exit() -> None:
    """End the process now, status 0: output flushed and exit handlers run (:mod:`atexit`: Spark's stop
    included), but not the interpreter's teardown, which frees every object one by one. After
    ``mujun evaluate --out`` of 1,000,000 firms that teardown took 0.18–0.25 s of a 6 s command (issue 13)."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning mujun errors into a message and exit status 2.

    Called with ``argv`` (tests, in this process) it always returns; as the process's entry point, a command
    that asked for it (:class:`_Exit`) ends the process without the interpreter's teardown."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    try:
        cli.main(args=argv, prog_name="mujun", standalone_mode=False)
        if argv is None and _Exit.quick:
            _quick_exit()
    except MujunError as exc:
        click.echo(tr("cli.error", code=exc.code, message=exc.message()), err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo(tr("cli.aborted"), err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("MUJUN_DEBUG"):
            raise
        click.echo(tr("cli.internal", kind=type(exc).__name__, exc=exc), err=True)
        sys.exit(1)
