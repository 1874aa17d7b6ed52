# Example policies, installed beside the documentation.
examplesdir = $(docdir)/examples/policies
dist_examples_DATA = examples/policies/ci.rules examples/policies/offline.rules \
	examples/policies/quickstart.rules
# Example approval hook (docs/approvals.md) and its list, beside the policies.
exampleshooksdir = $(docdir)/examples/hooks
dist_exampleshooks_SCRIPTS = examples/hooks/company-allowlist
dist_exampleshooks_DATA = examples/hooks/company-allowlist.list
