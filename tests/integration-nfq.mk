# Integration tests for nfq (TAP shell scripts in the test world, need root).
