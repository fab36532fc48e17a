"""What procedures do or ask, one concept per module: release images and their tags, the build context and code
layer, state backups, health, heartbeats, the deploy lock, status and the live-state snapshot."""
