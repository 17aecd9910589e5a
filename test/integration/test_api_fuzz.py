"""schemathesis fuzzes every /agentrt/* operation of the live server's OpenAPI document, with
schema-valid and schema-violating requests: no answer may be a 5xx, the server stays up and the
tree intact. The number of cases per status is printed (run with -s to see it)."""
import collections
import os

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

EXAMPLES = int(os.environ.get("AGENTRT_FUZZ_EXAMPLES", "25"))   # per operation and mode


def _fuzz(operation, mode, url, statuses, failures):
    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(base_url=url, timeout=120)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append((case.method, case.formatted_path, case.query, case.body,
                             response.status_code, response.text[:300]))
    try:
        run()
    except Unsatisfiable:   # nothing to violate: an operation without parameters or body
        assert mode is GenerationMode.NEGATIVE


def test_agentrt_routes_never_answer_5xx(url):
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json").include(path_regex="^/agentrt/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]
    statuses, failures = collections.Counter(), []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, url, statuses, failures)
    print(f"\nfuzzed {len(operations)} operations: {sum(statuses.values())} cases, "
          f"by status {dict(sorted(statuses.items()))}")
    assert failures == [], "\n".join(map(repr, failures))
    assert sum(statuses.values()) >= len(operations) * 5
    assert requests.get(url + "/health", timeout=30).status_code == 200
    assert requests.get(url + "/agentrt/radix/integrity", timeout=60).json() == {"ok": True}
