"""Owner car profiles (/car) and maintenance reminders.

The member's model and years of ownership are the questionnaire's answers: setting the
model replaces the ``model:`` answer, a purchase day gives the ``owner-years:`` answer
(refreshed daily as the years pass), so every list, export and nudge that reads answers
reads these. The reminders job queues one private reminder per member, due day and snooze
through the outbox, at the member's local morning outside their quiet hours; a press on
"Book a service" records one request per due day and tells the operators in one note.
Operators' settings changes and settled requests are audited.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import date, datetime

from hearth.domain.activity import ActivityKind
from hearth.domain.calendar import local_day
from hearth.domain.cars import (
    MODEL_KEY,
    OWNER_YEARS_KEY,
    SERVICE_REQUESTS_PAGE,
    CarField,
    CarProfile,
    NoMoreSnoozes,
    ServiceDue,
    ServiceInterval,
    ServiceRequest,
    ServiceRequestLine,
    ServiceSettings,
    StaleReminder,
    UnknownServiceRequest,
    answer_of,
    can_snooze,
    check_service_km,
    cleared,
    model_tag,
    next_service,
    owner_years_tag,
    parse_day,
    parse_mileage,
    parse_model,
    parse_year,
    reminder_key,
    reminder_round,
    reminder_times,
    snoozed,
    tags_of_key,
    with_mileage,
    with_model_interval,
    with_service,
    without_model_interval,
)
from hearth.domain.members import CommunityProfile
from hearth.domain.profile import ProfileOption, answer_tag, chosen
from hearth.services import profile as questionnaire
from hearth.services.members import record_activity
from hearth.services.ports import ServiceNotices, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class CarView:
    """A member's car in one community as /car shows it.

    ``model`` is the member's ``model:`` answer: the model as they typed it in /car, the
    questionnaire's option (``model_option``) or the bare slug of another answer.
    """

    community: CommunityProfile
    profile: CarProfile
    model: str | None
    model_option: ProfileOption | None
    settings: ServiceSettings
    due: ServiceDue | None
    today: date

    @property
    def empty(self) -> bool:
        return self.profile.empty and self.model is None


async def view(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, now: datetime
) -> CarView:
    """The member's car in ``community``, with the next service as the community's
    intervals make it (an empty profile when they told nothing)."""
    profile = await uow.cars.get(community.id, member_id) or CarProfile(community.id, member_id)
    tags = await uow.tags.of_member(community.id, member_id)
    slug = answer_of(MODEL_KEY, tags)
    model, option = None, None
    if slug is not None:
        if profile.model is not None and model_tag(profile.model) == answer_tag(MODEL_KEY, slug):
            model = profile.model
        else:
            option = await _questionnaire_option(uow, community, tags)
            model = option.label if option is not None else slug
    settings = await uow.cars.settings(community.id)
    due = next_service(profile, settings.interval_for(slug))
    return CarView(
        community, profile, model, option, settings, due, local_day(now, community.timezone)
    )


async def _questionnaire_option(
    uow: UnitOfWork, community: CommunityProfile, tags: list[str]
) -> ProfileOption | None:
    for question in await questionnaire.questions(uow, community):
        if question.key == MODEL_KEY:
            picked = chosen(question, tags)
            return picked[0] if picked else None
    return None


async def set_field(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    which: CarField,
    text: str,
    *,
    now: datetime,
    update_id: int | None,
) -> CarView:
    """Take what the member typed for ``which``; raises BadCarInput (nothing changes).
    The model and the purchase day replace the member's questionnaire answers (each a
    ``profile`` activity, as an answer in /profile is)."""
    today = local_day(now, community.timezone)
    profile = await uow.cars.get(community.id, member_id) or CarProfile(community.id, member_id)
    if which is CarField.MODEL:
        model = parse_model(text)
        await _answer(uow, community, member_id, MODEL_KEY, model_tag(model), now)
        profile = replace(profile, model=model)
    elif which is CarField.YEAR:
        profile = replace(profile, year=parse_year(text, today))
    elif which is CarField.PURCHASED:
        bought = parse_day(text, today, which)
        tag = owner_years_tag(bought, today)
        await _answer(uow, community, member_id, OWNER_YEARS_KEY, tag, now)
        profile = replace(profile, purchased_on=bought, owner_years=tag)
    elif which is CarField.MILEAGE:
        profile = with_mileage(profile, parse_mileage(text, which), today)
    elif which is CarField.SERVICED:
        profile = with_service(profile, parse_day(text, today, which))
    else:
        profile = replace(profile, service_km=check_service_km(profile, parse_mileage(text, which)))
    await uow.cars.save(profile, now)
    if which in (CarField.MODEL, CarField.PURCHASED):  # a questionnaire answer, as in /profile
        await record_activity(uow, community, member_id, ActivityKind.PROFILE, now, update_id)
    return await view(uow, community, member_id, now)


async def clear_field(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, which: CarField, now: datetime
) -> CarView:
    """Forget ``which``; clearing the model takes the ``model:`` answer off, clearing the
    purchase day the ``owner-years:`` answer it gave."""
    profile = await uow.cars.get(community.id, member_id) or CarProfile(community.id, member_id)
    if which is CarField.MODEL:
        await _answer(uow, community, member_id, MODEL_KEY, None, now)
    elif which is CarField.PURCHASED and profile.owner_years is not None:
        await uow.tags.remove(community.id, member_id, [profile.owner_years])
        profile = replace(profile, owner_years=None)
    await uow.cars.save(cleared(profile, which), now)
    return await view(uow, community, member_id, now)


async def set_reminders(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, *, on: bool, now: datetime
) -> CarView:
    """Maintenance reminders on or off for the member in ``community``."""
    profile = await uow.cars.get(community.id, member_id) or CarProfile(community.id, member_id)
    await uow.cars.save(replace(profile, reminders_on=on), now)
    return await view(uow, community, member_id, now)


async def _answer(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    key: str,
    tag: str | None,
    now: datetime,
) -> None:
    """Replace the member's answer to the question ``key`` by ``tag`` (none for None)."""
    earlier = tags_of_key(key, await uow.tags.of_member(community.id, member_id))
    stale = [each for each in earlier if each != tag]
    if stale:
        await uow.tags.remove(community.id, member_id, stale)
    if tag is not None and tag not in earlier:
        await uow.tags.add(community.id, member_id, [tag], actor_id=member_id, now=now)


