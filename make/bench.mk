# Benchmarks: not a test; figures go to benchmarks/results/latest.{json,md}.

BENCH_ARGS ?=
PROFILE_ARGS ?=
BASE ?=
COMPARE_ARGS ?=

.PHONY: bench
bench: ## Measure start time, memory, CPU per order, throughput and latency (release build, 5 × 15 s after a 30 s warm-up; e.g. BENCH_ARGS="--concurrency 8")
	python3 benchmarks/bench.py $(BENCH_ARGS)

.PHONY: bench-quick
bench-quick: ## The benchmark's smoke run (debug build, 2 s), as make test runs it
	python3 benchmarks/bench.py --quick

.PHONY: bench-profile
bench-profile: ## Where the services' CPU goes under the create load (perf), and what bare HTTP requests cost at the same pace (writes benchmarks/results/profile.{md,json})
	python3 benchmarks/profile.py $(PROFILE_ARGS)

.PHONY: bench-compare
bench-compare: ## Does a change cut CPU per order? Alternating runs of BASE's build and the working tree's (BASE=<git revision>, e.g. BASE=main; COMPARE_ARGS="--rounds 7")
	@test -n "$(BASE)" || { echo "usage: make bench-compare BASE=<git revision> [COMPARE_ARGS=...]" >&2; exit 2; }
	python3 benchmarks/compare.py --base "$(BASE)" $(COMPARE_ARGS)
