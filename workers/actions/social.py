"""Social posting actions: a post on X, a post on a Facebook Page."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from workers.actions.spec import Action, ActionEnv, ActionInput, Declared


class XPost(ActionInput):
    """A post (optionally a reply), as https://docs.x.com/x-api/posts/creation-of-a-post takes it."""

    text: str = Field(min_length=1, max_length=4_000)
    reply_to: str | None = Field(default=None, pattern=r"^[0-9]{1,19}$")


def _x_body(params: XPost, env: ActionEnv) -> dict[str, Any]:
    body: dict[str, Any] = {"text": params.text}
    if params.reply_to:
        body["reply"] = {"in_reply_to_tweet_id": params.reply_to}
    return body


class PagePost(ActionInput):
    """A Page feed post with an optional link (https://developers.facebook.com/docs/pages-api/posts)."""

    page_id: str = Field(pattern=r"^[0-9]{5,20}$")
    message: str = Field(min_length=1, max_length=63_206)
    link: str | None = Field(default=None, pattern=r"^https://[^\s]+$")


ACTIONS: list[Action] = [
    Declared(
        provider="twitter",
        name="create_post",
        input=XPost,
        path="/tweets",
        body=_x_body,
        outputs={"id": "data.id"},
        description="Publish a post on X as the connected user.",
    ),
    Declared(
        provider="facebook",
        name="create_page_post",
        input=PagePost,
        path="/{page_id}/feed",
        outputs={"id": "id"},
        description="Publish a post on a Facebook Page the connection manages.",
    ),
]
