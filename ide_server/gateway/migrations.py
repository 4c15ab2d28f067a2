"""Schema migrations, applied in order at start; append, never edit a released one."""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        id bigserial PRIMARY KEY,
        username text NOT NULL UNIQUE,
        password_hash text,
        display_name text NOT NULL DEFAULT '',
        email text NOT NULL DEFAULT '',
        is_admin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE login_sessions (
        token_hash bytea PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
    );
    CREATE INDEX login_sessions_user ON login_sessions(user_id);
    CREATE TABLE projects (
        id bigserial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        git_url text NOT NULL,
        default_branch text NOT NULL DEFAULT 'main',
        protect_default_branch boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE project_members (
        project_id bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('admin', 'developer', 'read-only')),
        PRIMARY KEY (project_id, user_id)
    );
    CREATE TABLE sessions (
        id text PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        project_id bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        backend text NOT NULL,
        state text NOT NULL CHECK (
            state IN ('pending', 'starting', 'ready', 'stopping', 'stopped', 'failed')),
        reason text,
        progress text NOT NULL DEFAULT '',
        endpoint text,
        pod_token text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        ready_at timestamptz,
        last_activity timestamptz NOT NULL DEFAULT now(),
        stopped_at timestamptz
    );
    -- At most one live session per (user, project): concurrent opens converge on one pod.
    CREATE UNIQUE INDEX sessions_one_live ON sessions(user_id, project_id)
        WHERE state IN ('pending', 'starting', 'ready', 'stopping');
    CREATE INDEX sessions_state ON sessions(state);
    CREATE TABLE secrets (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        user_id bigint REFERENCES users(id) ON DELETE CASCADE,
        project_id bigint REFERENCES projects(id) ON DELETE CASCADE,
        value text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX secrets_owner ON secrets(
        kind, coalesce(user_id, 0), coalesce(project_id, 0));
    CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text,
        action text NOT NULL,
        detail jsonb NOT NULL DEFAULT '{}'
    );
    """,
    """
    CREATE INDEX audit_log_actor_action_at ON audit_log(actor, action, at);
    """,
    """
    -- A disabled user cannot log in; their logins, sockets and pods are ended.
    ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;
    -- Login attempts counted per key ('pair:<address> <user>', 'address:<address>') in a
    -- fixed window; a row is locked while an attempt is counted, so replicas agree.
    CREATE TABLE login_throttle (
        key text PRIMARY KEY,
        window_start timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0
    );
    """,
    """
    -- Pairing (issue 12): a session shared with project members. Keyed on the owner's
    -- (user, project), not on a session row, so a share outlives the pod and its row.
    CREATE TABLE session_shares (
        owner_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        project_id bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        guest_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        mode text NOT NULL CHECK (mode IN ('view', 'edit', 'full')),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (owner_id, project_id, guest_id),
        CHECK (guest_id <> owner_id)
    );
    CREATE INDEX session_shares_guest ON session_shares(guest_id);
    -- Invite links: only the SHA-256 of the code is kept; a code is accepted once.
    CREATE TABLE session_invites (
        code_hash bytea PRIMARY KEY,
        owner_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        project_id bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        mode text NOT NULL CHECK (mode IN ('view', 'edit', 'full')),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        accepted_by bigint REFERENCES users(id) ON DELETE SET NULL,
        accepted_at timestamptz
    );
    CREATE INDEX session_invites_owner ON session_invites(owner_id, project_id);
    -- Leaving a project ends one's shares there, as guest and as owner, however the
    -- membership is removed (API, CLI or SQL): coming back does not revive them.
    CREATE FUNCTION end_shares_of_former_member() RETURNS trigger AS $$
    BEGIN
        DELETE FROM session_shares WHERE project_id = OLD.project_id
            AND (guest_id = OLD.user_id OR owner_id = OLD.user_id);
        DELETE FROM session_invites WHERE project_id = OLD.project_id
            AND owner_id = OLD.user_id;
        RETURN OLD;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER project_members_end_shares AFTER DELETE ON project_members
        FOR EACH ROW EXECUTE FUNCTION end_shares_of_former_member();
    """,
    """
    -- Each project's warehouse connection (type and non-secret settings, set by admins),
    -- and each developer's development credentials for it; the password is not here but
    -- a sealed row of `secrets` (kind warehouse_password, with user_id and project_id).
    CREATE TABLE project_connections (
        project_id bigint PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
        settings jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text
    );
    CREATE TABLE dev_credentials (
        project_id bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        settings jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, user_id)
    );
    """,
    """
    -- The history of dbt invocations (docs/dbt.md): one row per invocation of a user's
    -- session, written by the gateway as it collects them from the pods; the debug log and
    -- artifacts are objects in the object store (object_keys: file name -> key).
    CREATE TABLE dbt_invocations (
        id bigserial PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        project_id bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        invocation_id text NOT NULL,
        session_id text,
        run_by text,
        command text NOT NULL,
        args jsonb NOT NULL DEFAULT '[]',
        branch text,
        commit text,
        started_at timestamptz NOT NULL,
        elapsed_ms double precision,
        status text NOT NULL,
        counts jsonb NOT NULL DEFAULT '{}',
        object_keys jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, project_id, invocation_id)
    );
    CREATE INDEX dbt_invocations_newest ON dbt_invocations(project_id, user_id, started_at DESC);
    CREATE INDEX dbt_invocations_id ON dbt_invocations(invocation_id);
    -- The collector's sweep of rows left running by sessions that are gone.
    CREATE INDEX dbt_invocations_running ON dbt_invocations(session_id)
        WHERE status = 'running';
    """,
    """
    -- Single sign-on (oidc.py): a user signs in through the provider as (issuer, subject),
    -- never matched by email. Break-glass accounts keep local logins in `oidc` mode.
    ALTER TABLE users ADD COLUMN break_glass boolean NOT NULL DEFAULT false;
    -- Memberships the groups claim granted, which the next login may take back.
    ALTER TABLE project_members ADD COLUMN from_groups boolean NOT NULL DEFAULT false;
    CREATE TABLE user_identities (
        issuer text NOT NULL,
        subject text NOT NULL,
        user_id bigint NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (issuer, subject)
    );
    -- A login in progress: the state (hashed), bound to the browser by a cookie (hashed),
    -- with its nonce and PKCE verifier; used once.
    CREATE TABLE oidc_pending (
        state_hash bytea PRIMARY KEY,
        browser_hash bytea NOT NULL,
        nonce text NOT NULL,
        code_verifier text NOT NULL,
        next_path text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    -- The provider's tokens of one SSO login (sealed), checked again every refresh interval.
    CREATE TABLE oidc_logins (
        token_hash bytea PRIMARY KEY REFERENCES login_sessions(token_hash) ON DELETE CASCADE,
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        sid text,
        tokens text NOT NULL,
        checked_at timestamptz NOT NULL DEFAULT now(),
        failing_since timestamptz,
        claimed_until timestamptz
    );
    CREATE INDEX oidc_logins_user ON oidc_logins(user_id);
    CREATE INDEX oidc_logins_checked ON oidc_logins(checked_at);
    -- Back-channel logout tokens seen (jti), so a replayed one is refused.
    CREATE TABLE oidc_seen_logout_tokens (
        issuer text NOT NULL,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (issuer, jti)
    );
    """,
    """
    -- A project's git hosting provider (git_provider.py), for "Open pull request" on a
    -- self-hosted instance whose host name does not say which it is. No row: guessed.
    CREATE TABLE project_git_providers (
        project_id bigint PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('github', 'gitlab', 'azure')),
        web_url text,
        updated_by text,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    """,
)
