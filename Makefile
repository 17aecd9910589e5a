# agentrt: the two commands the README opens with are `make demo` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST := $(PY) -m pytest -p no:cacheprovider

.PHONY: setup demo test test-unit test-integration test-e2e bench bench-interference bench-kernels bench-cluster cluster clean
comma := ,

setup:
	@bash tools/setup.sh

demo: setup
	$(PY) -m agentrt.demo

# unit (no model, no server) + integration (tiny model, one shared server), then the end-to-end
# run of the demo on the default model. pytest's "no tests ran" (exit 5) fails the target too.
test: setup
	$(PYTEST) test/unit test/integration
	$(PYTEST) test/e2e

test-unit: setup
	$(PYTEST) test/unit

test-integration: setup
	$(PYTEST) test/integration

test-e2e: setup
	$(PYTEST) test/e2e

# agent-trace replay, every system side by side (QUICK=1: 2 agents, a few minutes).
# REGIME=idle|saturated|memory: step 10's regimes with their target table (QUICK=1: < 10 min);
# WORKLOAD=nemo_gym|bfcl picks another workload (default miniagent)
bench: setup
	$(PY) -m benchmark.agent_replay.run $(if $(QUICK),--quick,) $(if $(REGIME),--regime $(REGIME),) $(if $(WORKLOAD),--workload $(WORKLOAD),)

# step 5's interference benchmark: lookahead background work on / off for N = 1, 2, 4, 8 agents,
# 30 MiniAgent steps at the 6,000-token budget of `make bench` (~30 min on 2 cores; QUICK=1:
# N = 1, 2 with 10 steps at 1,800 tokens)
bench-interference: setup
	$(PY) -m benchmark.agent_replay.run $(if $(QUICK),--quick --interference 1$(comma)2,--interference 1$(comma)2$(comma)4$(comma)8)

# two agentrt workers behind SGLang's router (smg), session-affine; Ctrl-C stops everything
cluster: setup
	$(VENV)/bin/agentrt cluster --workers 2 --port 30000

# session affinity vs round_robin vs cache_aware behind the router, 2 workers (QUICK=1: 4 x 5)
bench-cluster: setup
	$(PY) -m benchmark.cluster.run $(if $(QUICK),--quick,)

bench-kernels: setup
	$(PY) -m benchmark.kernels.run $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) build python/*.egg-info sgl-kernel-ext/build sgl-kernel-ext/python/*.egg-info
