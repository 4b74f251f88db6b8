"""Texts of the onboarding questionnaire (/profile) and of /profile_questions, through gettext.

Questions and options are the operators' own words, shown as written; the default ones
are msgids (listed in ``DEFAULT_WORDS`` for the catalogues) and so are shown translated.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from hearth.domain.profile import ProfileOption, ProfileQuestion
from hearth.handlers.texts import quote
from hearth.services.profile import ProfileView

# The default questionnaire's words (domain/profile.py DEFAULT_QUESTIONS), for extraction.
DEFAULT_WORDS = (
    __("Which car do you drive?"),
    __("Sedan"),
    __("SUV"),
    __("Coupe"),
    __("Estate"),
    __("Electric"),
    __("Not yet"),
    __("Where do you live?"),
    __("Shanghai"),
    __("Beijing"),
    __("Shenzhen"),
    __("Guangzhou"),
    __("Hangzhou"),
    __("Elsewhere"),
    __("How long have you owned it?"),
    __("Less than a year"),
    __("1-3 years"),
    __("3-5 years"),
    __("More than 5 years"),
    __("What are you into?"),
    __("Road trip"),
    __("Track day"),
    __("Maintenance"),
    __("Photography"),
    __("Family outing"),
)
BUTTON_PROMPT_LENGTH = 40


def words(text: str) -> str:
    """An operator's words as written, or the translation of a default question's."""
    return _(text) if text else text


def label(option: ProfileOption) -> str:
    return words(option.label)


# -- members


def offer(title: str) -> str:
    return "\n".join(
        [
            _("<b>Tell us a little about yourself?</b>"),
            _("A few taps help {title} plan meet-ups and events you will like. It is "
              "optional: skip anything, and change your answers any time with /profile.").format(
                title=quote(title)
            ),
        ]
    )  # fmt: skip


def fill_in_button() -> str:
    return _("Fill in")


def not_now_button() -> str:
    return _("Not now")


def not_now() -> str:
    return _("All right. You can fill it in any time with /profile.")


def question(view: ProfileView, asked: ProfileQuestion) -> str:
    """One question, with how far along the questionnaire it is."""
    position = view.questions.index(asked) + 1 if asked in view.questions else 1
    lines = [
        _("Question {number} of {total}").format(number=position, total=len(view.questions)),
        f"<b>{quote(words(asked.prompt))}</b>",
    ]
    if asked.multiple:
        lines.append(_("Pick as many as you like, then press Done."))
    return "\n".join(lines)


def option_button(option: ProfileOption, picked: bool) -> str:
    return f"✓ {label(option)}" if picked else label(option)


def skip_button() -> str:
    return _("Skip")


def done_button() -> str:
    return _("Done")


def back_button() -> str:
    return _("Back")


def change_button(asked: ProfileQuestion) -> str:
    prompt = words(asked.prompt)
    if len(prompt) > BUTTON_PROMPT_LENGTH:
        prompt = prompt[: BUTTON_PROMPT_LENGTH - 1] + "…"
    return f"✏️ {prompt}"


def summary(view: ProfileView, *, finished: bool = False) -> str:
    """The member's answers in one community, for /profile and at the questionnaire's end."""
    lines = [_("Thank you!"), ""] if finished else []
    lines.append(_("<b>Your profile in {title}</b>").format(title=quote(view.community.title)))
    if not view.questions:
        lines.append(_("{title} asks no questions at the moment.").format(
            title=quote(view.community.title)
        ))  # fmt: skip
        return "\n".join(lines)
    for asked, options in view.answers:
        answer = ", ".join(label(option) for option in options) if options else "—"
        lines.append(f"• {quote(words(asked.prompt))} <b>{quote(answer)}</b>")
    lines += [
        "",
        _("Change an answer with the buttons below. Your answers help the team of your "
          "community; /forget_me erases them."),
    ]  # fmt: skip
    return "\n".join(lines)


def summary_line(view: ProfileView) -> str:
    """The answers in one line, for /me."""
    answers = [label(option) for _, options in view.answers for option in options]
    if not answers:
        return _("Your profile: not filled in yet — /profile")
    return _("Your profile: {answers} — /profile").format(answers=quote(", ".join(answers)))


def profile_in_private() -> str:
    return _("Your profile is between you and me: send /profile to me in private.")


# -- operators


def questions_overview(title: str, asked: Sequence[ProfileQuestion]) -> str:
    lines = [_("<b>Profile questions of {title}</b>").format(title=quote(title))]
    if not asked:
        lines.append(_("No questions: members are not asked anything."))
    for number, each in enumerate(asked, start=1):
        kind = _("several answers") if each.multiple else _("one answer")
        lines.append(
            f"{number}. <code>{quote(each.key)}</code> ({kind}): {quote(words(each.prompt))}"
        )
        options = ", ".join(label(option) for option in each.options) or "—"
        lines.append(f"    {quote(options)}")
    lines += [
        "",
        _("Answers are tags such as <code>city:shanghai</code>: find them in /tags and "
          "/tagged, segments and exports."),
        "",
        questions_usage(),
    ]  # fmt: skip
    return "\n".join(lines)


def questions_usage() -> str:
    return "\n".join(
        [
            _("Change them in private:"),
            _("/profile_questions add KEY Question — a question with one answer"),
            _("/profile_questions add_multi KEY Question — a question with several answers"),
            _("/profile_questions option KEY Label — add an option"),
            _("/profile_questions drop_option KEY Label — remove an option"),
            _("/profile_questions remove KEY — stop asking a question"),
            _("KEY: up to 12 letters a–z, digits or hyphens, e.g. city."),
        ]
    )


def questions_changed(title: str, asked: Sequence[ProfileQuestion]) -> str:
    return _("Done.") + "\n\n" + questions_overview(title, asked)


def bad_question(reason: str) -> str:
    if reason == "key":
        return _("A key is 1 to 12 letters a–z, digits or hyphens, e.g. city or owner-years.")
    if reason == "prompt":
        return _("A question needs a text of at most 200 characters.")
    if reason == "label":
        return _("An option needs a label of at most 40 characters with a letter or digit.")
    if reason == "too_many":
        return _("That is as many as a questionnaire can hold: remove one first.")
    if reason == "duplicate":
        return _("There is one by that name already.")
    return _("There is no such question or option. Send /profile_questions to see them.")


def questions_in_private() -> str:
    return _("Send /profile_questions to me in private.")
