"""The volume-rebuild path: a legacy volume holding code and state becomes a proven state-only volume.

layout      the declared layout (`volumes/layout.toml`): state / secret / code / unknown, targets, code map
plan        what happens to each file, and the refusals decided before anything changes (pure)
drift       the legacy code against trading/ at a commit (pure)
inventory   a volume file by file, and the proofs that two agree (pure)
journal     where an interrupted run stands and what a run does about it (pure)
labels      names and labels of the volumes a rebuild makes (pure)
procedure   `invoke volume-rebuild`: the steps, each proven before the next
planning    `invoke volume-rebuild --plan`: the live state, the run's steps, what stops it, the way back
evidence    the figures its report keeps (pure)
retire      `invoke volume-retire`: the legacy volume goes only when nothing can be lost
engineops, helper, probe   the volume work, in throw-away helper containers through the Docker API
"""

from deploy.rebuild.plan import show_plan
from deploy.rebuild.procedure import Rebuilt, rebuild
from deploy.rebuild.retire import retire

__all__ = ["Rebuilt", "rebuild", "retire", "show_plan"]
