"""The ``ide-server`` command: serve, and manage users and projects."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
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

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
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

    server = Announcing(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            ws_max_size=config.max_message_bytes,
            ssl_certfile=cert,
            ssl_keyfile=key,
            log_level=config.log_level,
            proxy_headers=False,
            lifespan="on",
            ws_ping_interval=20,
            ws_ping_timeout=20,
        )
    )
    try:
        server.run()
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on Ctrl-C, then raises the signal again for the
        # caller: the shutdown is done, so leave without a traceback.
        pass


async def _with_services(config: Config, action: Callable[[Any], Awaitable[None]]) -> None:
    from .gateway.services import Services

    services = Services(config.replace(demo=False))
    await services.start(manage_sessions=False)
    try:
        await action(services)
    finally:
        await services.stop()


def _user_add(config: Config, args: argparse.Namespace) -> None:
    password = args.password or getpass.getpass(f"Password for {args.username}: ")

    async def action(services: Any) -> None:
        await services.accounts.create_user(
            args.username,
            password,
            is_admin=args.admin,
            email=args.email or "",
            display_name=args.display_name or "",
        )
        print(f"created user {args.username}")

    asyncio.run(_with_services(config, action))


def _project_add(config: Config, args: argparse.Namespace) -> None:
    async def action(services: Any) -> None:
        await services.accounts.create_project(args.name, args.git_url, args.default_branch)
        print(f"created project {args.name}")

    asyncio.run(_with_services(config, action))


def _member_add(config: Config, args: argparse.Namespace) -> None:
    async def action(services: Any) -> None:
        await services.accounts.add_member(args.project, args.username, args.role)
        print(f"{args.username} is {args.role} on {args.project}")

    asyncio.run(_with_services(config, action))


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

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    user_add = user.add_parser("add", help="create a local user")
    user_add.add_argument("username")
    user_add.add_argument("--password", help="(prompted if absent)")
    user_add.add_argument("--admin", action="store_true")
    user_add.add_argument("--email")
    user_add.add_argument("--display-name")

    project = commands.add_parser("project", help="manage projects").add_subparsers(
        dest="action", required=True
    )
    project_add = project.add_parser("add", help="register a project")
    project_add.add_argument("name")
    project_add.add_argument("git_url")
    project_add.add_argument("--default-branch", default="main")

    member = commands.add_parser("member", help="manage project roles").add_subparsers(
        dest="action", required=True
    )
    member_add = member.add_parser("add", help="give a user a role on a project")
    member_add.add_argument("project")
    member_add.add_argument("username")
    member_add.add_argument("role", choices=["admin", "developer", "read-only"])

    secrets = commands.add_parser("secrets", help="manage the encryption of stored secrets")
    rotate = secrets.add_subparsers(dest="action", required=True).add_parser(
        "rotate",
        help="re-seal every stored secret under the current master key (the first key of "
        "IDE_SECRET_KEY); keep the old key listed until this has run",
    )

    for sub in (user_add, project_add, member_add, rotate):
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
        elif args.command == "user":
            _user_add(config, args)
        elif args.command == "project":
            _project_add(config, args)
        elif args.command == "member":
            _member_add(config, args)
        elif args.command == "secrets":
            _rotate_secrets(config, args)
    except AccountError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
