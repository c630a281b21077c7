import pytest

from gateway.change_requests.states import (
    OPEN_STATUSES,
    TRANSITIONS,
    Status,
    Transition,
    next_status,
)
from gateway.errors import BillingError


def test_the_day_of_a_request() -> None:
    status = Status.NEW
    for step in (
        Transition.ASSIGN,
        Transition.START,
        Transition.WAIT_FOR_CUSTOMER,
        Transition.RESUME,
        Transition.MARK_PROCESSED,
        Transition.REJECT,
        Transition.REWORK,
        Transition.MARK_PROCESSED,
        Transition.APPROVE,
    ):
        status = next_status(status, step)
    assert status is Status.APPROVED


def test_cancelled_is_final() -> None:
    for transition in Transition:
        with pytest.raises(BillingError):
            next_status(Status.CANCELLED, transition)


def test_approved_work_only_reopens_by_amending_it_which_voids_the_approval() -> None:
    for transition in Transition:
        if transition is Transition.AMEND:
            assert next_status(Status.APPROVED, transition) is Status.PROCESSED
        else:
            with pytest.raises(BillingError):
                next_status(Status.APPROVED, transition)


def test_only_open_requests_can_be_cancelled() -> None:
    for status in Status:
        if status in OPEN_STATUSES:
            assert next_status(status, Transition.CANCEL) is Status.CANCELLED
        else:
            with pytest.raises(BillingError, match="cannot cancel"):
                next_status(status, Transition.CANCEL)


def test_processed_work_is_not_edited_without_a_review() -> None:
    for transition in (Transition.START, Transition.MARK_PROCESSED, Transition.ASSIGN):
        with pytest.raises(BillingError, match="processed"):
            next_status(Status.PROCESSED, transition)


def test_every_status_can_be_reached_from_new() -> None:
    reached, frontier = {Status.NEW}, [Status.NEW]
    while frontier:
        current = frontier.pop()
        for sources, target in TRANSITIONS.values():
            if current in sources and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(Status)
