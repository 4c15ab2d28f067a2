"""The ``ide-server`` command: serve, and manage users and projects."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from .config import (
    CONFIGURATION_DOC_FOOTER,
    CONFIGURATION_DOC_HEADER,
    SETTINGS,
    Config,
    add_arguments,
    load_config,
    markdown_table,
)

# Libraries that report routine work at INFO: pgserver the whole initdb and pg_ctl transcript,
# httpx every request the gateway makes to a pod. That is DEBUG detail for us.
_CHATTY_LOGGERS = ("pgserver", "httpx")


class _DemoteInfo(logging.Filter):
    """Turns a library's INFO records into DEBUG ones; warnings and errors pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def _configure_logging(level: str) -> None:
    fmt = "%(asctime)s %(levelname)s %(name)s %(message)s"
    logging.basicConfig(level=level.upper(), format=fmt)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).addFilter(_DemoteInfo())


# Connections plus requests in flight on one gateway process before uvicorn answers 503.
_CONCURRENCY = 2000


def _serve(config: Config) -> None:
    import uvicorn

    from .gateway.app import create_app
    from .gateway.services import Services

    _configure_logging(config.log_level)
    cert, key = config.tls_cert or None, config.tls_key or None
    if config.tls_self_signed and not cert:
        from .gateway.tls import ensure_self_signed

        cert_path, key_path = ensure_self_signed(config.data_path)
        cert, key = str(cert_path), str(key_path)
    services = Services(config)
    app = create_app(config, services)
    scheme = "https" if config.tls else "http"
    url = f"{scheme}://{'localhost' if config.host in ('127.0.0.1', '0.0.0.0') else config.host}:{config.port}/"  # noqa: S104,E501

    context = reloader = None
    if cert and key:
        from .gateway.tls import CertificateReloader, server_context

        context = server_context(cert, key)
        reloader = CertificateReloader(context, cert, key)
    redirect = _redirect_server(config)

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and reloader is not None:
                # SIGHUP: the renewed certificate is read again; open connections stay.
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reloader.reload)
            if self.started and redirect is not None:
                self._redirect = asyncio.create_task(redirect.serve())
            if self.started:
                print(f"\n  IDE server ready at {url}", flush=True)
                if services.first_login:
                    user, password = services.first_login
                    print(f"  First login: {user} / {password}\n", flush=True)
                else:
                    print(
                        "  Log in with an existing account (`ide-server user add` creates one).\n",
                        flush=True,
                    )

        async def shutdown(self, sockets: Any = None) -> None:
            if redirect is not None:
                redirect.should_exit = True
            await super().shutdown(sockets)

    from .gateway.connections import MAX_HEAD_BYTES, HeaderLimits, guarded_protocol

    protocol = guarded_protocol(
        header_timeout=config.header_timeout, per_address=config.max_connections_per_address
    )
    server = Announcing(
        uvicorn.Config(
            HeaderLimits(app),
            # h11 (not httptools) so that a request head is bounded; see connections.py.
            http=protocol,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            limit_concurrency=_CONCURRENCY,
            host=config.host,
            port=config.port,
            ws_max_size=config.max_message_bytes,
            ws_per_message_deflate=config.ws_compression,
            ssl_certfile=cert,
            ssl_keyfile=key,
            ssl_context_factory=(lambda _config, _default: context) if context else None,
            log_level=config.log_level,
            proxy_headers=False,
            lifespan="on",
            ws_ping_interval=20,
            ws_ping_timeout=20,
            # SIGTERM: stop accepting, close WebSockets with 1012 (service restart), give
            # requests in flight this long, then run the lifespan's shutdown.
            timeout_graceful_shutdown=config.shutdown_grace,
        )
    )
    try:
        server.run()
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on Ctrl-C, then raises the signal again for the
        # caller: the shutdown is done, so leave without a traceback.
        pass