# -- the reminders


async def send_reminders(
    uow_factory: UnitOfWorkFactory, notices: ServiceNotices, now: datetime
) -> int:
    """Queue the maintenance reminders owed now (each for the member's next local
    morning); how many were new. Also moves ``owner-years:`` answers on as years pass.

    Each reminder is recorded on the profile (due day and snooze round, conditionally) and
    queued in one transaction under ``service-due:<community>:<member>:<due day>``, so that
    a run twice, or on two workers, queues it once.
    """
    await refresh_owner_years(uow_factory, now)
    async with uow_factory() as uow:
        candidates = await uow.cars.reminder_candidates()
    queued = 0
    for candidate in candidates:
        async with uow_factory() as uow:
            queued += await _remind(uow, notices, candidate, now)
            await uow.commit()
    return queued


async def _remind(
    uow: UnitOfWork, notices: ServiceNotices, candidate: CarProfile, now: datetime
) -> int:
    community = await uow.communities.get(candidate.community_id)
    member = await uow.members.get(candidate.member_id)
    membership = await uow.memberships.get(candidate.community_id, candidate.member_id)
    if community is None or member is None or not community.active:
        return 0
    if membership is None or not membership.is_current or not member.writable:
        return 0  # left the group, never started the bot, or blocked it
    shown = await view(uow, community, member.id, now)
    if not shown.settings.enabled:
        return 0
    quiet = (await uow.nudges.preference(member.id)).quiet
    times = reminder_times(now, community.timezone, quiet)
    if times is None:
        return 0
    day, send_at, deadline = times
    due = shown.due
    round_ = reminder_round(shown.profile, due, day)
    if due is None or round_ is None:
        return 0
    if not await uow.cars.mark_reminded(community.id, member.id, due.on, round_):
        return 0
    key = reminder_key(community.id, member.id, due.on, round_)
    new = await notices.service_due(
        uow, key, member, shown, due, not_before=send_at, not_after=deadline
    )
    return int(new)


