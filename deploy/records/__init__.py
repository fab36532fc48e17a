"""The deployment's memory on the engine: the meta volume, the ledger, the journal of started attempts, the
reports, and the view of them one command reads once."""
