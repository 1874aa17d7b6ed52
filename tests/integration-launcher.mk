# Integration tests for launcher (TAP shell scripts in the test world, need root).
