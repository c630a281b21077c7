"""`billing-gateway user ...`: staff accounts from the command line (the first admin, scripts)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from gateway.cli_context import load_settings, operator_name, run_with_database
from gateway.cli_json import JsonOutput, echo_json
from gateway.staff import queries
from gateway.staff.roles import Role

users_cli = typer.Typer(help="Create and manage back-office staff accounts.", no_args_is_help=True)


def _as_operator(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `work(actor)` against the database; a refusal is printed, not a traceback."""
    from audit.entry import Actor
    from gateway.core.errors import BillingError

    load_settings()
    actor = Actor(kind="staff", id=operator_name(), role="cli")

    async def notified() -> Any:
        """The job queue open, so that what the command changes (a deactivation returns
        requests to Triage) is notified now, not at the worker's next minute sweep."""
        from gateway.core.jobs import job_app
        from gateway.notifications.outbox import kicks_sent

        async with job_app.open_async():
            result = await work(actor)
            await kicks_sent()
            return result

    try:
        return run_with_database(notified)
    except BillingError as error:
        typer.echo(error.detail, err=True)
        raise typer.Exit(1) from None


@users_cli.command("create")
def user_create(
    username: str,
    email: Annotated[str, typer.Option(help="the person's work email")],
    role: Annotated[Role, typer.Option(help="what the account may do")],
    first_name: Annotated[
        str, typer.Option(help="with --last-name, the initials on an operations member's cheques")
    ] = "",
    last_name: Annotated[str, typer.Option(help="the person's last name")] = "",
) -> None:
    """Create an account; its temporary password is printed this once. MFA is set up at first
    sign-in."""
    from gateway.staff.service import create_staff

    account = _as_operator(
        lambda actor: create_staff(
            username, email, role, actor, first_name=first_name, last_name=last_name
        )
    )
    typer.echo(
        f"created {account.username} ({account.role.value}); temporary password, shown once:\n"
        f"{account.password}"
    )


@users_cli.command("set-role")
def user_set_role(
    username: str,
    role: Annotated[Role, typer.Argument(help="the new role")],
) -> None:
    """Change an account's role; its open sessions end."""
    from gateway.staff.service import set_role

    _as_operator(lambda actor: set_role(username, role, actor))
    typer.echo(f"{username} is now {role.value}")


@users_cli.command("deactivate")
def user_deactivate(username: str) -> None:
    """Deactivate an account and end all its sessions at once."""
    from gateway.change_requests.lifecycle import return_open_requests
    from gateway.staff.service import deactivate

    done = _as_operator(lambda actor: deactivate(username, actor, return_open_requests))
    typer.echo(done.sentence(username))


@users_cli.command("unlock")
def user_unlock(username: str) -> None:
    """Lift a lockout before it expires."""
    from gateway.staff.service import unlock

    _as_operator(lambda actor: unlock(username, actor))
    typer.echo(f"{username} is unlocked")


@users_cli.command("reset-mfa")
def user_reset_mfa(username: str) -> None:
    """Forget the account's authenticator; it enrols again at its next sign-in."""
    from gateway.staff.service import reset_mfa

    _as_operator(lambda actor: reset_mfa(username, actor))
    typer.echo(f"{username} sets up a new authenticator at the next sign-in")


@users_cli.command("reset-password")
def user_reset_password(username: str) -> None:
    """Give the account a new temporary password, printed this once; its sessions end."""
    from gateway.staff.service import reset_password

    password = _as_operator(lambda actor: reset_password(username, actor))
    typer.echo(f"new temporary password for {username}, shown once:\n{password}")


@users_cli.command("list")
def user_list(as_json: JsonOutput = False) -> None:
    """Accounts, roles and state. Never passwords or secrets."""
    from gateway.core.db.connection import fetch

    rows = _as_operator(lambda _actor: fetch(queries.LIST_USERS))
    if as_json:
        echo_json(
            {
                "username": row["username"],
                "role": row["role"],
                "active": row["active"],
                "mfa": row["mfa"],
                "locked": row["locked"],
            }
            for row in rows
        )
        return
    for row in rows:
        state = "active" if row["active"] else "inactive"
        flags = ("mfa" if row["mfa"] else "mfa-pending") + (" locked" if row["locked"] else "")
        typer.echo(f"{row['username']:20} {row['role']:11} {state:8} {flags}")


@users_cli.command("code")
def user_code(username: str) -> None:
    """SANDBOX ONLY: print the account's current authenticator code, for a demo without a
    phone (it also works during enrolment, for the key shown on the enrolment page)."""
    from gateway.staff.demo_codes import current_code

    if not load_settings().sandbox:
        typer.echo(
            "only in sandbox mode: in production, codes come from the person's phone", err=True
        )
        raise typer.Exit(2)
    code = _as_operator(lambda _actor: current_code(username))
    if code is None:
        typer.echo(
            f"{username} has no authenticator yet: sign in with the password first", err=True
        )
        raise typer.Exit(1)
    typer.echo(code)
