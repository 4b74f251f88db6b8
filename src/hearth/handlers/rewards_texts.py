"""Every text of the rewards store, through gettext; user content is HTML-escaped."""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _

from hearth.domain.calendar import local_day
from hearth.domain.errors import HearthError
from hearth.domain.points import NotEnoughPoints
from hearth.domain.rewards import (
    CodeRejection,
    InvalidRewardSpec,
    OutOfStock,
    Problem,
    Redemption,
    RedemptionClosed,
    RedemptionLimitReached,
    RedemptionStatus,
    Reward,
    RewardUnavailable,
    UnknownRedemption,
    UnknownReward,
)
from hearth.handlers import texts
from hearth.handlers.texts import TIER_NAMES, quote
from hearth.services.rewards import (
    Catalogue,
    ImportReport,
    Offer,
    PendingRedemptions,
    RedemptionResult,
)

SHOWN_REJECTIONS = 10


def _tier(name: str) -> str:
    return str(TIER_NAMES.get(name, name))


def _day(moment: datetime, timezone: str) -> str:
    return local_day(moment, timezone).isoformat()


# -- members


def open_in_private() -> str:
    return _("Rewards are redeemed in private. Tap below to open our chat, then send /rewards.")


def catalogue(shelf: Catalogue) -> str:
    lines = [
        _("🎁 <b>Rewards in {title}</b>").format(title=quote(shelf.community.title)),
        _("Your points: {balance}.").format(balance=shelf.balance),
        "",
    ]
    if not shelf.offers:
        lines.append(_("No rewards yet: the team is still stocking the shelves."))
        return "\n".join(lines)
    lines += [_offer_line(offer, shelf) for offer in shelf.offers]
    lines.append("")
    if shelf.redeemable:
        lines.append(_("Tap a reward to redeem it."))
    else:
        lines.append(_("Nothing you can redeem right now; keep taking part and check back soon."))
    return "\n".join(lines)


def _offer_line(offer: Offer, shelf: Catalogue) -> str:
    reward = offer.reward
    line = _("• <b>{title}</b> — {cost} points").format(title=quote(reward.title), cost=reward.cost)
    if reward.stock is not None and reward.stock > 0:
        line += " " + _("({left} left)").format(left=reward.stock)
    if offer.problem is not None:
        line += "\n  " + _note(offer.problem, reward, shelf)
    return line


def _note(problem: Problem, reward: Reward, shelf: Catalogue) -> str:
    if problem is Problem.NOT_ENOUGH_POINTS:
        return _("{missing} more to go").format(missing=reward.cost - shelf.balance)
    if problem is Problem.NOT_YET and reward.available_from is not None:
        return _("from {day}").format(day=_day(reward.available_from, shelf.community.timezone))
    if problem is Problem.TIER_TOO_LOW:
        return _("for {tier} members and above").format(tier=_tier(reward.tier_required or ""))
    if problem is Problem.LIMIT_REACHED:
        return _("you have redeemed it as often as it allows")
    if problem is Problem.SOLD_OUT:
        return _("sold out")
    return _("not available")


def confirm(reward: Reward, balance: int) -> str:
    return _(
        "Redeem <b>{title}</b> for {cost} points? You have {balance}; {left} will be left."
    ).format(
        title=quote(reward.title), cost=reward.cost, balance=balance, left=balance - reward.cost
    )


def redeemed(result: RedemptionResult) -> str:
    redemption, title = result.redemption, quote(result.reward.title)
    if redemption.status is RedemptionStatus.CANCELLED:
        return _(
            "This redemption of <b>{title}</b> was cancelled and your points refunded."
        ).format(title=title)
    lines = [_("You already redeemed this.")] if result.replayed else []
    if redemption.code is not None:
        lines.append(
            _("🎉 <b>{title}</b> is yours! Your code: <code>{code}</code>").format(
                title=title, code=quote(redemption.code)
            )
        )
    else:
        lines.append(
            _("🎉 <b>{title}</b> is yours! The team will contact you to hand it over.").format(
                title=title
            )
        )
    lines.append(
        _("{cost} points were spent (redemption #{number}).").format(
            cost=redemption.cost, number=redemption.id
        )
    )
    return "\n".join(lines)


