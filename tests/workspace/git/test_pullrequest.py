"""The "open pull request" page for each provider's remote URL forms."""

from __future__ import annotations

import dataclasses

import pytest

from ide_server.workspace.git.pullrequest import pull_request_url

from .conftest import make_context


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        (
            "https://github.com/acme/analytics.git",
            "https://github.com/acme/analytics/compare/main...feat/x?expand=1",
        ),
        (
            "git@github.com:acme/analytics.git",
            "https://github.com/acme/analytics/compare/main...feat/x?expand=1",
        ),
        (
            "https://x-token:SECRET@github.example.com/acme/analytics",
            "https://github.example.com/acme/analytics/compare/main...feat/x?expand=1",
        ),
        (
            "https://gitlab.com/group/sub/analytics.git",
            "https://gitlab.com/group/sub/analytics/-/merge_requests/new?"
            "merge_request%5Bsource_branch%5D=feat/x&merge_request%5Btarget_branch%5D=main",
        ),
        (
            "ssh://git@gitlab.internal:2222/data/analytics.git",
            "https://gitlab.internal/data/analytics/-/merge_requests/new?"
            "merge_request%5Bsource_branch%5D=feat/x&merge_request%5Btarget_branch%5D=main",
        ),
        (
            "https://acme@dev.azure.com/acme/Data/_git/analytics",
            "https://dev.azure.com/acme/Data/_git/analytics/pullrequestcreate?"
            "sourceRef=feat/x&targetRef=main",
        ),
        (
            "git@ssh.dev.azure.com:v3/acme/Data/analytics",
            "https://dev.azure.com/acme/Data/_git/analytics/pullrequestcreate?"
            "sourceRef=feat/x&targetRef=main",
        ),
        (
            "https://tfs.acme.local/Collection/Data/_git/analytics",
            "https://tfs.acme.local/Collection/Data/_git/analytics/pullrequestcreate?"
            "sourceRef=feat/x&targetRef=main",
        ),
    ],
)
def test_compare_urls(remote: str, expected: str) -> None:
    url, _ = pull_request_url(remote, "feat/x", "main")
    assert url == expected
    assert "SECRET" not in (url or "")


def test_unknown_hosts_and_odd_branch_names() -> None:
    assert pull_request_url("https://git.example.com/acme/analytics.git", "x", "main") == (
        None,
        None,
    )
    assert pull_request_url("/srv/git/demo.git", "x", "main") == (None, None)
    url, provider = pull_request_url("https://github.com/a/b", "fix #1&more", "main")
    assert (
        provider == "github"
        and url == "https://github.com/a/b/compare/main...fix%20%231%26more?expand=1"
    )


SELF_HOSTED = "https://git.example.internal/data/analytics.git"


def test_a_self_hosted_host_gives_no_link_without_the_project_setting() -> None:
    assert pull_request_url(SELF_HOSTED, "feat/x", "main") == (None, None)
    assert pull_request_url(SELF_HOSTED, "feat/x", "main", provider="bitbucket") == (None, None)


@pytest.mark.parametrize(
    ("provider", "web_url", "expected"),
    [
        (
            "gitlab",
            "",
            "https://git.example.internal/data/analytics/-/merge_requests/new?"
            "merge_request%5Bsource_branch%5D=feat/x&merge_request%5Btarget_branch%5D=main",
        ),
        (
            "github",
            "https://github.example.com/",
            "https://github.example.com/data/analytics/compare/main...feat/x?expand=1",
        ),
        (
            "azure",
            "https://devops.example.com/tfs/Collection",
            "https://devops.example.com/tfs/Collection/data/analytics/pullrequestcreate?"
            "sourceRef=feat/x&targetRef=main",
        ),
    ],
)
def test_the_project_setting_names_the_provider_and_web_base(
    provider: str, web_url: str, expected: str
) -> None:
    url, kind = pull_request_url(SELF_HOSTED, "feat/x", "main", provider=provider, web_url=web_url)
    assert (url, kind) == (expected, provider)


def test_the_setting_overrides_a_guess_from_the_host_name() -> None:
    url, kind = pull_request_url(
        "https://gitlab.example.com/a/b.git", "x", "main", provider="github"
    )
    assert kind == "github" and url == "https://gitlab.example.com/a/b/compare/main...x?expand=1"


async def test_git_pull_request_url_follows_the_pods_project_setting(ctx) -> None:
    await ctx.ok("git/create_branch", {"name": "feat/x"})
    config = dataclasses.replace(ctx.workspace.config, git_url=SELF_HOSTED)
    unset = await make_context(config).ok("git/pull_request_url")
    assert (unset["url"], unset["provider"]) == (None, None)
    azure = dataclasses.replace(
        config, git_provider="azure", git_web_url="https://devops.example.com/tfs/Collection"
    )
    answer = await make_context(azure).ok("git/pull_request_url")
    assert answer == {
        "url": "https://devops.example.com/tfs/Collection/data/analytics/pullrequestcreate?"
        "sourceRef=feat/x&targetRef=main",
        "provider": "azure",
        "branch": "feat/x",
        "base": "main",
    }
