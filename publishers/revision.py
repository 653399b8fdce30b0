"""Changing a published post where it went out: "Edit everywhere" (its text, its buttons, one media
item) and "Delete everywhere", each target by its platform's `Reviser`, with one outcome per target
as a publication has.

Only the targets where the post was sent (and not deleted since) are reached. What a platform
cannot do is known before anything is sent (`edit_refusal`, `delete_refusal`), so the confirm step
can say it: a caption that no longer fits where it sat, a photo Facebook cannot swap. A webhook's
receiver is sent a signed `edited` or `deleted` event."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass

from telegram import Bot

from i18n import N_
from publishers.base import Outcome
from publishers.facebook import FacebookPagePublisher
from publishers.webhook import WebhookPublisher, deleted_event, edited_event
from storage.models import Content, Delivery, DeliveryStatus, Platform, Post, Target, utc_now


@dataclass(frozen=True)
class Edit:
    """A change of a published post's content: as it went out, and as it should show now."""

    old: Content
    new: Content


class Reviser(ABC):
    """Edits and deletes what a platform's delivery of a post made; never raises for what the
    platform answers, but returns an `Outcome` (sent: done; failed: the reason in words)."""

    def edit_refusal(self, edit: Edit, target: Target, delivery: Delivery) -> str | None:
        """Why this edit cannot be made on the target, known before asking the platform; None if
        it can be tried."""
        return None

    def delete_refusal(self, target: Target, delivery: Delivery) -> str | None:
        """Why the post cannot be deleted on the target, known before asking; None if it can be tried."""
        return None

    @abstractmethod
    async def edit(self, post: Post, target: Target, delivery: Delivery, edit: Edit) -> Outcome:
        """Makes every message of the delivery show `edit.new`."""

    @abstractmethod
    async def delete(self, post: Post, target: Target, delivery: Delivery) -> Outcome:
        """Deletes every message of the delivery."""


class Unrevisable(Reviser):
    """A platform where a sent post cannot be reached again: each request says why."""

    def __init__(self, cannot_edit: str, cannot_delete: str) -> None:
        self.cannot_edit = cannot_edit
        self.cannot_delete = cannot_delete

    def edit_refusal(self, edit: Edit, target: Target, delivery: Delivery) -> str | None:
        return self.cannot_edit

    def delete_refusal(self, target: Target, delivery: Delivery) -> str | None:
        return self.cannot_delete

    async def edit(self, post: Post, target: Target, delivery: Delivery, edit: Edit) -> Outcome:
        return Outcome.permanent("cannot_edit", self.cannot_edit)

    async def delete(self, post: Post, target: Target, delivery: Delivery) -> Outcome:
        return Outcome.permanent("cannot_delete", self.cannot_delete)


class FacebookPageReviser(Reviser):
    """A Page post's text is changed in place (POST /{post-id} with `message`) and the post deleted
    with DELETE /{post-id}; its photos and videos cannot be swapped."""

    def __init__(self, facebook: FacebookPagePublisher) -> None:
        self.facebook = facebook

    def edit_refusal(self, edit: Edit, target: Target, delivery: Delivery) -> str | None:
        return self.facebook.edit_refusal(edit.old, edit.new, delivery)

    async def edit(self, post: Post, target: Target, delivery: Delivery, edit: Edit) -> Outcome:
        return await self.facebook.edit_post(post, target, delivery, edit.new)

    async def delete(self, post: Post, target: Target, delivery: Delivery) -> Outcome:
        return await self.facebook.delete_post(post, target, delivery)


class WebhookReviser(Reviser):
    """A webhook's receiver is told, in a signed event like a post's (README: the `edited` and
    `deleted` bodies), what the post shows now, or that it is to be taken down; media are not sent
    again, so a swapped photo or video cannot reach it."""

    def __init__(self, webhook: WebhookPublisher) -> None:
        self.webhook = webhook

    def edit_refusal(self, edit: Edit, target: Target, delivery: Delivery) -> str | None:
        if [image.blob_id for image in edit.old.images] != [image.blob_id for image in edit.new.images]:
            return N_("a webhook is told of edits without media: a new photo or video can't reach it")
        return None

    async def edit(self, post: Post, target: Target, delivery: Delivery, edit: Edit) -> Outcome:
        event = edited_event(post, target, edit.new, utc_now())
        return await self.webhook.send_event(post, target, event, f"{post.post_id}:{target.target_id}:{post.revision}")

    async def delete(self, post: Post, target: Target, delivery: Delivery) -> Outcome:
        event = deleted_event(post, target, utc_now())
        return await self.webhook.send_event(post, target, event, f"{post.post_id}:{target.target_id}:{post.revision}")


