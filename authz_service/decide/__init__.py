"""Facts in, verdict out: gather facts from the store, ask the policy, record the decision."""
