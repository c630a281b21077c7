import pytest

from gateway.change_requests.states import (
    OPEN_STATUSES,
    TRANSITIONS,
    Status,
    Transition,
    next_status,
)
from gateway.core.errors import BillingError


def walk(status: Status, *steps: Transition) -> Status:
    for step in steps:
        status = next_status(status, step)
    return status


def test_the_day_of_a_request() -> None:
    status = walk(
        Status.NEW,
        Transition.ASSIGN,
        Transition.START,
        Transition.WAIT_FOR_CUSTOMER,
        Transition.RESUME,
        Transition.APPLY,
        Transition.APPLY_SUCCEEDED,
        Transition.REJECT,
        Transition.REWORK,
        Transition.APPLY,
        Transition.APPLY_SUCCEEDED,
        Transition.APPROVE,
    )
    assert status is Status.APPROVED


def test_a_plan_approved_first_then_failed_then_retried_by_a_lead() -> None:
    status = walk(Status.IN_PROGRESS, Transition.REQUEST_APPROVAL)
    assert status is Status.AWAITING_APPROVAL
    status = walk(status, Transition.APPROVE_PLAN, Transition.APPLY_FAILED)
    assert status is Status.APPLY_FAILED
    assert next_status(status, Transition.SETTLE_BY_HAND) is Status.APPLYING
    assert walk(status, Transition.RETRY_APPLY, Transition.APPLY_SUCCEEDED) is Status.APPLIED


def test_a_refused_plan_goes_back_to_the_specialist() -> None:
    status = walk(Status.IN_PROGRESS, Transition.REQUEST_APPROVAL, Transition.REFUSE_PLAN)
    assert walk(status, Transition.REWORK) is Status.IN_PROGRESS


def test_nothing_leads_into_processed_any_more() -> None:
    assert all(target is not Status.PROCESSED for _sources, target in TRANSITIONS.values())
    # old rows done by hand are still reviewed
    assert next_status(Status.PROCESSED, Transition.APPROVE) is Status.APPROVED


@pytest.mark.parametrize("status", [Status.NEW, Status.IN_PROGRESS, Status.APPLY_FAILED])
def test_only_applied_work_is_approved(status: Status) -> None:
    with pytest.raises(BillingError, match="cannot approve"):
        next_status(status, Transition.APPROVE)


def test_what_reached_a_provider_is_never_cancelled() -> None:
    for status in (Status.APPLYING, Status.APPLIED, Status.APPLY_FAILED, Status.APPROVED):
        with pytest.raises(BillingError, match="cannot cancel"):
            next_status(status, Transition.CANCEL)


def test_a_run_only_ends_from_applying() -> None:
    for status in Status:
        for transition in (Transition.APPLY_SUCCEEDED, Transition.APPLY_FAILED):
            if status is Status.APPLYING:
                next_status(status, transition)
            else:
                with pytest.raises(BillingError):
                    next_status(status, transition)


def test_cancelled_is_final() -> None:
    for transition in Transition:
        with pytest.raises(BillingError):
            next_status(Status.CANCELLED, transition)


def test_approved_work_only_reopens_by_amending_it_which_voids_the_approval() -> None:
    for transition in Transition:
        if transition is Transition.AMEND:
            assert next_status(Status.APPROVED, transition) is Status.APPLIED
        else:
            with pytest.raises(BillingError):
                next_status(Status.APPROVED, transition)


def test_open_requests_are_the_unfinished_ones() -> None:
    assert {Status.AWAITING_APPROVAL, Status.APPLYING, Status.APPLY_FAILED} <= OPEN_STATUSES
    assert not {Status.APPLIED, Status.APPROVED, Status.CANCELLED} & OPEN_STATUSES


def test_every_status_but_processed_can_be_reached_from_new() -> None:
    reached, frontier = {Status.NEW}, [Status.NEW]
    while frontier:
        current = frontier.pop()
        for sources, target in TRANSITIONS.values():
            if current in sources and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(Status) - {Status.PROCESSED}
