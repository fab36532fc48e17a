import os
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from deploy.steps import lock
from deploy.steps.lock import Holder

HOLDER = Holder("op@ci-runner", "ci-runner", 4242, "2026-11-22T04:00:00+00:00", "deploy abc")


@given(st.builds(Holder, st.text(), st.text(), st.integers(0, 2**22), st.text(), st.text()))
def test_a_holder_survives_its_labels(holder: Holder) -> None:
    assert Holder.from_labels(holder.labels("p")) == holder


def test_labels_that_say_nothing_give_an_unknown_holder() -> None:
    unknown = Holder.from_labels({"io.tradebot.lock.pid": "x"})
    assert unknown == Holder("", "", 0, "", "")
    assert unknown.describe() == "an unknown holder (pid 0, unknown work)"
    assert HOLDER.describe() == "op@ci-runner (pid 4242, deploy abc)"


def test_only_a_holder_on_this_machine_whose_process_is_gone_counts_as_dead() -> None:
    assert lock.dead_here(HOLDER, "ci-runner", alive=lambda pid: False)
    assert not lock.dead_here(HOLDER, "ci-runner", alive=lambda pid: True)
    assert not lock.dead_here(HOLDER, "laptop", alive=lambda pid: False)  # another machine: nobody here can tell
    assert not lock.dead_here(Holder.from_labels({}), "", alive=lambda pid: False)


def test_pid_alive_tells_a_running_process_from_an_ended_one() -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert lock.pid_alive(os.getpid())
    assert not lock.pid_alive(int(ended.stdout))


def test_unlock_refuses_only_a_holder_alive_on_this_machine() -> None:
    assert lock.alive_here(HOLDER, "ci-runner", alive=lambda pid: True)
    assert not lock.alive_here(HOLDER, "ci-runner", alive=lambda pid: False)  # died here: unlock may remove it
    assert not lock.alive_here(HOLDER, "laptop", alive=lambda pid: True)  # another machine: the operator decides
    assert not lock.alive_here(Holder.from_labels({}), "", alive=lambda pid: True)
