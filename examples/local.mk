# Example policies, installed beside the documentation.
examplesdir = $(docdir)/examples/policies
dist_examples_DATA = examples/policies/ci.rules examples/policies/offline.rules
