"""HTTPS remotes: verified against a configured CA bundle; never without verification."""

from __future__ import annotations

import pytest

from ide_server.workspace.clone import ensure_checkout
from ide_server.workspace.git import errors
from ide_server.workspace.git.credentials import configure_tls
from ide_server.workspace.rpc import RpcError

from .conftest import TOKEN, make_context, make_remote, pod_config
from .remote_server import GitHttpServer, make_test_ca


@pytest.fixture(scope="module")
def trusted_ca(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("trusted-ca"), "IDE trusted test CA")


@pytest.fixture(scope="module")
def untrusted_ca(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("untrusted-ca"), "IDE untrusted test CA")


def https_server(root, ca) -> GitHttpServer:
    make_remote(root)
    return GitHttpServer(root, token=TOKEN, tls=ca.server_context).start()


async def test_untrusted_certificate_is_refused(tmp_path, untrusted_ca, trusted_ca):
    configure_tls(str(trusted_ca.ca_file))  # another CA being trusted changes nothing
    server = https_server(tmp_path / "served", untrusted_ca)
    try:
        config = pod_config(tmp_path / "vol", server.url("project.git"), token=TOKEN)
        with pytest.raises(RpcError) as raised:
            ensure_checkout(config)
        assert raised.value.code == errors.CERTIFICATE
        assert "IDE_POD_GIT_CA_BUNDLE" in raised.value.message
        assert not (tmp_path / "vol").exists()
        # No request got far enough to carry the token.
        assert all(r.authorization is None for r in server.requests)
    finally:
        server.stop()


async def test_clone_pull_push_over_https_with_a_ca_bundle(tmp_path, trusted_ca, monkeypatch):
    monkeypatch.setenv("IDE_POD_GIT_CA_BUNDLE", str(trusted_ca.ca_file))
    server = https_server(tmp_path / "served", trusted_ca)
    try:
        config = pod_config(tmp_path / "vol", server.url("project.git"), token=TOKEN)
        ensure_checkout(config)  # reads the bundle from the environment
        ctx = make_context(config)
        await ctx.ok("git/create_branch", {"name": "tls"})
        (config.root / "models" / "orders.sql").write_text("select 'over tls'\n")
        await ctx.ok("git/commit", {"message": "over tls"})
        pushed = await ctx.ok("git/push")
        assert pushed["remote_branch"] == "origin/tls"
        assert (await ctx.ok("git/pull"))["outcome"] == "up-to-date"
        assert any(r.authorization for r in server.requests)
    finally:
        server.stop()


def test_missing_ca_bundle_fails_loudly(tmp_path):
    with pytest.raises(FileNotFoundError):
        configure_tls(str(tmp_path / "missing.pem"))