def settled_for_member(redemption: Redemption, reward_title: str, community_title: str) -> str:
    """The member's note that an operator handed their reward over or cancelled it."""
    if redemption.status is RedemptionStatus.CANCELLED:
        return _(
            "{community}: your redemption #{number} of <b>{title}</b> was cancelled by the "
            "team, and its {points} points are back in your balance."
        ).format(
            community=quote(community_title),
            number=redemption.id,
            title=quote(reward_title),
            points=redemption.cost,
        )
    return _(
        "{community}: the team marked your redemption #{number} of <b>{title}</b> as handed "
        "over. Enjoy!"
    ).format(community=quote(community_title), number=redemption.id, title=quote(reward_title))


def kept() -> str:
    return _("No problem: your points are untouched.")


def refusal(error: HearthError) -> str:
    """Why a member's or an operator's request was refused; nothing was changed."""
    if isinstance(error, OutOfStock):
        return _("Sorry, it is sold out: someone got the last one. Your points are untouched.")
    if isinstance(error, RedemptionLimitReached):
        return _("You have reached the limit for this reward ({limit} per member).").format(
            limit=error.limit
        )
    if isinstance(error, NotEnoughPoints):
        return _(
            "This reward costs {cost} points and you have {balance}. Nothing was taken."
        ).format(cost=error.wanted, balance=error.balance)
    if isinstance(error, RewardUnavailable):
        return _unavailable(error)
    if isinstance(error, UnknownReward):
        return _("There is no reward #{number} in your communities.").format(number=error.reward_id)
    if isinstance(error, UnknownRedemption):
        return _("There is no redemption #{number} in your communities.").format(
            number=error.redemption_id
        )
    if isinstance(error, RedemptionClosed):
        if error.status is RedemptionStatus.FULFILLED:
            return _("This redemption was fulfilled already; it can no longer be cancelled.")
        return _("This redemption was cancelled already; it can no longer be fulfilled.")
    if isinstance(error, InvalidRewardSpec):
        return invalid_reward(error)
    return texts.something_went_wrong()


def _unavailable(error: RewardUnavailable) -> str:
    problem, reward = error.problem, error.reward
    if problem is Problem.NOT_A_MEMBER:
        return _("This reward belongs to a community you are not a member of.")
    if problem is Problem.NOT_YET:
        return _("This reward is not available yet.")
    if problem is Problem.TIER_TOO_LOW and reward is not None:
        return _("This reward is for {tier} members and above.").format(
            tier=_tier(reward.tier_required or "")
        )
    return _("This reward is no longer available.")


# -- operators


def private_only(command: str) -> str:
    return _("Send /{command} to me in private.").format(command=command)


def new_reward_usage() -> str:
    return "\n".join(
        [
            _(
                "Usage: /reward_new COST STOCK TITLE, where STOCK is a number or "
                "“unlimited”. Options: limit=N (per member), tier=silver|gold|platinum, "
                "from=YYYY-MM-DD, until=YYYY-MM-DD, codes=yes (hand out voucher codes)."
            ),
            _("Example: /reward_new 300 20 Club mug limit=1"),
        ]
    )


def invalid_reward(error: InvalidRewardSpec) -> str:
    parts = {
        "cost": _("The cost must be a whole number of points from 1 to 1,000,000."),
        "stock": _("The stock must be a whole number from 1 to 1,000,000, or “unlimited”."),
        "title": _("The title must have 1 to 100 characters."),
        "limit": _("limit= must be a whole number of at least 1."),
        "tier": _("tier= must be one of silver, gold or platinum."),
        "from": _("from= must be a date written YYYY-MM-DD."),
        "until": _("until= must be a date written YYYY-MM-DD."),
        "window": _("The until= date must not come before the from= date."),
        "codes": _("codes= must be yes or no."),
        "flag": _("I do not know the option {option}.").format(option=quote(error.value)),
    }
    reason = parts.get(error.part)
    return "\n".join([reason, "", new_reward_usage()]) if reason else new_reward_usage()


