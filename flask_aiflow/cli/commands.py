"""The ``flask aiflow`` commands: skills, call, check, schema, new-skill.

``init_app`` adds the group to every app's CLI; it is also registered through
the ``flask.commands`` entry point, so ``flask aiflow check`` can report an
app that fails to start, and ``schema`` / ``new-skill`` work without an app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo

from flask_aiflow.cli.checks import ERROR, OK, WARNING, check_app
from flask_aiflow.cli.scaffold import create_skill_package
from flask_aiflow.cli.schema import all_schemas, schema_for, schema_names
from flask_aiflow.cli.skillinfo import declared_priority, enable_hint, find_declaration, installed_plugin
from flask_aiflow.decision import Decision
from flask_aiflow.extension import get_state
from flask_aiflow.testing.errors import ProtocolViolation, SimulationError, TransportError
from flask_aiflow.testing.rules import spoken_text
from flask_aiflow.testing.simulator import DEFAULT_FROM, DEFAULT_TO, CallSimulator
from flask_aiflow.testing.turns import Turn, describe_action

aiflow_cli = AppGroup("aiflow", help="Inspect, check and try the app's flask-aiflow skills.")


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        get_state(app)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    return app


# -- skills -----------------------------------------------------------------------------


@aiflow_cli.command("skills")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def skills_command(as_json: bool) -> None:
    """List every skill: name, package, version, hooks, priority, status.

    A skill the configuration keeps off is imported here (never by the app)
    to show the priority it declares; how to enable it is printed below.
    """
    state = get_state(_app())
    settings = state.settings
    entries = []
    for info in state.registry.skills():
        entry = info.to_dict()
        declared = declared_priority(info)
        entry["declared_priority"] = declared
        entry["priority"] = None if declared is None else settings.skill_priorities.get(info.name, declared)
        entries.append(entry)
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    if not entries:
        click.echo("No skills are installed or registered.")
        return
    rows = [("NAME", "PACKAGE", "VERSION", "HOOKS", "PRIORITY", "STATUS")]
    for entry in entries:
        priority = "-" if entry["priority"] is None else str(entry["priority"])
        if entry["priority"] != entry["declared_priority"]:
            priority += f" (declared {entry['declared_priority']})"
        hooks = ", ".join(hook.removeprefix("aiflow_") for hook in entry["hooks"]) or "-"
        rows.append(
            (entry["name"], entry["package"] or "(registered)", entry["version"] or "-", hooks, priority, entry["status"])
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    hints = [hint for info in state.registry.skills() if (hint := enable_hint(info, settings.skills)) is not None]
    if hints:
        click.echo("")
        click.echo("To enable a skill that is off:")
        for hint in hints:
            click.echo(f"  {hint}")


# -- check ------------------------------------------------------------------------------


@aiflow_cli.command("check", with_appcontext=False)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.pass_context
def check_command(ctx: click.Context, strict: bool) -> None:
    """Validate the configuration and every skill's; exit 1 on problems."""
    info = ctx.ensure_object(ScriptInfo)
    try:
        app = info.load_app()
    except Exception as exc:  # noqa: BLE001 - reporting why the app does not start is the point
        click.echo(f"error: the app failed to start: {type(exc).__name__}: {exc}")
        click.echo("1 error")
        ctx.exit(1)
    try:
        with app.app_context():
            findings = check_app(app)
    except RuntimeError as exc:
        click.echo(f"error: {exc}")
        ctx.exit(1)
    marks = {OK: click.style("ok", fg="green"), WARNING: click.style("warning", fg="yellow"), ERROR: click.style("error", fg="red")}
    for finding in findings:
        click.echo(f"{marks[finding.level]}: {finding.message}")
    errors = sum(f.level == ERROR for f in findings)
    warnings = sum(f.level == WARNING for f in findings)
    click.echo(f"{errors} error(s), {warnings} warning(s)")
    if errors or (strict and warnings):
        ctx.exit(1)


# -- schema -----------------------------------------------------------------------------


@aiflow_cli.command("schema", with_appcontext=False)
@click.option("--type", "type_name", metavar="NAME", help="Only the schema of this event or action type.")
@click.option("--skill", "skill_name", metavar="NAME", help="The schema of this installed skill's configuration.")
def schema_command(type_name: str | None, skill_name: str | None) -> None:
    """Print JSON Schemas of the events and actions (or of a skill's configuration)."""
    if skill_name is not None:
        click.echo(json.dumps(_skill_schema(skill_name), indent=2))
        return
    if type_name is None:
        click.echo(json.dumps(all_schemas(), indent=2))
        return
    try:
        schema = schema_for(type_name)
    except KeyError:
        names = schema_names()
        raise click.BadParameter(
            f"{type_name!r} is no event or action type. Events: {', '.join(names['events'])}; "
            f"actions: {', '.join(names['actions'])}",
            param_hint="--type",
        ) from None
    click.echo(json.dumps(schema, indent=2))


