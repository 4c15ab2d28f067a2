"""The "open pull request" page for each provider's remote URL forms."""

from __future__ import annotations

import pytest

from ide_server.workspace.git.pullrequest import pull_request_url


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