def reward_created(reward: Reward, community_title: str) -> str:
    stock = (
        _("unlimited stock")
        if reward.stock is None
        else _("{count} in stock").format(count=reward.stock)
    )
    lines = [
        _("Added reward #{number} <b>{title}</b> to {community}: {cost} points, {stock}.").format(
            number=reward.id,
            title=quote(reward.title),
            community=quote(community_title),
            cost=reward.cost,
            stock=stock,
        ),
        _("Members see it in /rewards."),
    ]
    if reward.has_codes:
        lines.append(
            _(
                "It hands out voucher codes: send me a CSV or text file with the caption "
                "/codes {number} before members can redeem it."
            ).format(number=reward.id)
        )
    return "\n".join(lines)


def archive_usage() -> str:
    return _("Usage: /reward_archive REWARD_NUMBER")


def archived(reward: Reward) -> str:
    if not reward.active:
        return _("Reward #{number} <b>{title}</b> was archived already.").format(
            number=reward.id, title=quote(reward.title)
        )
    return _(
        "Reward #{number} <b>{title}</b> is archived: members no longer see it. "
        "Pending redemptions stay in /redemptions."
    ).format(number=reward.id, title=quote(reward.title))


def pending(listing: PendingRedemptions, timezone_of: dict[int, str]) -> str:
    """/redemptions; ``timezone_of`` maps community ids to their time zones."""
    if not listing.lines:
        return _("Nothing pending: every redemption is settled.")
    lines = [_("<b>Pending redemptions</b> ({total})").format(total=listing.total), ""]
    for line in listing.lines:
        redemption = line.redemption
        text = _("#{number} · {day} · {member}: <b>{title}</b> ({cost} points)").format(
            number=redemption.id,
            day=_day(redemption.created_at, timezone_of.get(redemption.community_id, "UTC")),
            member=quote(line.member_name),
            title=quote(line.reward_title),
            cost=redemption.cost,
        )
        if redemption.code is not None:
            text += " " + _("code {code}").format(code=f"<code>{quote(redemption.code)}</code>")
        lines.append(text)
    hidden = listing.total - len(listing.lines)
    if hidden > 0:
        lines += ["", _("…and {count} more; settle these to see them.").format(count=hidden)]
    return "\n".join(lines)


def settled(status: RedemptionStatus, number: int, refund: int) -> str:
    if status is RedemptionStatus.CANCELLED:
        return _("Redemption #{number} cancelled: {points} points refunded.").format(
            number=number, points=refund
        )
    return _("Redemption #{number} marked as fulfilled.").format(number=number)


def codes_usage() -> str:
    return _(
        "Send the voucher codes as a CSV or text file (one code per line) with the caption "
        "/codes REWARD_NUMBER."
    )


def codes_file_too_big(limit_kb: int) -> str:
    return _("That file is too big: at most {size} KB, please.").format(size=limit_kb)


def codes_imported(report: ImportReport) -> str:
    lines = [
        _(
            "Reward #{number} <b>{title}</b>: codes added {added}, "
            "duplicates skipped {duplicates}, lines refused {rejected}."
        ).format(
            number=report.reward.id,
            title=quote(report.reward.title),
            added=report.added,
            duplicates=report.duplicates,
            rejected=len(report.rejected),
        )
    ]
    for number, why in report.rejected[:SHOWN_REJECTIONS]:
        lines.append(_("line {line}: {reason}").format(line=number, reason=_rejection(why)))
    if len(report.rejected) > SHOWN_REJECTIONS:
        lines.append(_("…and {count} more.").format(count=len(report.rejected) - SHOWN_REJECTIONS))
    return "\n".join(lines)


def _rejection(why: CodeRejection) -> str:
    if why is CodeRejection.TOO_LONG:
        return _("longer than 64 characters")
    if why is CodeRejection.BAD_CHARACTERS:
        return _("only letters, digits and punctuation, without spaces, please")
    return _("too many codes in one file (10,000 at most)")
