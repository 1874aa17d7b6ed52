# Integration tests for proxy (TAP shell scripts in the test world, need root).
