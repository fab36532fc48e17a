"""One module per operator verb (build, deploy and rollback, restore, the recovery of a killed attempt), what they
share (the step framework, preflight, the plan, the trail of evidence)."""
