# bench/nfq: see docs/performance.md. Filled in by its own change.
