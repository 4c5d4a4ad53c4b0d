"""Pickup references: eight digits, a Damm check digit that catches the slips of reading them aloud."""

from __future__ import annotations

from pickups.references import clean, damm_digit, is_valid, new_reference, spoken
from pickups.transitions import ALLOWED, PickupState


def test_known_damm_values() -> None:
    assert damm_digit("572") == "4"  # the textbook example
    assert is_valid("31058266") and not is_valid("31058267")


def test_every_single_digit_slip_and_neighbour_swap_is_caught() -> None:
    for _ in range(300):
        ref = new_reference()
        assert is_valid(ref) and len(ref) == 8 and ref[0] != "0"
        for i in range(8):
            for d in "0123456789":
                if d != ref[i]:
                    assert not is_valid(ref[:i] + d + ref[i + 1 :]), (ref, i, d)
        for i in range(7):
            if ref[i] != ref[i + 1]:
                assert not is_valid(ref[:i] + ref[i + 1] + ref[i] + ref[i + 2 :]), (ref, i)


def test_references_are_read_and_typed_with_spaces_or_dashes() -> None:
    assert clean("3105-8266") == clean("3105 8266") == "31058266"
    assert spoken("31058266") == "3105 8266"
    assert not is_valid("3105826") and not is_valid("３１０５８２６６")  # full-width digits are not ASCII


def test_final_states_allow_nothing_and_failed_only_a_rebooking() -> None:
    assert ALLOWED[PickupState.picked_up] == ALLOWED[PickupState.cancelled] == frozenset()
    assert ALLOWED[PickupState.failed] == {PickupState.booked}
    assert PickupState.picked_up not in ALLOWED[PickupState.booked]
