"""The pod's start path leaves jsonschema's slowest format libraries unimported, and the
checks they back still refuse what they refused before, importing the library on first use.
sqlglot (the preview guard) and ipykernel (the SQL kernel's own process) are not imported by
the pod's server before its first preview either."""

from __future__ import annotations

from tests.support.probe import run_probe

PROBE = r"""
import json, sys
from ide_server.workspace.launch import defer
defer()
import ide_server.workspace.pod_server, ide_server.workspace.extension
import jupyter_server.serverapp
import jsonschema
slow = ("rfc3987_syntax", "lark", "isoduration", "arrow", "rfc3986_validator",
        "rfc3339_validator", "sqlglot", "ipykernel")
started = sorted(m for m in slow if m in sys.modules
                 and getattr(sys.modules[m], "__file__", None))
check = jsonschema.Draft202012Validator.FORMAT_CHECKER
def errors(fmt, value):
    schema = {"type": "string", "format": fmt}
    validator = jsonschema.Draft202012Validator(schema, format_checker=check)
    return len(list(validator.iter_errors(value)))
result = {
    "imported_at_start": started,
    "bad_iri": errors("iri", "http://[not-an-ip"),
    "good_iri": errors("iri", "https://example.com/r\u00e9sum\u00e9"),
    "bad_iri_reference": errors("iri-reference", "\\\\bad"),
    "bad_duration": errors("duration", "PXYZ"),
    "good_duration": errors("duration", "P1DT2H"),
    "bad_uri": errors("uri", "no scheme here"),
    "good_uri": errors("uri", "https://example.com/a?b=c"),
    "bad_date_time": errors("date-time", "2026-13-45T99:00:00Z"),
    "good_date_time": errors("date-time", "2026-12-02T21:30:00Z"),
}
import rfc3987_syntax, isoduration, rfc3986_validator, rfc3339_validator
modules = (rfc3987_syntax, isoduration, rfc3986_validator, rfc3339_validator)
result["real_after_use"] = [bool(getattr(m, "__file__", None)) for m in modules]
print(json.dumps(result))
"""


def test_start_path_defers_the_slow_format_libraries_and_keeps_their_checks() -> None:
    result = run_probe(PROBE)
    assert result["imported_at_start"] == []
    assert result["bad_iri"] == 1
    assert result["good_iri"] == 0
    assert result["bad_iri_reference"] == 1
    assert result["bad_duration"] == 1
    assert result["good_duration"] == 0
    assert result["bad_uri"] == 1
    assert result["good_uri"] == 0
    assert result["bad_date_time"] == 1
    assert result["good_date_time"] == 0
    assert result["real_after_use"] == [True, True, True, True]
