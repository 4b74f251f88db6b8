"""What a nudge says: each kind's built-in texts with and without their facts, an operator's
template filled with escaped facts, and the buttons that come with it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from aiogram.utils.i18n import I18n

from hearth.domain.nudges import (
    BUILTIN_VARIANTS,
    COMEBACK_VALID_DAYS,
    NudgeFacts,
    NudgeKind,
    NudgeMessage,
    UpcomingEvent,
    builtin_templates,
)
from hearth.handlers import keyboards, nudges_texts
from hearth.handlers.callbacks import NudgeAction, NudgeTap
from hearth.i18n import build_i18n
from tests.telegram_html import html_problem

TITLE = "Pudong <Owners> & Co"
NAME = "Tom & <Jerry>"
EVENT = UpcomingEvent(5, "Picnic <in> the park", datetime(2026, 3, 14, 6, 0, tzinfo=UTC), "food")
ALL_FACTS = NudgeFacts(
    best_streak=12,
    expiring_points=40,
    expiring_on=date(2026, 3, 20),
    event=EVENT,
    event_matches_interest=True,
    quiz_topic="Cars & <bikes>",
)
NO_FACTS = NudgeFacts()


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n()


@pytest.fixture(params=["en", "zh_Hans"])
def speaking(request: pytest.FixtureRequest, i18n: I18n) -> Iterator[str]:
    with i18n.context(), i18n.use_locale(request.param):
        yield request.param


def message(
    kind: NudgeKind,
    template: str,
    facts: NudgeFacts = ALL_FACTS,
    *,
    custom: str | None = None,
    bonus: int = 30,
    days_away: int = 23,
) -> NudgeMessage:
    return NudgeMessage(17, kind, template, custom, days_away, facts, bonus)


def rendered(nudge: NudgeMessage) -> str:
    return nudges_texts.nudge_text(TITLE, NAME, nudge, "Asia/Shanghai")


@pytest.mark.parametrize("kind", list(NudgeKind))
@pytest.mark.parametrize("facts", [ALL_FACTS, NO_FACTS], ids=["with facts", "without facts"])
def test_every_builtin_variant_greets_by_name_and_ends_with_how_to_stop(
    speaking: str, kind: NudgeKind, facts: NudgeFacts
) -> None:
    assert len(builtin_templates(kind)) == BUILTIN_VARIANTS
    for template in builtin_templates(kind):
        text = rendered(message(kind, template, facts))

        assert html_problem(text) is None, text
        assert "Tom &amp; &lt;Jerry&gt;" in text
        assert "Pudong &lt;Owners&gt; &amp; Co" in text
        assert "{" not in text
        assert "None" not in text
        assert text.endswith(f"<i>{nudges_texts.stop_hint()}</i>")
        assert len(text) < 600


def test_the_three_variants_of_a_kind_say_it_differently(speaking: str) -> None:
    for kind in NudgeKind:
        texts = {rendered(message(kind, template)) for template in builtin_templates(kind)}
        assert len(texts) == BUILTIN_VARIANTS, kind


def test_each_kind_mentions_its_true_facts_escaped(i18n: I18n) -> None:
    with i18n.context(), i18n.use_locale("en"):
        streak = rendered(message(NudgeKind.STREAK, "streak:0"))
        event = rendered(message(NudgeKind.EVENT, "event:1"))
        expiring = rendered(message(NudgeKind.EXPIRING, "expiring:0"))
        quiz = rendered(message(NudgeKind.QUIZ, "quiz:2"))
        comeback = rendered(message(NudgeKind.COMEBACK, "comeback:0"))

    assert "12-day check-in streak" in streak
    assert "<b>Picnic &lt;in&gt; the park</b>" in event
    assert "2026-03-14 14:00" in event  # the community's wall clock (Shanghai)
    assert "40 of your points" in expiring
    assert "2026-03-20" in expiring
    assert "<b>Cars &amp; &lt;bikes&gt;</b>" in quiz
    assert "30 points" in comeback
    assert f"{COMEBACK_VALID_DAYS} days" in comeback


def test_without_its_fact_a_kind_falls_back_to_a_text_that_claims_nothing(i18n: I18n) -> None:
    with i18n.context(), i18n.use_locale("en"):
        streak = rendered(message(NudgeKind.STREAK, "streak:1", NO_FACTS))
        expiring = rendered(message(NudgeKind.EXPIRING, "expiring:2", NO_FACTS))
        comeback = rendered(message(NudgeKind.COMEBACK, "comeback:1", bonus=0))

    assert "day one" in streak
    assert "points" not in expiring
    assert "point" not in comeback


def test_one_point_and_one_bonus_point_read_in_the_singular(i18n: I18n) -> None:
    one = ALL_FACTS._replace(expiring_points=1)
    with i18n.context(), i18n.use_locale("en"):
        expiring = rendered(message(NudgeKind.EXPIRING, "expiring:0", one))
        comeback = rendered(message(NudgeKind.COMEBACK, "comeback:1", bonus=1))
        button = nudges_texts.button_claim(1)

    assert "1 of your points in <b>Pudong &lt;Owners&gt; &amp; Co</b> expires on" in expiring
    assert "1 point is yours" in comeback
    assert button == "Claim 1 point"


def test_an_operators_template_is_filled_with_escaped_facts_and_kept_as_plain_text(
    i18n: I18n,
) -> None:
    custom = "Hey {name} <3 — {event} on {date} at {community}!"
    with i18n.context(), i18n.use_locale("en"):
        text = rendered(message(NudgeKind.EVENT, "custom:4", custom=custom))

    assert text.startswith(
        "Hey Tom &amp; &lt;Jerry&gt; &lt;3 — Picnic &lt;in&gt; the park on 2026-03-14 14:00 "
        "at Pudong &lt;Owners&gt; &amp; Co!\n\n<i>"
    )
    assert html_problem(text) is None


@pytest.mark.parametrize(
    "custom",
    ["{event} is coming up", "{name:>99999}", "{name!r:d}", "{days}"],
    ids=["fact missing", "too long", "malformed", "field of no value"],
)
def test_an_operators_template_that_cannot_be_filled_gives_way_to_the_builtin_text(
    i18n: I18n, custom: str
) -> None:
    with i18n.context(), i18n.use_locale("en"):
        text = rendered(message(NudgeKind.EVENT, "custom:4", NO_FACTS, custom=custom, days_away=0))
        builtin = rendered(message(NudgeKind.EVENT, "event:0", NO_FACTS, days_away=0))

    assert text == builtin


@pytest.mark.parametrize(
    ("kind", "bonus", "label", "action"),
    [
        (NudgeKind.LIGHT, 30, "Check in now", NudgeAction.CHECKIN),
        (NudgeKind.STREAK, 30, "Check in now", NudgeAction.CHECKIN),
        (NudgeKind.EVENT, 30, "See event", NudgeAction.EVENT),
        (NudgeKind.EXPIRING, 30, "Spend my points", NudgeAction.REWARDS),
        (NudgeKind.QUIZ, 30, "Play a quiz", NudgeAction.QUIZ),
        (NudgeKind.COMEBACK, 30, "Claim 30 points", NudgeAction.CLAIM),
        (NudgeKind.COMEBACK, 0, "Check in now", NudgeAction.CHECKIN),
    ],
)
def test_a_nudge_has_one_invitation_and_a_stop_button(
    i18n: I18n, kind: NudgeKind, bonus: int, label: str, action: NudgeAction
) -> None:
    with i18n.context(), i18n.use_locale("en"):
        markup = keyboards.nudge(message(kind, f"{kind.value}:0", bonus=bonus))

    [[invite], [stop]] = markup.inline_keyboard
    assert (invite.text, stop.text) == (label, "Stop these messages")
    assert NudgeTap.unpack(invite.callback_data or "") == NudgeTap(nudge_id=17, action=action)
    assert NudgeTap.unpack(stop.callback_data or "").action is NudgeAction.STOP