async def refresh_owner_years(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Move each ``owner-years:`` answer a purchase day gave to the bucket it is in today;
    how many moved."""
    async with uow_factory() as uow:
        profiles = await uow.cars.with_purchase()
        zones = {each.id: each.timezone for each in await uow.communities.active()}
    moved = 0
    for profile in profiles:
        zone, bought = zones.get(profile.community_id), profile.purchased_on
        if zone is None or bought is None:
            continue
        tag = owner_years_tag(bought, local_day(now, zone))
        if tag == profile.owner_years:
            continue
        async with uow_factory() as uow:
            community = await uow.communities.get(profile.community_id)
            current = await uow.cars.get(profile.community_id, profile.member_id)
            if community is None or current is None or current.purchased_on != bought:
                continue  # changed meanwhile: the member's own edit set the answer
            await _answer(uow, community, profile.member_id, OWNER_YEARS_KEY, tag, now)
            await uow.cars.save(replace(current, owner_years=tag), now)
            await uow.commit()
        moved += 1
    return moved


async def _reminded(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, due_on: date
) -> CarProfile:
    """The member's profile if ``due_on`` is the due day they were reminded of; raises
    StaleReminder otherwise (serviced since, or a forged button)."""
    profile = await uow.cars.get(community.id, member_id)
    if profile is None or profile.reminded_due != due_on:
        raise StaleReminder()
    return profile


async def snooze(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, due_on: date, now: datetime
) -> date:
    """ "Remind me in 2 weeks": the day of the next reminder. Raises StaleReminder or
    NoMoreSnoozes."""
    profile = await _reminded(uow, community, member_id, due_on)
    if not can_snooze(profile):
        raise NoMoreSnoozes()
    later = snoozed(profile, local_day(now, community.timezone))
    await uow.cars.save(later, now)
    assert later.snoozed_until is not None
    return later.snoozed_until


async def request_service(
    uow: UnitOfWork,
    notices: ServiceNotices,
    community: CommunityProfile,
    member_id: int,
    due_on: date,
    now: datetime,
) -> bool:
    """ "Book a service" without a booking link: record the request and tell the operators
    (one note per few minutes); False when the member asked for this due day already.
    Raises StaleReminder."""
    operator_ids = await notices.operators(community)  # may ask Telegram: before any write
    await _reminded(uow, community, member_id, due_on)
    if not await uow.cars.add_request(community.id, member_id, due_on, now):
        return False
    waiting = await uow.cars.count_open(community.id)
    for operator_id in operator_ids:
        if operator_id == member_id:
            continue
        operator = await uow.members.get(operator_id)
        if operator is not None and operator.writable:
            await notices.requests_waiting(uow, community, operator, waiting)
    return True


# -- operators


async def settings_of(uow: UnitOfWork, community: CommunityProfile) -> ServiceSettings:
    return await uow.cars.settings(community.id)


async def switch(
    uow: UnitOfWork, community: CommunityProfile, *, on: bool, actor_id: int, now: datetime
) -> ServiceSettings:
    """Maintenance reminders on or off for the community. Audited."""
    return await _change(
        uow, community, lambda current: replace(current, enabled=on), "service.switch",
        actor_id, now, on=on,
    )  # fmt: skip


async def set_interval(
    uow: UnitOfWork,
    community: CommunityProfile,
    *,
    months: int | None = None,
    km: int | None = None,
    actor_id: int,
    now: datetime,
) -> ServiceSettings:
    """The community's default interval (what is not given stays). Audited."""

    def change(current: ServiceSettings) -> ServiceSettings:
        interval = current.interval
        return replace(
            current,
            interval=ServiceInterval(
                months if months is not None else interval.months,
                km if km is not None else interval.km,
            ),
        )

    details = {key: value for key, value in (("months", months), ("km", km)) if value is not None}
    return await _change(uow, community, change, "service.interval", actor_id, now, **details)


async def set_model_interval(
    uow: UnitOfWork,
    community: CommunityProfile,
    model: str,
    interval: ServiceInterval | None,
    *,
    actor_id: int,
    now: datetime,
) -> ServiceSettings:
    """A model's own interval (None: back to the default); raises BadServiceSetting.
    Audited."""

    def change(current: ServiceSettings) -> ServiceSettings:
        if interval is None:
            return without_model_interval(current, model)
        return with_model_interval(current, model, interval)

    details: dict[str, object] = {"model": model}
    if interval is not None:
        details |= {"months": interval.months, "km": interval.km}
    return await _change(uow, community, change, "service.model", actor_id, now, **details)


async def set_booking(
    uow: UnitOfWork, community: CommunityProfile, url: str | None, *, actor_id: int, now: datetime
) -> ServiceSettings:
    """The link members book a service with (None: requests reach the operators). Audited."""
    return await _change(
        uow, community, lambda current: replace(current, booking_url=url), "service.booking",
        actor_id, now, url=url,
    )  # fmt: skip


async def _change(
    uow: UnitOfWork,
    community: CommunityProfile,
    change: Callable[[ServiceSettings], ServiceSettings],
    action: str,
    actor_id: int,
    now: datetime,
    **details: object,
) -> ServiceSettings:
    changed = change(await uow.cars.settings(community.id))
    await uow.cars.save_settings(community.id, changed, now)
    await uow.audit.record(
        actor_id=actor_id, action=action, community_id=community.id, details=details, now=now
    )
    return replace(changed, configured=True)


@dataclass(frozen=True, slots=True)
class RequestsPage:
    """One page of a community's open service requests, oldest first."""

    community: CommunityProfile
    lines: list[ServiceRequestLine]
    total: int
    page: int
    page_size: int = SERVICE_REQUESTS_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


async def requests_page(
    uow: UnitOfWork, community: CommunityProfile, page: int = 0
) -> RequestsPage:
    """The open requests of ``community``, page ``page`` (the last page when beyond it)."""
    total = await uow.cars.count_open(community.id)
    page = max(0, min(page, -(-total // SERVICE_REQUESTS_PAGE) - 1))
    lines = await uow.cars.open_requests(
        community.id, page * SERVICE_REQUESTS_PAGE, SERVICE_REQUESTS_PAGE
    )
    return RequestsPage(community, lines, total, page)


async def settle_request(
    uow: UnitOfWork, request_id: int, *, actor_id: int, operated: Collection[int], now: datetime
) -> ServiceRequest:
    """Mark an open request of a community the operator runs done. Raises
    UnknownServiceRequest (none such there, or done already). Audited."""
    found = await uow.cars.request(request_id)
    if found is None or found.community_id not in operated or found.done_at is not None:
        raise UnknownServiceRequest()
    if not await uow.cars.settle_request(request_id, actor_id, now):
        raise UnknownServiceRequest()  # another operator got there first
    await uow.audit.record(
        actor_id=actor_id,
        action="service.request_done",
        community_id=found.community_id,
        details={"request_id": request_id, "member_id": found.member_id},
        now=now,
    )
    return replace(found, done_at=now)


# -- data rights


@dataclass(frozen=True, slots=True)
class MemberCars:
    """What Hearth holds about the member's cars, for /mydata."""

    profiles: list[CarProfile]
    requests: list[ServiceRequest]


async def of_member(uow: UnitOfWork, member_id: int) -> MemberCars:
    return MemberCars(
        await uow.cars.of_member(member_id),
        await uow.cars.requests_of_member(member_id),
    )