def _skill_schema(name: str) -> dict[str, Any]:
    try:
        declaration = find_declaration(installed_plugin(name))
    except LookupError as exc:
        raise click.BadParameter(str(exc), param_hint="--skill") from None
    if declaration is None or declaration.config_key is None:
        raise click.BadParameter(
            f"skill {name!r} declares no configuration model (flask_aiflow.skills.declare.Skill)", param_hint="--skill"
        )
    return declaration.schema()


# -- new-skill --------------------------------------------------------------------------


@aiflow_cli.command("new-skill", with_appcontext=False)
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create the package directory.",
)
def new_skill_command(name: str, directory: Path) -> None:
    """Create a skill package NAME with setup.cfg, entry point, one hook and a test."""
    try:
        root = create_skill_package(name, directory)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {root}")
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        click.echo(f"  {path.relative_to(root)}")
    click.echo(f"Next: cd {root} && pip install -e '.[test]' && python -m pytest")


# -- call -------------------------------------------------------------------------------

HELP = (
    "Type what the caller says and press Enter. An empty line is silence, "
    "'/barge [MS] TEXT' speaks MS milliseconds (default 0) into the assistant's prompt, "
    "'/end' lets its speech end, '/bye' hangs up."
)


@aiflow_cli.command("call")
@click.option("--from", "from_", default=DEFAULT_FROM, show_default=True, help="The caller's number.")
@click.option("--to", default=DEFAULT_TO, show_default=True, help="The number called.")
@click.option("--transport", type=click.Choice(["webhook", "websocket"]), default="webhook", show_default=True)
@click.option("--decisions/--no-decisions", default=True, help="Show which skill won against which.")
def call_command(from_: str, to: str, transport: str, decisions: bool) -> None:
    """Place an interactive simulated call to this app in the terminal."""
    app = _app()
    click.echo(f"Calling {app.name} from {from_} to {to} ({transport}, in process).")
    click.echo(HELP)
    stdin = sys.stdin
    interactive = stdin.isatty()
    try:
        call = CallSimulator(app, transport=transport).start_call(from_=from_, to=to)
        _show(call.greeting, decisions)
        while not call.ended:
            click.echo(click.style("caller> ", bold=True), nl=False)
            line = stdin.readline()
            if not line:  # end of input: the caller hangs up
                click.echo("/bye")
                _show(call.hang_up(), decisions)
                break
            line = line.strip()
            if not interactive:  # show piped input as if it had been typed
                click.echo(line)
            try:
                turn = _step(call, line)
            except (TransportError, ProtocolViolation):
                raise
            except (ValueError, SimulationError) as exc:  # a step that makes no sense now
                click.echo(f"  ({exc})")
                continue
            if turn is not None:
                _show(turn, decisions)
    except SimulationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Call ended: {call.end_reason}.")


def _step(call: Any, line: str) -> Turn | None:
    if line == "/bye":
        return call.hang_up()  # type: ignore[no-any-return]
    if line == "/end":
        return call.speech_ends()  # type: ignore[no-any-return]
    if line == "/help":
        click.echo(HELP)
        return None
    if line.startswith("/barge"):
        words = line.removeprefix("/barge").split(maxsplit=1)
        after_ms = 0
        if words and words[0].isdigit():
            after_ms = int(words.pop(0))
        return call.barge_in(" ".join(words), after_ms=after_ms)  # type: ignore[no-any-return]
    if not line:
        return call.silence()  # type: ignore[no-any-return]
    return call.say(line)  # type: ignore[no-any-return]


def _show(turn: Turn, decisions: bool) -> None:
    if turn.dropped:
        click.echo(click.style(f"  (not heard: {turn.dropped})", dim=True))
    for exchange in turn.exchanges:
        for sent in exchange.actions:  # over a WebSocket: pushes made meanwhile, then the answer
            if sent.type == "speak":
                line = spoken_text(sent)  # type: ignore[arg-type]
            else:
                line = f"[{describe_action(sent)}]"
            click.echo(click.style("assistant: ", fg="cyan", bold=True) + line)
        decision = exchange.decision
        if decisions and decision is not None and (exchange.actions or decision.failures or decision.candidates):
            click.echo(click.style(f"  {_decision_line(exchange.event['type'], decision)}", dim=True))
            for failure in decision.failures:
                click.echo(click.style(f"  ! {failure.skill} {failure.kind}: {failure.message}", fg="red"))
    for note in turn.notes:
        if note != turn.dropped:
            click.echo(click.style(f"  ({note})", dim=True))


def _decision_line(event_type: str, decision: Decision) -> str:
    if decision.winner is None:
        return f"{event_type}: {decision.rule}"
    winner = decision.winner
    others = [f"{c.skill} ({c.priority})" for c in decision.candidates if c is not winner]
    against = f" against {', '.join(others)}" if others else " (no other candidates)"
    return f"{event_type}: {winner.skill} ({winner.priority}) won{against}; {decision.rule}"


__all__ = ["aiflow_cli"]
