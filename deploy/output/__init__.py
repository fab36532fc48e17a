"""What operators read: exit codes, progress lines, and the jinja2 templates every table and report is rendered from.

The lowest layer above `deploy.config`, `deploy.errors` and `deploy.ids`: it imports no other layer.
"""