def _redirect_server(config: Config) -> Any:
    """The plain-HTTP listener of --http-redirect-port, or None."""
    if not config.http_redirect_port:
        return None
    import uvicorn

    from .gateway.tls import HttpsRedirect

    if not config.public_url and not config.tls:
        raise SystemExit("--http-redirect-port needs --public-url or TLS on the gateway")
    target = config.public_url or f"https://{config.host}:{config.port}"

    class Quiet(uvicorn.Server):
        # The gateway's server owns the signals; this one stops when it does.
        def capture_signals(self) -> Any:
            return contextlib.nullcontext()

    return Quiet(
        uvicorn.Config(
            HttpsRedirect(target),
            host=config.host,
            port=config.http_redirect_port,
            lifespan="off",
            log_level=config.log_level,
            proxy_headers=False,
            limit_concurrency=_CONCURRENCY,
        )
    )


async def _with_services(config: Config, action: Callable[[Any], Awaitable[None]]) -> None:
    from .gateway.services import Services

    services = Services(config.replace(demo=False))
    await services.start(manage_sessions=False)
    try:
        await action(services)
    finally:
        await services.stop()


def _run(config: Config, action: Callable[[Any], Awaitable[None]]) -> None:
    asyncio.run(_with_services(config, action))


def cli_actor() -> str:
    """Who the audit log names for a command run here: ``cli:<OS user>`` (no account name
    can contain a colon, so it is never taken for one)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a bare container)
        import os

        return f"cli:uid-{os.getuid()}"


def _password(args: argparse.Namespace) -> str:
    return args.password or getpass.getpass(f"Password for {args.username}: ")


def _print_rows(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    widths = [max([len(c)] + [len(str(r[c])) for r in rows]) for c in columns]
    for line in [dict(zip(columns, columns, strict=True)), *rows]:
        print("  ".join(str(line[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))


async def _user_add(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    await admin.create_user(
        services,
        args.username,
        _password(args),
        is_admin=args.admin,
        email=args.email or "",
        display_name=args.display_name or "",
        actor=cli_actor(),
    )
    print(f"created user {args.username}")


async def _user_admin(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    await admin.set_admin(services, args.username, args.grant, cli_actor())
    print(f"{args.username} is {'an admin' if args.grant else 'no longer an admin'}")


async def _user_list(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    _print_rows(
        await admin.list_users(services),
        ("username", "is_admin", "disabled", "sso", "break_glass", "email"),
    )


async def _user_disable(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    result = await admin.disable_user(services, args.username, cli_actor())
    print(
        f"disabled {args.username}: {result['logins_ended']} login(s) ended, "
        f"{result['sessions_stopped']} session(s) stopped, volumes kept"
    )


async def _user_remove(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    try:
        result = await admin.remove_user(
            services, args.username, delete_volumes=args.delete_volumes, actor=cli_actor()
        )
    except admin.StoreUnreachable as exc:
        raise SystemExit(str(exc)) from None
    fate = "deleted" if args.delete_volumes else "kept"
    print(
        f"removed {args.username}: {result['sessions_stopped']} session(s) stopped, "
        f"{result['invocations_removed']} dbt invocation(s) removed, "
        f"{len(result['volumes'])} volume(s) {fate}"
    )


async def _user_enable(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    await admin.enable_user(services, args.username, cli_actor())
    print(f"enabled {args.username}")


async def _user_passwd(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    result = await admin.reset_password(services, args.username, _password(args), cli_actor())
    print(f"password of {args.username} set; {result['logins_ended']} login(s) ended")


async def _user_break_glass(services: Any, args: argparse.Namespace) -> None:
    from .gateway.break_glass import set_break_glass

    await set_break_glass(services, args.username, args.state == "on", cli_actor())
    print(f"break-glass {args.state} for {args.username}")


async def _project_add(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin_projects

    token = _secret("Deploy token: ") if args.deploy_token_stdin else ""
    await admin_projects.add_project(
        services,
        args.name,
        args.git_url,
        args.default_branch,
        deploy_token=token,
        check_remote=not args.skip_remote_check,
        actor=cli_actor(),
    )
    print(f"created project {args.name}")


async def _project_edit(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin_projects

    view = await admin_projects.edit_project(
        services,
        args.name,
        git_url=args.git_url,
        default_branch=args.default_branch,
        actor=cli_actor(),
    )
    print(f"project {args.name}: {view['git_url']} ({view['default_branch']})")


async def _project_deploy_token(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin_projects

    if args.remove:
        await admin_projects.delete_deploy_token(services, args.name, cli_actor())
        print(f"deploy token of {args.name} removed")
        return
    result = await admin_projects.set_deploy_token(
        services, args.name, _secret("Deploy token: "), cli_actor()
    )
    print(f"deploy token of {args.name} set ({result['hint']})")


def _secret(prompt: str) -> str:
    """A secret from the terminal, or from stdin when it is not one: never an argument."""
    value = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline()
    value = value.strip()
    if not value:
        from .gateway.accounts import AccountError

        raise AccountError("no token given")
    return value


async def _project_list(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    _print_rows(
        await admin.list_projects(services), ("name", "default_branch", "members", "git_url")
    )


async def _project_remove(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    result = await admin.remove_project(
        services, args.name, delete_volumes=args.delete_volumes, actor=cli_actor()
    )
    fate = "deleted" if args.delete_volumes else "kept"
    print(
        f"removed project {args.name}: {result['sessions_stopped']} session(s) stopped, "
        f"{len(result['volumes'])} volume(s) {fate}"
    )


def _volume_fate(parser: argparse.ArgumentParser) -> None:
    fate = parser.add_mutually_exclusive_group(required=True)
    fate.add_argument("--keep-volumes", action="store_false", dest="delete_volumes")
    fate.add_argument("--delete-volumes", action="store_true", dest="delete_volumes")


def _connection_body(args: argparse.Namespace) -> dict[str, Any]:
    if args.type == "duckdb":
        attach = []
        for spec in args.attach or []:
            path, _, alias = spec.partition("=")
            attach.append({"path": path, "read_only": True, **({"alias": alias} if alias else {})})
        return {"type": "duckdb", "attach": attach}
    body = {
        "type": "postgres",
        "host": args.host,
        "port": args.port,
        "database": args.database,
        "sslmode": args.sslmode,
    }
    return {k: v for k, v in body.items() if v is not None}


async def _project_git_provider(services: Any, args: argparse.Namespace) -> None:
    import json

    from .gateway import git_provider
    from .gateway.accounts import AccountError

    if args.clear:
        await git_provider.clear_git_provider(services, args.name, cli_actor())
        print(f"{args.name}: the provider is guessed from the remote's host name again")
    elif args.kind is None:  # show it
        project = await services.accounts.project_by_name(args.name)
        if project is None:
            raise AccountError(f"no project {args.name!r}")
        setting = await services.git_providers.get(project.id)
        print(json.dumps(setting) if setting else f"{args.name}: guessed from the host name")
        return
    else:
        body = {"kind": args.kind, **({"web_url": args.web_url} if args.web_url else {})}
        setting = await git_provider.set_git_provider(services, args.name, body, cli_actor())
        print(f"git provider of {args.name} set: {json.dumps(setting)}")
    print("sessions started from now on use it; running ones keep theirs until restarted")


async def _project_connection(services: Any, args: argparse.Namespace) -> None:
    import json

    from .gateway import admin
    from .gateway.accounts import AccountError
    from .gateway.warehouse_config import NO_CONNECTION, InvalidSettings

    if args.remove:
        if args.type is not None:
            raise AccountError("--remove takes no other option")
        removed = await admin.remove_connection(services, args.name, cli_actor())
        print(f"connection of {args.name} removed" if removed else f"{args.name}: {NO_CONNECTION}")
        return
    if args.type is None:  # show it
        project = await services.accounts.project_by_name(args.name)
        if project is None:
            raise AccountError(f"no project {args.name!r}")
        connection = await services.warehouses.connection(project.id)
        print(json.dumps(connection) if connection else f"{args.name}: {NO_CONNECTION}")
        return
    try:
        connection = await admin.set_connection(
            services, args.name, _connection_body(args), cli_actor()
        )
    except InvalidSettings as exc:
        raise AccountError(str(exc)) from None
    print(f"connection of {args.name} set: {json.dumps(connection)}")
    print("sessions started from now on use it; running ones keep theirs until restarted")


async def _member_add(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    await admin.add_member(services, args.project, args.username, args.role, cli_actor())
    print(f"{args.username} is {args.role} on {args.project}")


async def _member_list(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    _print_rows(await admin.list_members(services, args.project), ("username", "role"))


async def _member_role(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    result = await admin.set_role(services, args.project, args.username, args.role, cli_actor())
    print(f"{args.username} is {args.role} on {args.project} (was {result['previous_role']})")


async def _member_remove(services: Any, args: argparse.Namespace) -> None:
    from .gateway import admin

    result = await admin.remove_member(services, args.project, args.username, cli_actor())
    print(
        f"{args.username} removed from {args.project}; "
        f"{result['sessions_stopped']} session(s) stopped"
    )


async def _session_list(services: Any, args: argparse.Namespace) -> None:
    from session_manager.states import State

    live = (State.PENDING, State.STARTING, State.READY, State.STOPPING)
    rows = [
        {"id": r.id, "user": r.username, "project": r.project, "state": r.state.value,
         "created_at": r.created_at.isoformat(timespec="seconds")}
        for r in await services.store.list(states=live)
    ]  # fmt: skip
    _print_rows(rows, ("id", "user", "project", "state", "created_at"))


async def _session_stop(services: Any, args: argparse.Namespace) -> None:
    from .gateway import audit
    from .gateway.accounts import AccountNotFound

    row = await services.store.get(args.session_id)
    if row is None:
        raise AccountNotFound(f"no session {args.session_id!r}")
    await audit.record(services.db, cli_actor(), "session.stop", session=row.id, owner=row.username)
    await services.manager.stop_session(row.id, reason="stopped by an admin")
    print(f"stopped session {row.id} of {row.username} on {row.project}; volume kept")


async def _audit_list(services: Any, args: argparse.Namespace) -> None:
    from datetime import datetime

    from .gateway import audit

    rows = await audit.query(
        services.db,
        actor=args.actor,
        action=args.action_filter,
        since=datetime.fromisoformat(args.since) if args.since else None,
        until=datetime.fromisoformat(args.until) if args.until else None,
        limit=args.limit,
    )
    for r in rows:
        r["actor"] = r["actor"] or "(cli)"
    _print_rows(rows, ("at", "actor", "action", "detail"))


_ACTIONS: dict[tuple[str, str], Callable[[Any, argparse.Namespace], Awaitable[None]]] = {
    ("user", "add"): _user_add,
    ("user", "list"): _user_list,
    ("user", "admin"): _user_admin,
    ("user", "disable"): _user_disable,
    ("user", "enable"): _user_enable,
    ("user", "remove"): _user_remove,
    ("user", "passwd"): _user_passwd,
    ("user", "break-glass"): _user_break_glass,
    ("project", "add"): _project_add,
    ("project", "list"): _project_list,
    ("project", "edit"): _project_edit,
    ("project", "deploy-token"): _project_deploy_token,
    ("session", "list"): _session_list,
    ("session", "stop"): _session_stop,
    ("audit", "list"): _audit_list,
    ("project", "remove"): _project_remove,
    ("project", "connection"): _project_connection,
    ("project", "git-provider"): _project_git_provider,
    ("member", "add"): _member_add,
    ("member", "list"): _member_list,
    ("member", "role"): _member_role,
    ("member", "remove"): _member_remove,
}


def _rotate_secrets(config: Config, args: argparse.Namespace) -> None:
    async def action(services: Any) -> None:
        changed = await services.credentials.rotate_all()
        print(f"re-sealed {changed} secret(s) under key {services.secret_box.current_key_id}")

    asyncio.run(_with_services(config, action))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ide-server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the gateway")
    add_arguments(serve)
    commands.add_parser("settings", help="print the settings table as Markdown")

    subs: list[argparse.ArgumentParser] = []
    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    user_add = user.add_parser("add", help="create a local user")
    user_add.add_argument("username")
    user_add.add_argument("--password", help="(prompted if absent)")
    user_add.add_argument("--admin", action="store_true")
    user_add.add_argument("--email")
    user_add.add_argument("--display-name")
    subs += [user_add, user.add_parser("list", help="list users")]
    for name, text in (
        (
            "disable",
            "refuse the user's logins, end their logins and sockets, stop their pods "
            "(volumes are kept)",
        ),
        ("enable", "let a disabled user log in again"),
        ("passwd", "set a user's password; every login of theirs ends"),
    ):
        sub = user.add_parser(name, help=text)
        sub.add_argument("username")
        subs.append(sub)
    subs[-1].add_argument("--password", help="(prompted if absent)")
    user_remove = user.add_parser(
        "remove",
        help="remove a user entirely: logins, pods, roles, shares, credentials and dbt history "
        "(say what becomes of their volumes)",
    )
    user_remove.add_argument("username")
    _volume_fate(user_remove)
    subs.append(user_remove)
    break_glass = user.add_parser(
        "break-glass",
        help="let a local account log in with its password while IDE_AUTH_MODE=oidc "
        "(for when the identity provider is down); audited",
    )
    break_glass.add_argument("username")
    break_glass.add_argument("state", choices=["on", "off"])
    subs.append(break_glass)
    user_admin = user.add_parser("admin", help="make a user an admin, or take it back")
    user_admin.add_argument("username")
    grant = user_admin.add_mutually_exclusive_group(required=True)
    grant.add_argument("--grant", action="store_true", dest="grant")
    grant.add_argument("--revoke", action="store_false", dest="grant")
    subs.append(user_admin)

    project = commands.add_parser("project", help="manage projects").add_subparsers(
        dest="action", required=True
    )
    project_add = project.add_parser("add", help="register a project")
    project_add.add_argument("name")
    project_add.add_argument("git_url")
    project_add.add_argument(
        "--default-branch", default="main", help="must exist on the remote (checked)"
    )
    project_add.add_argument(
        "--deploy-token-stdin",
        action="store_true",
        help="read the project's deploy token from stdin (prompted on a terminal)",
    )
    project_add.add_argument(
        "--skip-remote-check",
        action="store_true",
        help="register the project without asking the remote for its branches",
    )
    project_edit = project.add_parser(
        "edit", help="change the git URL or default branch (checked against the remote)"
    )
    project_edit.add_argument("name")
    project_edit.add_argument("--git-url")
    project_edit.add_argument("--default-branch")
    deploy = project.add_parser(
        "deploy-token", help="set the deploy token (read from stdin) or --remove it"
    )
    deploy.add_argument("name")
    deploy.add_argument("--remove", action="store_true")
    subs += [project_edit, deploy]
    project_remove = project.add_parser(
        "remove", help="stop the project's sessions and delete it (say what becomes of volumes)"
    )
    project_remove.add_argument("name")
    _volume_fate(project_remove)
    connection = project.add_parser(
        "connection",
        help="show or set a project's warehouse connection (developers set their own "
        "credentials in the UI)",
    )
    connection.add_argument("name")
    connection.add_argument("--type", choices=["duckdb", "postgres"], help="(show it if absent)")
    connection.add_argument(
        "--attach",
        action="append",
        metavar="PATH[=ALIAS]",
        help="duckdb: a shared database file attached read-only (repeatable)",
    )
    connection.add_argument("--host", help="postgres: the server's host name")
    connection.add_argument("--port", type=int, help="postgres: its port (5432)")
    connection.add_argument("--database", help="postgres: the database")
    connection.add_argument("--sslmode", help="postgres: libpq's sslmode (e.g. require)")
    connection.add_argument(
        "--remove", action="store_true", help="remove the connection (previews and dbt stop)"
    )
    provider = project.add_parser(
        "git-provider",
        help="show or set the project's git hosting provider, for 'Open pull request' on a "
        "self-hosted GitHub, GitLab or Azure DevOps",
    )
    provider.add_argument("name")
    provider.add_argument("--kind", help="github, gitlab or azure (show the setting if absent)")
    provider.add_argument(
        "--web-url", help="the provider's https:// address, when not the git remote's host"
    )
    provider.add_argument(
        "--clear", action="store_true", help="guess from the remote's host name again"
    )
    subs += [
        project_add,
        project.add_parser("list", help="list projects"),
        project_remove,
        connection,
        provider,
    ]

    member = commands.add_parser("member", help="manage project roles").add_subparsers(
        dest="action", required=True
    )
    roles = ["admin", "developer", "read-only"]
    member_add = member.add_parser("add", help="give a user a role on a project")
    member_role = member.add_parser("role", help="change a member's role (open sockets follow)")
    member_remove = member.add_parser(
        "remove", help="take the project from a user: their sockets close, their pod stops"
    )
    member_list = member.add_parser("list", help="list a project's members")
    for sub in (member_add, member_role, member_remove, member_list):
        sub.add_argument("project")
        if sub is not member_list:
            sub.add_argument("username")
    for sub in (member_add, member_role):
        sub.add_argument("role", choices=roles)
    subs += [member_add, member_role, member_remove, member_list]

    session = commands.add_parser("session", help="live sessions").add_subparsers(
        dest="action", required=True
    )
    session_stop = session.add_parser("stop", help="stop a session (its volume is kept)")
    session_stop.add_argument("session_id")
    subs += [session.add_parser("list", help="list live sessions"), session_stop]

    audit_list = (
        commands.add_parser("audit", help="the audit log")
        .add_subparsers(dest="action", required=True)
        .add_parser("list", help="entries, newest first")
    )
    audit_list.add_argument("--actor")
    audit_list.add_argument("--action", dest="action_filter", help="an action, or 'user.' ...")
    audit_list.add_argument("--since", help="ISO 8601 time")
    audit_list.add_argument("--until", help="ISO 8601 time")
    audit_list.add_argument("--limit", type=int, default=100)
    subs.append(audit_list)

    secrets = commands.add_parser("secrets", help="manage the encryption of stored secrets")
    rotate = secrets.add_subparsers(dest="action", required=True).add_parser(
        "rotate",
        help="re-seal every stored secret under the current master key (the first key of "
        "IDE_SECRET_KEY); keep the old key listed until this has run",
    )

    for sub in (*subs, rotate):
        sub.add_argument("--data-dir", dest="data_dir")
        sub.add_argument("--database-url", dest="database_url")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    overrides = {s.name: getattr(args, s.name, None) for s in SETTINGS if hasattr(args, s.name)}
    config = load_config(overrides)
    from .gateway.accounts import AccountError

    try:
        if args.command == "serve":
            _serve(config)
        elif args.command == "settings":
            sys.stdout.write(CONFIGURATION_DOC_HEADER + markdown_table() + CONFIGURATION_DOC_FOOTER)
        elif (args.command, getattr(args, "action", None)) in _ACTIONS:
            handler = _ACTIONS[(args.command, args.action)]
            _run(config, lambda services: handler(services, args))
        elif args.command == "secrets":
            _rotate_secrets(config, args)
    except AccountError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
