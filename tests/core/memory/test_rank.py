"""The ranking's rules: a shared failure class clears the threshold alone; a service alone or wording alone never
does; text ranks scale to the best one; ties go to the newer incident."""

from bot.core.memory.rank import THRESHOLD, combined, kept


def test_threshold() -> None:
    assert combined([("class", "x")], 0, 0)[0] >= THRESHOLD
    assert combined([("alert", "a"), ("service", "s")], 0, 0)[0] >= THRESHOLD
    assert combined([("service", "s")], 9.0, 9.0)[0] < THRESHOLD  # a service and the best wording
    assert combined([], 9.0, 9.0)[0] < THRESHOLD


def test_text_scaled_to_the_best_and_ties_to_the_newest() -> None:
    assert combined([], 2.0, 4.0) == (0.5, 0.5)
    assert kept([(1, 3.0), (2, 3.0), (3, 9.0), (4, 1.0), (5, 3.0)]) == [3, 5, 2]
