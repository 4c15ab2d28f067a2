"""dbt in the session pod: a warm worker for reads, one process per command for writes.

Modules: :mod:`.profiles` (the generated profile), :mod:`.commands` (the allow-list),
:mod:`.reader` / :mod:`.writer` (the dbt processes), :mod:`.channel` and :mod:`.events`
(what they send), :mod:`.devdb` (previews on a DuckDB dev database), :mod:`.processes`,
:mod:`.invocations` and :mod:`.service` (the pod's side), :mod:`.methods` and
:mod:`.previews` (the protocol). Importing this package imports no dbt code: the pod
loads dbt only inside the processes it starts.
"""
