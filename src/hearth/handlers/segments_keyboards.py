"""Buttons of /segments, /tags, /tagged and /export: pickers, lists, pages and files."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from hearth.domain.lifecycle import Stage
from hearth.domain.members import CommunityProfile
from hearth.domain.rfm import Segment
from hearth.domain.segments import ListKind, Selection, StandingsSummary
from hearth.handlers import segments_texts as words
from hearth.handlers.callbacks import SegmentExport, SegmentList, SegmentsOf, TagsOf
from hearth.services.segments import MemberPage, TagCounts, tag_reference

MAX_TAG_BUTTONS = 30


def community_picker(
    choices: Sequence[tuple[CommunityProfile, CallbackData]],
) -> InlineKeyboardMarkup:
    """One button per community the operator runs, each with what it does there."""
    builder = InlineKeyboardBuilder()
    for community, data in choices:
        builder.button(text=community.title[:60], callback_data=data)
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def overview(community: CommunityProfile, summary: StandingsSummary) -> InlineKeyboardMarkup | None:
    """A button per stage and segment that has members: it lists them."""
    builder = InlineKeyboardBuilder()
    for stage in Stage:
        if members := summary.stages.get(stage, 0):
            builder.button(
                text=f"{words.stage_name(stage)} ({members})",
                callback_data=SegmentList(
                    community_id=community.id, kind=ListKind.STAGE, value=stage.value
                ),
            )
    for segment in Segment:
        if members := summary.segments.get(segment, 0):
            builder.button(
                text=f"{words.segment_name(segment)} ({members})",
                callback_data=SegmentList(
                    community_id=community.id, kind=ListKind.SEGMENT, value=segment.value
                ),
            )
    rows = builder.adjust(2).export()
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def tags(community: CommunityProfile, counts: TagCounts) -> InlineKeyboardMarkup | None:
    """A button per tag in use (the most used first): it lists the members."""
    builder = InlineKeyboardBuilder()
    for name in counts.all[:MAX_TAG_BUTTONS]:
        builder.button(text=name, callback_data=tag_list(community, name))
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(3).export()) if counts.all else None


def tag_list(community: CommunityProfile, name: str) -> SegmentList:
    """The first page of a tag's members."""
    return SegmentList(community_id=community.id, kind=ListKind.TAG, value=tag_reference(name))


def page(result: MemberPage) -> InlineKeyboardMarkup:
    """◀ ▶ between pages, the list as a file, and the way back."""
    community, selection = result.community, result.selection
    value = _reference(selection)
    builder = InlineKeyboardBuilder()
    turns = 0
    for target, label in ((result.page - 1, "◀"), (result.page + 1, "▶")):
        if 0 <= target < result.pages:
            builder.button(
                text=label,
                callback_data=SegmentList(
                    community_id=community.id, kind=selection.kind, value=value, page=target
                ),
            )
            turns += 1
    builder.button(
        text=words.export_button(),
        callback_data=SegmentExport(community_id=community.id, kind=selection.kind, value=value),
    )
    back: CallbackData = (
        TagsOf(community_id=community.id)
        if selection.kind is ListKind.TAG
        else SegmentsOf(community_id=community.id)
    )
    builder.button(text=words.back_button(selection.kind), callback_data=back)
    sizes = [turns, 1, 1] if turns else [1, 1]
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(*sizes).export())


def _reference(selection: Selection) -> str:
    return tag_reference(selection.value) if selection.kind is ListKind.TAG else selection.value
