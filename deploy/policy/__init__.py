"""The declared security policy (`policy.toml`) and its rules, judged on a compose file (preflight) and on
running containers (verify) alike."""
