# Integration tests for approvals (TAP shell scripts in the test world, need root).
