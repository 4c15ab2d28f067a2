"""The IDE protocol as plain data, generated from the pod's method registry.

Do not edit: declare methods in ide_server/workspace (docs/protocol.md) and run
``uv run --frozen python -m ide_server.workspace.protocol_gen``. This module imports
nothing, so the gateway can read it without loading the pod.
"""

# Methods a read-only member may not call.
WRITE_METHODS: frozenset[str] = frozenset(
    {
        "dbt/cancel",
        "dbt/run",
        "fs/delete",
        "fs/mkdir",
        "fs/rename",
        "fs/write",
        "git/abort_merge",
        "git/cancel",
        "git/checkout",
        "git/commit",
        "git/create_branch",
        "git/discard",
        "git/fetch",
        "git/prune",
        "git/pull",
        "git/push",
        "git/resolve",
        "git/revert",
        "git/stage",
        "git/unstage",
    }
)

# method: (writes, the error codes it answers besides COMMON_ERRORS)
METHODS: dict[str, tuple[bool, tuple[int, ...]]] = {
    "dbt/cancel": (True, ()),
    "dbt/catalog": (False, (-32040, -32042, -32043)),
    "dbt/compile": (False, (-32002, -32003, -32040, -32042, -32043)),
    "dbt/history": (False, (-32042, -32043)),
    "dbt/lineage": (False, (-32002, -32003, -32040, -32042, -32043)),
    "dbt/run": (True, (-32004, -32041, -32042, -32043)),
    "fs/delete": (True, (-32002, -32003)),
    "fs/files": (False, ()),
    "fs/list": (False, (-32002, -32003)),
    "fs/mkdir": (True, (-32002, -32004)),
    "fs/read": (False, (-32002, -32003, -32005, -32008)),
    "fs/rename": (True, (-32002, -32003, -32004)),
    "fs/search": (False, ()),
    "fs/write": (True, (-32002, -32004, -32006, -32008)),
    "git/abort_merge": (True, (-32016, -32021, -32022)),
    "git/branches": (False, (-32016,)),
    "git/cancel": (True, ()),
    "git/checkout": (True, (-32003, -32013, -32016, -32021, -32022)),
    "git/commit": (True, (-32002, -32010, -32011, -32012, -32016, -32020, -32021)),
    "git/create_branch": (True, (-32003, -32004, -32010, -32013, -32016, -32021, -32022)),
    "git/diff": (False, (-32002, -32016)),
    "git/discard": (True, (-32002, -32016, -32021, -32022)),
    "git/fetch": (True, (-32015, -32016, -32017, -32018, -32019, -32021)),
    "git/log": (False, (-32002, -32003, -32016)),
    "git/prune": (True, (-32015, -32016, -32017, -32018, -32019, -32021)),
    "git/pull": (
        True,
        (-32003, -32010, -32013, -32015, -32016, -32017, -32018, -32019, -32020, -32021, -32022),
    ),
    "git/pull_request_url": (False, (-32016,)),
    "git/push": (True, (-32010, -32014, -32015, -32016, -32017, -32018, -32019, -32021)),
    "git/resolve": (True, (-32002, -32016, -32020, -32021)),
    "git/revert": (True, (-32003, -32010, -32011, -32013, -32016, -32020, -32021, -32022)),
    "git/show": (False, (-32003, -32016)),
    "git/stage": (True, (-32002, -32016, -32020, -32021)),
    "git/status": (False, (-32016,)),
    "git/unstage": (True, (-32002, -32016, -32021)),
    "query/cancel": (False, ()),
    "query/preview": (False, (-32002, -32004, -32030, -32040, -32042, -32043)),
    "session/heartbeat": (False, ()),
    "session/status": (False, ()),
}

# method: the lowest share mode (view < edit < full) a guest needs to call it.
GUEST_MODES: dict[str, str] = {
    "dbt/cancel": "full",
    "dbt/catalog": "full",
    "dbt/compile": "full",
    "dbt/history": "view",
    "dbt/lineage": "view",
    "dbt/run": "full",
    "fs/delete": "edit",
    "fs/list": "view",
    "fs/mkdir": "edit",
    "fs/read": "view",
    "fs/rename": "edit",
    "fs/write": "edit",
    "git/abort_merge": "full",
    "git/branches": "view",
    "git/cancel": "full",
    "git/checkout": "full",
    "git/commit": "full",
    "git/create_branch": "full",
    "git/diff": "view",
    "git/discard": "full",
    "git/fetch": "full",
    "git/log": "view",
    "git/prune": "full",
    "git/pull": "full",
    "git/push": "full",
    "git/resolve": "full",
    "git/revert": "full",
    "git/stage": "full",
    "git/status": "view",
    "git/unstage": "full",
    "query/cancel": "full",
    "query/preview": "full",
    "session/heartbeat": "view",
    "session/status": "view",
}

NOTIFICATIONS: frozenset[str] = frozenset(
    {
        "dbt/done",
        "dbt/log",
        "dbt/node",
        "fs/changed",
        "git/changed",
        "git/progress",
        "query/columns",
        "query/done",
        "query/error",
        "query/rows",
    }
)

# code: (name, meaning)
ERRORS: dict[int, tuple[str, str]] = {
    -32700: ("parse_error", "the message is not valid JSON"),
    -32600: ("invalid_request", "not a JSON-RPC 2.0 request object"),
    -32601: ("method_not_found", "unknown method"),
    -32602: ("invalid_params", "missing, unknown or mistyped params"),
    -32603: ("internal_error", "the method failed on the server (details in the pod log)"),
    -32001: ("forbidden", "the caller's role or share mode does not allow the method"),
    -32002: ("invalid_path", "the path is outside the project or hidden"),
    -32003: ("not_found", "not found"),
    -32004: ("already_exists", "already exists"),
    -32005: ("not_text", "not a UTF-8 text file (or too large to edit)"),
    -32006: ("conflict", "the file changed since the caller read it"),
    -32007: ("unavailable", "a dependency did not answer, or too many calls are in flight"),
    -32008: ("too_large", "larger than a document can be and still be opened in the editor"),
    -32010: ("protected_branch", "the protected primary branch only follows the remote's"),
    -32011: ("nothing_to_commit", "nothing to commit"),
    -32012: ("empty_message", "empty commit message"),
    -32013: ("uncommitted_changes", "the operation would overwrite uncommitted changes"),
    -32014: ("push_rejected", "the remote branch has commits you lack"),
    -32015: ("auth_failed", "the remote refused the credentials"),
    -32016: ("wrong_state", "detached HEAD, a merge in progress or none, not a checkout"),
    -32017: ("cancelled", "cancelled with git/cancel; nothing was changed"),
    -32018: ("certificate", "the remote's TLS certificate is not trusted"),
    -32019: ("remote_refused", "the remote URL is refused by policy"),
    -32020: ("unresolved_conflicts", "unresolved merge conflicts"),
    -32021: ("busy", "another git operation is running"),
    -32022: ("reserved_paths", "the commit tracks paths the IDE reserves (.ide/, .git/)"),
    -32030: ("sql_refused", "the SQL does not parse or is not exactly one read statement"),
    -32040: ("compile_error", "dbt could not compile the node or SQL; data.path and data.line"),
    -32041: ("dbt_busy", "another dbt command that writes is running"),
    -32042: ("not_dbt_project", "the project has no dbt_project.yml"),
    -32043: ("no_warehouse", "the project has no warehouse connection (an admin sets it)"),
}

# Codes any method may answer.
COMMON_ERRORS: tuple[int, ...] = (-32700, -32600, -32601, -32602, -32603, -32007)