# Why posts handed to their owner cannot be reached again.
BY_HAND_CANNOT_EDIT = N_("posted by hand in a Facebook group: edit it there yourself")
BY_HAND_CANNOT_DELETE = N_("posted by hand in a Facebook group: delete it there yourself")


def build_revisers(bot: Bot, facebook: FacebookPagePublisher, webhook: WebhookPublisher) -> dict[Platform, Reviser]:
    """A reviser for every platform (the ones that cannot change a sent post say so)."""
    from publishers.telegram_revise import TelegramReviser

    return {
        Platform.TELEGRAM: TelegramReviser(bot),
        Platform.FACEBOOK_PAGE: FacebookPageReviser(facebook),
        Platform.WEBHOOK: WebhookReviser(webhook),
        Platform.FACEBOOK_GROUPS: Unrevisable(BY_HAND_CANNOT_EDIT, BY_HAND_CANNOT_DELETE),
    }


@dataclass(frozen=True)
class Reached:
    """One target of a revision: where the post was sent, and what its platform says up front
    (`refusal`: why it cannot be done there) or, once done, what came of it."""

    target: Target
    delivery: Delivery
    refusal: str | None = None
    outcome: Outcome | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None and self.outcome.status is DeliveryStatus.SENT


def sent_targets(post: Post) -> list[tuple[Target, Delivery]]:
    """The post's targets where it was sent and is still there, in the order chosen."""
    found = []
    for target in post.targets:
        delivery = post.deliveries.get(target.target_id)
        if delivery is not None and delivery.status is DeliveryStatus.SENT and delivery.deleted_at is None:
            found.append((target, delivery))
    return found


class Everywhere:
    """Runs an edit or a delete on every target where a post was sent, a few at once."""

    def __init__(self, revisers: dict[Platform, Reviser]) -> None:
        self.revisers = revisers

    def _reviser(self, target: Target) -> Reviser:
        return self.revisers.get(target.platform) or Unrevisable(N_("not supported"), N_("not supported"))

    def plan_edit(self, post: Post, new: Content) -> list[Reached]:
        """Every target the edit would reach, each with why it cannot be made there (or None)."""
        edit = Edit(post.content, new)
        return [
            Reached(target, delivery, self._reviser(target).edit_refusal(edit, target, delivery))
            for target, delivery in sent_targets(post)
        ]

    def plan_delete(self, post: Post) -> list[Reached]:
        """Every target the delete would reach, each with why it cannot be done there (or None)."""
        return [
            Reached(target, delivery, self._reviser(target).delete_refusal(target, delivery))
            for target, delivery in sent_targets(post)
        ]

    async def edit(self, post: Post, new: Content) -> list[Reached]:
        """The edit made on every target where it can be; one outcome each (None where refused up front)."""
        edit = Edit(post.content, new)

        async def one(reached: Reached) -> Reached:
            if reached.refusal is not None:
                return reached
            outcome = await self._reviser(reached.target).edit(post, reached.target, reached.delivery, edit)
            return Reached(reached.target, reached.delivery, outcome=outcome)

        return list(await asyncio.gather(*(one(reached) for reached in self.plan_edit(post, new))))

    async def delete(self, post: Post) -> list[Reached]:
        """The post deleted on every target where it can be; one outcome each."""

        async def one(reached: Reached) -> Reached:
            if reached.refusal is not None:
                return reached
            outcome = await self._reviser(reached.target).delete(post, reached.target, reached.delivery)
            return Reached(reached.target, reached.delivery, outcome=outcome)

        return list(await asyncio.gather(*(one(reached) for reached in self.plan_delete(post))))
