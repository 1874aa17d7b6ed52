# bench/launch: see docs/performance.md. Filled in by its own change.
