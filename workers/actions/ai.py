"""AI actions: OpenAI chat completions (seed 003's "AI responses", the operator's key)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from workers.actions.spec import Action, ActionEnv, ActionInput, Declared


class ChatCompletion(ActionInput):
    """One prompt (with an optional system instruction) answered by a chat model.

    Follows https://platform.openai.com/docs/api-reference/chat/create.
    """

    model: str = Field(default="gpt-4o-mini", pattern=r"^[a-z0-9][a-z0-9.:_-]{1,63}$")
    prompt: str = Field(min_length=1, max_length=100_000)
    system: str | None = Field(default=None, max_length=20_000)
    max_tokens: int | None = Field(default=None, ge=1, le=100_000)
    temperature: float | None = Field(default=None, ge=0, le=2)


def _chat_body(params: ChatCompletion, env: ActionEnv) -> dict[str, Any]:
    messages = [{"role": "system", "content": params.system}] if params.system else []
    messages.append({"role": "user", "content": params.prompt})
    body: dict[str, Any] = {"model": params.model, "messages": messages}
    if params.max_tokens is not None:
        body["max_completion_tokens"] = params.max_tokens
    if params.temperature is not None:
        body["temperature"] = params.temperature
    return body


ACTIONS: list[Action] = [
    Declared(
        provider="openai",
        name="create_chat_completion",
        input=ChatCompletion,
        path="/chat/completions",
        body=_chat_body,
        outputs={"id": "id", "text": "choices.0.message.content"},
        description="Answer a prompt with an OpenAI chat model (the reply text is returned).",
    ),
]
